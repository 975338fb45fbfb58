"""Runtime parameters, retry policies, timeouts, resources and exit handlers: the authoring API, its
eager checks, and what the IR carries."""

from __future__ import annotations

import json

import pytest

from headrace import DefinitionError, FinalStatusStr, Parameter, Pipeline, RuntimeParameter, component
from headrace.compiler import compile_pipeline, load
from headrace.errors import IRError


@component
def train(epochs: Parameter[int], rate: Parameter[float] = 0.1, name: Parameter[str] = "m") -> None:
    pass


@component
def notify(status: Parameter[str]) -> None:
    pass


def test_settings_reach_the_ir_and_survive_a_round_trip(tmp_path):
    epochs = RuntimeParameter("epochs", int, default=3, description="passes over the data")
    node = train(epochs=epochs, rate=RuntimeParameter("rate", float))
    node.with_retry(2, backoff_seconds=1.5, backoff_factor=3, max_backoff_seconds=10)
    node.with_timeout(30).with_resources(cpu=0.5, memory="1Gi", accelerator="nvidia-tesla-t4", accelerator_count=2)
    ir = compile_pipeline(Pipeline("p", str(tmp_path), [node], exit_handler=notify(status=FinalStatusStr())))
    assert load(ir.dump()) == ir
    first, handler = ir.nodes
    assert first.parameters == {"epochs": {"$runtime_parameter": "epochs"}, "rate": {"$runtime_parameter": "rate"}}
    assert first.retry == {"max_retries": 2, "backoff_seconds": 1.5, "backoff_factor": 3.0, "max_backoff_seconds": 10.0}
    assert first.timeout_seconds == 30.0
    assert first.resources == {"cpu": "0.5", "memory": "1Gi", "accelerator": "nvidia-tesla-t4", "accelerator_count": 2}
    assert ir.runtime_parameters == {
        "epochs": {"ptype": "int", "default": 3, "description": "passes over the data"},
        "rate": {"ptype": "float"},
    }
    assert handler.exit_handler and handler.upstream == ("train",)
    assert handler.parameters == {"status": {"$final_status": True}}


def test_a_plain_pipeline_writes_none_of_the_new_fields(tmp_path):
    text = compile_pipeline(Pipeline("p", str(tmp_path), [train(epochs=1)])).dump()
    for field in ("retry", "timeout_seconds", "resources", "exit_handler", "runtime_parameters"):
        assert f'"{field}"' not in text


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: train(epochs=RuntimeParameter("e", str)), "expects int"),
        (lambda: train(epochs=1, name=RuntimeParameter("n", int)), "expects str"),
        (lambda: RuntimeParameter("bad name", int), "not valid"),
        (lambda: RuntimeParameter("x", list), "ptype must be int, float, str or bool"),
        (lambda: RuntimeParameter("x", int, default="ten"), "is an int"),
        (lambda: train(epochs=1).with_retry(-1), "max_retries"),
        (lambda: train(epochs=1).with_retry(1, backoff_factor=0.5), "at least 1"),
        (lambda: train(epochs=1).with_timeout(0), "with_timeout"),
        (lambda: train(epochs=1).with_resources(cpu="two"), "cpu"),
        (lambda: train(epochs=1).with_resources(memory="lots"), "memory"),
        (lambda: train(epochs=1).with_resources(accelerator_count=1), "needs accelerator"),
        (lambda: train(epochs=1).with_resources(), "at least one"),
        (lambda: train(epochs=FinalStatusStr()), "not a str"),
    ],
)
def test_bad_settings_are_refused_when_written(build, message):
    with pytest.raises(DefinitionError, match=message):
        build()


def test_a_runtime_parameter_of_int_stands_for_a_float(tmp_path):
    ir = compile_pipeline(Pipeline("p", str(tmp_path), [train(epochs=1, rate=RuntimeParameter("r", int, default=1))]))
    assert ir.runtime_parameters == {"r": {"ptype": "int", "default": 1}}


def test_one_name_declared_two_ways_is_refused(tmp_path):
    a = train(epochs=RuntimeParameter("e", int, default=1)).with_id("a")
    b = train(epochs=RuntimeParameter("e", int, default=2)).with_id("b")
    with pytest.raises(DefinitionError, match="declared twice"):
        compile_pipeline(Pipeline("p", str(tmp_path), [a, b]))


def test_final_status_outside_an_exit_handler_is_refused(tmp_path):
    with pytest.raises(DefinitionError, match="only an exit handler"):
        compile_pipeline(Pipeline("p", str(tmp_path), [notify(status=FinalStatusStr())]))


def test_an_exit_handler_takes_no_inputs_from_the_pipeline(tmp_path):
    first = train(epochs=1)
    handler = notify(status=FinalStatusStr()).add_upstream_node(first)
    with pytest.raises(DefinitionError, match="takes no inputs"):
        Pipeline("p", str(tmp_path), [first], exit_handler=handler)
    with pytest.raises(DefinitionError, match="also a node"):
        Pipeline("p", str(tmp_path), [first], exit_handler=first)


@pytest.mark.parametrize(
    "field, value",
    [("retry", {"max_retries": "3"}), ("retry", {"tries": 3}), ("resources", {"cpu": 2}), ("timeout_seconds", "9")],
)
def test_a_malformed_setting_in_the_ir_is_an_ir_error(tmp_path, field, value):
    data = compile_pipeline(Pipeline("p", str(tmp_path), [train(epochs=1)])).to_dict()
    data["nodes"][0][field] = value
    with pytest.raises(IRError, match=field if field != "retry" else "retry"):
        load(json.dumps(data))


def test_a_version_2_ir_still_reads(tmp_path):
    data = compile_pipeline(Pipeline("p", str(tmp_path), [train(epochs=1)])).to_dict()
    data["ir_version"] = 2
    assert load(json.dumps(data)).nodes[0].id == "train"
