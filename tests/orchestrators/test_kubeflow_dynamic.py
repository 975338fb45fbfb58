"""Dynamic parameters on Kubeflow: `future()[0].value` as a task output parameter (as TFX's Kubeflow V2
compiler compiles it), the entrypoint writing and reading it, and clear refusals of what KFP cannot compute."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headrace import Importer, OutputArtifact, OutputDict, Parameter, Pipeline, component
from headrace.compiler import compile_pipeline
from headrace.dsl import placeholders as ph
from headrace.entrypoint import main as entrypoint
from headrace.errors import DefinitionError
from headrace.orchestrators import KubeflowV2DagRunner
from headrace.orchestrators._kfp_spec import encode_node
from headrace.types import standard_artifacts as sa

pytestmark = pytest.mark.heavy_imports  # kfp's protos


@component
def Count(start: Parameter[int], num: OutputArtifact[sa.Integer], name: OutputArtifact[sa.String]):
    num.value = start + 1
    name.value = f"n{start}"


@component
def Use(count: Parameter[int], label: Parameter[str] = "") -> OutputDict(out=str):  # type: ignore[valid-type]
    return {"out": f"{count}|{label}"}


def _compiled(tmp_path: Path, *components) -> dict:
    ir = compile_pipeline(Pipeline("dynk", "/root", list(components)))
    return KubeflowV2DagRunner(output_dir=str(tmp_path)).run(ir)


def test_a_future_value_becomes_a_task_output_parameter_of_the_producer(tmp_path):
    count = Count(start=1)
    use = Use(count=count.outputs["num"].future()[0].value, label=count.outputs["name"].future()[0].value)
    data = _compiled(tmp_path, count, use)
    task = data["root"]["dag"]["tasks"]["use"]
    assert task["inputs"]["parameters"]["count"] == {
        "taskOutputParameter": {"outputParameterKey": "value__num", "producerTask": "count"}
    }
    assert task["inputs"]["parameters"]["label"]["taskOutputParameter"]["outputParameterKey"] == "value__name"
    assert task["dependentTasks"] == ["count"]
    inputs = data["components"]["comp-use"]["inputDefinitions"]["parameters"]
    assert inputs["count"]["parameterType"] == "NUMBER_INTEGER" and inputs["label"]["parameterType"] == "STRING"
    outputs = data["components"]["comp-count"]["outputDefinitions"]["parameters"]
    assert outputs == {"value__name": {"parameterType": "STRING"}, "value__num": {"parameterType": "NUMBER_INTEGER"}}
    # kfp's own loader reads the package back
    from kfp import components

    loaded = components.load_component_from_file(str(tmp_path / "pipeline.json"))
    assert loaded.name == "dynk"


@pytest.mark.parametrize(
    ("param", "words"),
    [
        (lambda c: {"label": "id-" + c.outputs["name"].future()[0].value}, "takes an upstream value only as it is"),
        (lambda c: {"label": c.outputs["name"].future()[0].uri}, "takes an upstream value only as it is"),
        (lambda c: {"label": c.outputs["name"].future()[0].value.b64encode()}, "only as it is"),
    ],
    ids=["concat", "uri", "b64encode"],
)
def test_what_kfp_cannot_compute_is_refused_naming_node_parameter_and_expression(tmp_path, param, words):
    count = Count(start=1)
    use = Use(count=1, **param(count))
    with pytest.raises(DefinitionError, match=words) as info:
        _compiled(tmp_path, count, use)
    assert "Kubeflow cannot pass parameter 'label' of 'Use' = " in str(info.value)
    assert "LocalDagRunner, BeamDagRunner and Airflow resolve" in str(info.value)


def test_a_value_kfp_parameters_cannot_hold_and_an_importer_producer_are_refused(tmp_path):
    @component
    def Json(data: OutputArtifact[sa.JsonValue]):
        data.value = {"epochs": 3}

    @component
    def TakeDict(config: Parameter[dict]) -> OutputDict(out=str):  # type: ignore[valid-type]
        return {"out": json.dumps(config)}

    @component
    def TakeStr(value: Parameter[str] = "") -> OutputDict(out=str):  # type: ignore[valid-type]
        return {"out": value}

    made = Json()
    with pytest.raises(DefinitionError, match="it reads a JsonValue, and KFP passes the values of Integer, Float"):
        _compiled(tmp_path, made, TakeDict(config=made.outputs["data"].future()[0].value))
    imported = Importer(source_uri="/data/n", artifact_type=sa.String)
    with pytest.raises(
        DefinitionError, match="'Importer' is no Python step \\(importer\\) and writes no KFP output parameter"
    ):
        _compiled(tmp_path, imported, TakeStr(value=imported.outputs["result"].future()[0].value))


def test_the_run_id_is_the_entrypoints_run_id_and_a_container_gets_kfps_placeholder(tmp_path):
    from headrace.dsl import create_container_component

    count = Count(start=1)
    use = Use(count=count.outputs["num"].future()[0].value, label=ph.execution_invocation().pipeline_run_id)
    Echo = create_container_component(
        name="Echo", image="alpine", command=["echo", ph.exec_property("run")], parameters={"run": str}
    )
    echo = Echo(run=ph.execution_invocation().pipeline_run_id)
    data = _compiled(tmp_path, count, use, echo)
    assert "label" not in data["root"]["dag"]["tasks"]["use"]["inputs"]["parameters"]  # the entrypoint knows it
    assert data["deploymentSpec"]["executors"]["exec-echo"]["container"]["command"] == [
        "echo",
        "{{$.pipeline_job_name}}",
    ]


# -- the entrypoint: the producer writes the value, the consumer reads it ------------------------------------
def _executor_input(tmp_path: Path, outputs: list[str], parameters: dict, output_parameters: list[str] = ()) -> dict:
    return {
        "inputs": {"parameterValues": parameters},
        "outputs": {
            "artifacts": {k: {"artifacts": [{"name": k, "uri": str(tmp_path / k)}]} for k in outputs},
            "parameters": {k: {"outputFile": str(tmp_path / "params" / k)} for k in output_parameters},
            "outputFile": str(tmp_path / "executor_output.json"),
        },
    }


def test_the_producer_writes_its_value_parameters_and_the_consumer_takes_them(tmp_path):
    count = Count(start=1)
    use = Use(count=count.outputs["num"].future()[0].value, label=ph.execution_invocation().pipeline_run_id)
    ir = compile_pipeline(Pipeline("dynk", str(tmp_path), [count, use]))

    produced = _executor_input(tmp_path / "count", ["num", "name"], {"start": 1.0}, ["value__num", "value__name"])
    code = entrypoint(["kfp", "--executor-input", json.dumps(produced), "--node-ir", encode_node(ir, ir.node("Count"))])
    assert code == 0
    written = json.loads((tmp_path / "count" / "executor_output.json").read_text())
    assert written["parameterValues"] == {"value__name": "n1", "value__num": 2}
    assert (tmp_path / "count" / "params" / "value__num").read_text() == "2"

    consumed = _executor_input(tmp_path / "use", ["out"], {"count": 2.0})  # KFP's numbers are doubles
    args = ["--node-ir", encode_node(ir, ir.node("Use")), "--run-id", "job-7"]
    assert entrypoint(["kfp", "--executor-input", json.dumps(consumed), *args]) == 0
    out = json.loads((tmp_path / "use" / "executor_output.json").read_text())
    assert out["artifacts"]["out"]["artifacts"][0]["metadata"]["value"] == "2|job-7"

    missing = _executor_input(tmp_path / "use2", ["out"], {})
    assert entrypoint(["kfp", "--executor-input", json.dumps(missing), *args]) == 1  # no value: fails, says so


def test_a_condition_comparing_two_futures_is_cel_over_both_producers_artifacts(tmp_path):
    from headrace import Cond

    first, second = Count(start=1), Count(start=2).with_id("Second")
    with Cond(first.outputs["num"].future()[0].value < second.outputs["num"].future()[0].value):
        use = Use(count=1)
    data = _compiled(tmp_path, first, second, use)
    task = data["root"]["dag"]["tasks"]["use"]
    assert task["triggerPolicy"]["condition"] == (
        "inputs.artifacts['condition__Count__num'].artifacts[0].metadata['value'] < "
        "inputs.artifacts['condition__Second__num'].artifacts[0].metadata['value']"
    )
    assert set(task["inputs"]["artifacts"]) == {"condition__Count__num", "condition__Second__num"}
    assert sorted(task["dependentTasks"]) == ["count", "second"]
