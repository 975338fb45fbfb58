"""The compiler and the IR: round trips, versioning, structure, golden files, big pipelines.

Golden files live in tests/golden/. After an intended IR change, regenerate them with

    HEADRACE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/compiler/test_ir.py

and review the diff before committing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from headrace import (
    Channel,
    Importer,
    InputArtifact,
    LatestBlessedModelStrategy,
    OutputArtifact,
    OutputDict,
    Parameter,
    Pipeline,
    Resolver,
    component,
)
from headrace.cli.loader import load_file_as_module
from headrace.compiler import IR_VERSION, Compiler, PipelineIR, compile_pipeline, dump, load
from headrace.errors import IRError
from headrace.metadata import sqlite_metadata_connection_config
from headrace.metadata.config import connection_config_from_dict
from headrace.types import standard_artifacts

TESTS_DIR = Path(__file__).resolve().parent.parent
REPO = TESTS_DIR.parent
GOLDEN_DIR = TESTS_DIR / "golden"
PIPELINES_DIR = REPO / "pipelines"
GOLDEN_ROOT = "/golden/root"
EXAMPLE_PIPELINES = ["hello_pipeline", "container_pipeline"]


@component
def Source(examples: OutputArtifact[standard_artifacts.Examples], seed: Parameter[int] = 0):
    pass


@component
def Step(examples: InputArtifact[standard_artifacts.Examples], out: OutputArtifact[standard_artifacts.Examples]):
    pass


@component
def Fit(
    examples: InputArtifact[standard_artifacts.Examples],
    model: OutputArtifact[standard_artifacts.Model],
    labels: InputArtifact[standard_artifacts.ExternalArtifact] = None,
) -> OutputDict(loss=float):
    return {"loss": 0.0}


@component
def Check(
    model: InputArtifact[standard_artifacts.Model],
    loss: float,
    blessing: OutputArtifact[standard_artifacts.ModelBlessing],
):
    pass


def _load_example(name: str):
    return load_file_as_module(str(PIPELINES_DIR / f"{name}.py"))


def _example_ir(name: str, root: str = GOLDEN_ROOT) -> PipelineIR:
    return compile_pipeline(_load_example(name).create_pipeline(pipeline_root=root))


def _assert_topological(ir: PipelineIR) -> None:
    seen: set[str] = set()
    for node in ir.nodes:
        for up in node.upstream:
            assert up in seen, f"{node.id} comes before its upstream {up}"
        for key, inp in node.inputs.items():
            if inp.producer is not None:
                assert inp.producer in seen, f"{node.id}.{key} comes before its producer {inp.producer}"
                assert inp.producer in node.upstream
        assert node.id not in seen, f"duplicate node {node.id}"
        seen.add(node.id)


# -- round trips and versioning ------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLE_PIPELINES)
def test_load_dump_round_trip_of_the_example_pipelines(name, tmp_path):
    ir = _example_ir(name, str(tmp_path / "root"))
    text = dump(ir)
    again = load(text)
    assert again == ir
    assert dump(again) == text  # deterministic text
    assert PipelineIR.from_dict(ir.to_dict()) == ir
    assert again.ir_version == IR_VERSION
    _assert_topological(ir)


def test_compiler_class_is_compile_pipeline():
    pipeline = _load_example("hello_pipeline").create_pipeline(pipeline_root=GOLDEN_ROOT)
    assert Compiler().compile(pipeline) == compile_pipeline(pipeline)


@pytest.mark.parametrize("version", [0, 1, IR_VERSION + 1, str(IR_VERSION), None])
def test_wrong_ir_version_is_an_ir_error(version):
    data = _example_ir("container_pipeline").to_dict()
    data["ir_version"] = version
    with pytest.raises(IRError) as err:
        load(json.dumps(data))
    msg = str(err.value)
    assert f"IR version {version!r} is not supported" in msg
    assert f"reads version {IR_VERSION}" in msg
    assert "recompile" in msg


def test_missing_ir_version_is_an_ir_error():
    data = _example_ir("container_pipeline").to_dict()
    del data["ir_version"]
    with pytest.raises(IRError, match="IR version None is not supported"):
        load(json.dumps(data))


@pytest.mark.parametrize("text", ["", "{", "{'ir_version': 1}", '{"ir_version": 1,}', "nodes: []"])
def test_malformed_json_is_an_ir_error(text):
    with pytest.raises(IRError, match="The IR is not valid JSON"):
        load(text)


@pytest.mark.parametrize("text", ["[]", "1", '"ir"', "null"])
def test_json_that_is_not_an_object_is_an_ir_error(text):
    with pytest.raises(IRError, match="The IR must be a JSON object"):
        load(text)


@pytest.mark.parametrize("field", ["nodes", "pipeline_name", "pipeline_root"])
def test_missing_top_level_field_is_an_ir_error(field):
    data = _example_ir("container_pipeline").to_dict()
    del data[field]
    with pytest.raises(IRError, match=f"Malformed IR: missing or wrong field '{field}'"):
        load(json.dumps(data))


def test_missing_node_field_is_an_ir_error():
    data = _example_ir("container_pipeline").to_dict()
    del data["nodes"][1]["executor"]
    with pytest.raises(IRError, match="Malformed IR: missing or wrong field 'executor'"):
        load(json.dumps(data))
    data = _example_ir("container_pipeline").to_dict()
    data["nodes"] = 5
    with pytest.raises(IRError, match="Malformed IR"):
        load(json.dumps(data))


@pytest.mark.parametrize("field", ["inputs", "outputs"])
def test_wrongly_shaped_node_field_is_an_ir_error(field):
    data = _example_ir("container_pipeline").to_dict()
    data["nodes"][0][field] = []
    with pytest.raises(IRError, match="Malformed IR"):
        load(json.dumps(data))


# -- structure ---------------------------------------------------------------------------------------


def test_hello_pipeline_structure():
    ir = _example_ir("hello_pipeline")
    assert ir.pipeline_name == "hello"
    assert ir.pipeline_root == GOLDEN_ROOT
    assert ir.enable_cache is True
    ids = [n.id for n in ir.nodes]
    assert sorted(ids) == sorted(["MakeExamples", "HelloComponent", "labels", "Train", "Validate"])
    _assert_topological(ir)
    assert ids.index("Validate") == 4
    assert ids.index("MakeExamples") < ids.index("HelloComponent") < ids.index("Train")

    assert ir.node("MakeExamples").upstream == ()
    assert sorted(ir.node("Train").upstream) == ["HelloComponent", "labels"]
    assert sorted(ir.node("Validate").upstream) == ["HelloComponent", "Train"]

    train = ir.node("Train")
    assert (train.inputs["examples"].producer, train.inputs["examples"].output_key) == ("HelloComponent", "output_data")
    assert (train.inputs["labels"].producer, train.inputs["labels"].output_key) == ("labels", "result")
    assert train.inputs["labels"].artifact_type.name == "ExternalArtifact"
    assert train.kind == "python_function"
    validate = ir.node("Validate")
    assert validate.parameters == {"accuracy_threshold": 0.8}
    assert set(validate.outputs) == {"blessing", "accuracy"}
    assert validate.outputs["accuracy"].artifact_type.name == "Float"
    assert ir.node("HelloComponent").kind == "python_class"
    assert ir.node("HelloComponent").parameters == {"name": "headrace"}
    labels = ir.node("labels")
    assert labels.kind == "importer"
    assert labels.parameters["artifact_type"] == "ExternalArtifact"
    assert labels.outputs["result"].artifact_type.name == "ExternalArtifact"


def test_node_order_is_topological_whatever_the_listed_order():
    src = Source()
    a = Step(examples=src.outputs["examples"]).with_id("a")
    b = Step(examples=a.outputs["out"]).with_id("b")
    fit = Fit(examples=b.outputs["out"])
    check = Check(model=fit.outputs["model"], loss=fit.outputs["loss"])
    for listed in ([check], [check, fit, b, a, src], [b, src, check, a, fit]):
        ir = compile_pipeline(Pipeline("p", "/root", listed))
        assert [n.id for n in ir.nodes] == ["Source", "a", "b", "Fit", "Check"]
    assert ir.node("Check").upstream == ("Fit",)  # two inputs from one producer: listed once
    assert ir.node("Check").inputs["loss"].output_key == "loss"
    assert ir.node("Check").inputs["model"].output_key == "model"


def test_explicit_upstream_nodes_appear_in_the_ir():
    first, second = Source().with_id("first"), Source().with_id("second")
    fit = Fit(examples=second.outputs["examples"])
    fit.add_upstream_node(first)
    ir = compile_pipeline(Pipeline("p", "/root", [fit]))
    assert ir.node("Fit").upstream == ("second", "first")
    assert set(ir.node("Fit").inputs) == {"examples"}
    _assert_topological(ir)


def test_optional_inputs_are_marked():
    src = Source()
    labels = Importer(source_uri="/data/labels", artifact_type=standard_artifacts.ExternalArtifact)
    without = compile_pipeline(Pipeline("p", "/root", [Fit(examples=src.outputs["examples"])]))
    assert set(without.node("Fit").inputs) == {"examples"}
    assert without.node("Fit").inputs["examples"].optional is False
    fit = Fit(examples=src.outputs["examples"], labels=labels.outputs["result"])
    with_labels = compile_pipeline(Pipeline("p", "/root", [fit]))
    assert with_labels.node("Fit").inputs["labels"].optional is True
    assert with_labels.node("Fit").inputs["labels"].producer == "Importer"
    assert load(dump(with_labels)) == with_labels


def test_resolver_inputs_have_no_producer():
    resolver = Resolver(
        strategy_class=LatestBlessedModelStrategy,
        model=Channel(type=standard_artifacts.Model),
        model_blessing=Channel(type=standard_artifacts.ModelBlessing),
    ).with_id("latest")
    fit = Fit(examples=Source().outputs["examples"])
    check = Check(model=resolver.outputs["model"], loss=fit.outputs["loss"])
    ir = compile_pipeline(Pipeline("p", "/root", [check]))
    node = ir.node("latest")
    assert node.kind == "resolver"
    assert node.inputs["model"].producer is None and node.inputs["model"].output_key is None
    assert node.parameters == {"strategy": "latest_blessed_model"}
    assert (ir.node("Check").inputs["model"].producer, ir.node("Check").inputs["model"].output_key) == (
        "latest",
        "model",
    )
    assert load(dump(ir)) == ir


def test_renames_after_pipeline_construction_are_compiled():
    src = Source()
    fit = Fit(examples=src.outputs["examples"])
    pipeline = Pipeline("p", "/root", [fit])
    src.with_id("renamed_source")
    ir = compile_pipeline(pipeline)
    assert [n.id for n in ir.nodes] == ["renamed_source", "Fit"]
    assert ir.node("Fit").inputs["examples"].producer == "renamed_source"
    assert ir.node("Fit").upstream == ("renamed_source",)


def test_per_component_enable_cache_appears_in_the_ir():
    src = Source()
    fit = Fit(examples=src.outputs["examples"]).with_enable_cache(False)
    check = Check(model=fit.outputs["model"], loss=fit.outputs["loss"]).with_enable_cache(True)
    ir = compile_pipeline(Pipeline("p", "/root", [check], enable_cache=True))
    assert ir.enable_cache is True
    assert ir.node("Source").enable_cache is None  # follows the pipeline
    assert ir.node("Fit").enable_cache is False
    assert ir.node("Check").enable_cache is True
    data = json.loads(dump(ir))
    assert [n["enable_cache"] for n in data["nodes"]] == [None, False, True]
    again = load(dump(ir))
    assert [n.enable_cache for n in again.nodes] == [None, False, True]
    assert compile_pipeline(Pipeline("p", "/root", [check])).enable_cache is True  # the default
    assert compile_pipeline(Pipeline("p", "/root", [check], enable_cache=False)).enable_cache is False


def test_metadata_connection_is_serialized(tmp_path):
    db = tmp_path / "md" / "store.sqlite"
    config = sqlite_metadata_connection_config(db)
    ir = compile_pipeline(
        Pipeline("p", str(tmp_path), [Source()], metadata_connection_config=config, beam_pipeline_args=["--a=1"])
    )
    assert ir.metadata_connection == {"sqlite": {"filename_uri": str(db), "connection_mode": "READWRITE_OPENCREATE"}}
    assert ir.beam_pipeline_args == ("--a=1",)
    again = load(dump(ir))
    assert again == ir
    assert connection_config_from_dict(again.metadata_connection, again.pipeline_root) == config


def test_no_metadata_connection_is_null_and_means_the_default(tmp_path):
    ir = compile_pipeline(Pipeline("p", str(tmp_path), [Source()]))
    assert ir.metadata_connection is None
    assert json.loads(dump(ir))["metadata_connection"] is None
    default = connection_config_from_dict(ir.metadata_connection, ir.pipeline_root)
    assert default == sqlite_metadata_connection_config(tmp_path / "metadata.sqlite")


def test_parameters_and_pipeline_root_path_like(tmp_path):
    ir = compile_pipeline(Pipeline("p", tmp_path / "root", [Source(seed=3)]))
    assert ir.pipeline_root == str(tmp_path / "root")
    assert ir.node("Source").parameters == {"seed": 3}
    executor = ir.node("Source").executor
    assert executor["kind"] == "python_function"
    assert (executor["module"], executor["qualname"]) == (__name__, "Source")
    assert "payload" in executor  # a test module is no installed module: it travels by value
    assert len(executor["code"]) == 64


def test_downstream_closure():
    src = Source()
    a = Step(examples=src.outputs["examples"]).with_id("a")
    b = Step(examples=src.outputs["examples"]).with_id("b")
    c = Step(examples=a.outputs["out"]).with_id("c")
    ir = compile_pipeline(Pipeline("p", "/root", [b, c]))
    assert ir.downstream_closure({"a"}) == {"a", "c"}
    assert ir.downstream_closure({"Source"}) == {"Source", "a", "b", "c"}
    assert ir.downstream_closure({"b", "c"}) == {"b", "c"}
    with pytest.raises(KeyError):
        ir.node("nope")


# -- golden files -----------------------------------------------------------------------------------


def _repo_roots() -> list[str]:
    roots = {str(REPO), str(Path(os.path.abspath(__file__)).parent.parent.parent)}
    return sorted(roots, key=len, reverse=True)


def _normalized(text: str) -> str:
    """Repo paths replaced, and the pickled bytes of code shipped by value left out (they hold file
    names); the code's fingerprint and source stay, so a change to the code shows."""
    data = json.loads(text)
    for node in data["nodes"]:
        payload = node["executor"].get("payload")
        if payload:
            payload.update(data="<pickled>", digest="<digest>")
    text = json.dumps(data, indent=2, sort_keys=True)
    for root in _repo_roots():
        text = text.replace(root, "<REPO>")
    return text


@pytest.mark.parametrize("name", EXAMPLE_PIPELINES)
def test_golden_ir(name):
    ir = _example_ir(name)
    text = _normalized(dump(ir)) + "\n"
    for root in _repo_roots():
        assert root not in text
    golden = GOLDEN_DIR / f"{name}.json"
    if os.environ.get("HEADRACE_UPDATE_GOLDEN") == "1":
        GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"{golden} is missing; generate it with HEADRACE_UPDATE_GOLDEN=1"
    expected_text = golden.read_text(encoding="utf-8")
    assert json.loads(text) == json.loads(expected_text), (
        f"The IR of pipelines/{name}.py changed. If intended, regenerate with HEADRACE_UPDATE_GOLDEN=1 and review."
    )
    # The golden document is itself a valid IR that reads back to the compiled pipeline.
    golden_ir = load(expected_text.replace("<REPO>", str(REPO)))
    assert golden_ir == load(text.replace("<REPO>", str(REPO)))
    assert golden_ir.pipeline_root == GOLDEN_ROOT


def test_golden_files_hold_no_machine_specific_paths():
    for name in EXAMPLE_PIPELINES:
        text = (GOLDEN_DIR / f"{name}.json").read_text(encoding="utf-8")
        data = json.loads(text)
        assert data["pipeline_root"] == GOLDEN_ROOT
        for root in _repo_roots():
            assert root not in text
        assert "/tmp" not in text and "/home/" not in text


# -- big pipelines -----------------------------------------------------------------------------------


def test_compile_a_1000_node_chain():
    nodes = [Source().with_id("n0")]
    for i in range(1, 1000):
        prev = nodes[-1]
        key = "examples" if i == 1 else "out"
        nodes.append(Step(examples=prev.outputs[key]).with_id(f"n{i}"))
    pipeline = Pipeline("chain", "/root", [nodes[-1]])  # everything else is reached upstream
    ir = compile_pipeline(pipeline)
    assert [n.id for n in ir.nodes] == [f"n{i}" for i in range(1000)]
    assert ir.node("n999").upstream == ("n998",)
    assert load(dump(ir)) == ir
    assert ir.downstream_closure({"n500"}) == {f"n{i}" for i in range(500, 1000)}


def test_compile_a_1000_node_fan_out():
    src = Source()
    consumers = [Step(examples=src.outputs["examples"]).with_id(f"c{i}") for i in range(999)]
    ir = compile_pipeline(Pipeline("fan", "/root", consumers[::-1]))
    assert len(ir.nodes) == 1000
    assert ir.nodes[0].id == "Source"
    assert [n.id for n in ir.nodes[1:]] == [f"c{i}" for i in range(998, -1, -1)]  # listed order kept
    assert all(n.upstream == ("Source",) for n in ir.nodes[1:])
    assert load(dump(ir)) == ir


def test_compile_a_1000_node_layered_graph():
    width, depth = 100, 10
    layers = [[Source().with_id(f"L0_{j}") for j in range(width)]]
    for d in range(1, depth):
        prev = layers[-1]
        layer = []
        for j in range(width):
            key = "examples" if d == 1 else "out"
            node = Step(examples=prev[j].outputs[key]).with_id(f"L{d}_{j}")
            node.add_upstream_node(prev[(j + 1) % width])
            layer.append(node)
        layers.append(layer)
    listed = [n for layer in reversed(layers) for n in layer]
    ir = compile_pipeline(Pipeline("layers", "/root", listed))
    assert len(ir.nodes) == width * depth
    _assert_topological(ir)
    assert sorted(ir.node("L5_99").upstream) == ["L4_0", "L4_99"]
    assert load(dump(ir)) == ir


def test_compile_a_wide_fan_in():
    sink = Source().with_id("sink")
    ups = [Source().with_id(f"u{i}") for i in range(150)]
    for up in ups:
        sink.add_upstream_node(up)
    ir = compile_pipeline(Pipeline("fanin", "/root", [sink]))
    assert [n.id for n in ir.nodes] == [f"u{i}" for i in range(150)] + ["sink"]
    assert ir.node("sink").upstream == tuple(f"u{i}" for i in range(150))
