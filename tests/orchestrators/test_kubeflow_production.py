"""The road to Kubeflow: Resolvers as KFP resolver executors (the main job compiles and loads back), and
retries, resources, runtime parameters, timeouts and the exit handler in the compiled PipelineSpec and in
the container entrypoint that runs each task. No cluster runs here: the files are checked field by field
and loaded back with the kfp SDK; the entrypoint runs as KFP's launcher would start it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from headrace import (
    Channel,
    DefinitionError,
    FinalStatusStr,
    InputArtifact,
    OutputArtifact,
    Parameter,
    Pipeline,
    Resolver,
    RuntimeParameter,
    component,
)
from headrace.cli.loader import load_file_as_module
from headrace.compiler import compile_pipeline
from headrace.dsl import LatestArtifactStrategy, SpanRangeStrategy
from headrace.entrypoint import main as entrypoint
from headrace.orchestrators._kfp_spec import encode_node
from headrace.orchestrators.kubeflow_v2_dag_runner import compile_kubeflow
from headrace.types import standard_artifacts
from headrace.types.standard_artifacts import String

REPO = Path(__file__).resolve().parents[2]
RESOLVER = "latest-blessed-model-resolver"


def _compile(pipeline: Pipeline, tmp_path: Path) -> dict:
    path = tmp_path / "p.yaml"
    compile_kubeflow(compile_pipeline(pipeline), str(path))
    import kfp

    kfp.components.load_component_from_file(str(path))  # kfp's own loader accepts it
    return yaml.safe_load(path.read_text())


@component
def train(out: OutputArtifact[String], epochs: Parameter[int], rate: Parameter[float] = 0.1) -> None:
    out.value = f"{epochs}:{rate}"


@component
def notify(status: Parameter[str], where: Parameter[str] = "") -> None:
    if where:
        Path(where).write_text(status)


def test_the_main_job_compiles_with_its_resolver_as_kfp_resolvers(tmp_path, monkeypatch):
    monkeypatch.setenv("HEADRACE_ROOT", str(tmp_path / "root"))
    module = load_file_as_module(str(REPO / "pipelines" / "penguin" / "pipeline.py"))
    data = _compile(module.create_pipeline(), tmp_path)
    tasks, executors = data["root"]["dag"]["tasks"], data["deploymentSpec"]["executors"]
    blessing = executors[f"exec-{RESOLVER}-model-blessing-resolver"]["resolver"]["outputArtifactQueries"]
    assert blessing == {
        "model_blessing": {
            "filter": 'schema_title="headrace.ModelBlessing" AND state=LIVE AND metadata.blessed.number_value=1'
        }
    }
    model = executors[f"exec-{RESOLVER}-model-resolver"]["resolver"]["outputArtifactQueries"]
    assert model == {
        "model": {
            "filter": 'schema_title="headrace.Model" AND state=LIVE AND '
            "name=\"{{$.inputs.artifacts['input'].metadata['current_model_id']}}\""
        }
    }
    model_task = tasks[f"{RESOLVER}-model-resolver"]
    assert model_task["inputs"]["artifacts"]["input"]["taskOutputArtifact"] == {
        "producerTask": f"{RESOLVER}-model-blessing-resolver",
        "outputArtifactKey": "model_blessing",
    }
    assert model_task["dependentTasks"] == [f"{RESOLVER}-model-blessing-resolver"]
    # the Evaluator reads the resolved baseline, which may be absent (no blessed model yet)
    evaluator = tasks["evaluator"]
    assert evaluator["inputs"]["artifacts"]["baseline_model"]["taskOutputArtifact"] == {
        "producerTask": f"{RESOLVER}-model-resolver",
        "outputArtifactKey": "model",
    }
    assert data["components"]["comp-evaluator"]["inputDefinitions"]["artifacts"]["baseline_model"]["isOptional"]
    assert f"{RESOLVER}-model-resolver" in evaluator["dependentTasks"]
    # the Resolver runs after the Trainer, as locally
    assert "trainer" in tasks[f"{RESOLVER}-model-blessing-resolver"]["dependentTasks"]


@component
def count(examples: InputArtifact[standard_artifacts.Examples]) -> None:
    pass


def test_latest_artifact_is_one_resolver_task_and_span_ranges_are_refused(tmp_path):
    latest = Resolver(strategy_class=LatestArtifactStrategy, examples=Channel(type=standard_artifacts.Examples))
    reader = count(examples=latest.with_id("latest").outputs["examples"])
    data = _compile(Pipeline("latest-job", "/root", [reader]), tmp_path)
    queries = data["deploymentSpec"]["executors"]["exec-latest"]["resolver"]["outputArtifactQueries"]
    assert queries == {"examples": {"filter": 'schema_title="headrace.Examples" AND state=LIVE'}}
    assert data["root"]["dag"]["tasks"]["count"]["inputs"]["artifacts"]["examples"]["taskOutputArtifact"] == {
        "producerTask": "latest",
        "outputArtifactKey": "examples",
    }
    spans = Resolver(strategy_class=SpanRangeStrategy, examples=Channel(type=standard_artifacts.Examples))
    with pytest.raises(DefinitionError, match=r"SpanRangeStrategy.*LatestArtifactStrategy.*Importer"):
        _compile(Pipeline("spans", "/root", [spans.with_id("spans")]), tmp_path)


def test_retry_resources_parameters_and_the_exit_handler_compile_as_kfp_does(tmp_path):
    node = train(epochs=RuntimeParameter("epochs", int, default=3), rate=RuntimeParameter("rate", float))
    node.with_retry(3, backoff_seconds=30, backoff_factor=2, max_backoff_seconds=600).with_timeout(90)
    node.with_resources(cpu="2", memory="4Gi", accelerator="nvidia-tesla-t4", accelerator_count=2)
    handler = notify(status=FinalStatusStr())
    data = _compile(Pipeline("settings", "/root", [node], exit_handler=handler), tmp_path)
    root = data["root"]
    assert root["inputDefinitions"]["parameters"] == {
        "epochs": {"parameterType": "NUMBER_INTEGER", "defaultValue": 3.0, "isOptional": True},
        "rate": {"parameterType": "NUMBER_DOUBLE"},
    }
    # every other task runs inside the exit-handler group, which forwards the pipeline's inputs
    assert sorted(root["dag"]["tasks"]) == ["exit-handler-1", "notify"]
    group = data["components"]["comp-exit-handler-1"]
    assert root["dag"]["tasks"]["exit-handler-1"]["inputs"]["parameters"]["pipelinechannel--epochs"] == {
        "componentInputParameter": "epochs"
    }
    task = group["dag"]["tasks"]["train"]
    assert task["inputs"]["parameters"]["epochs"] == {"componentInputParameter": "pipelinechannel--epochs"}
    assert task["retryPolicy"] == {
        "maxRetryCount": 3,
        "backoffDuration": "30s",
        "backoffFactor": 2.0,
        "backoffMaxDuration": "600s",
    }
    resources = data["deploymentSpec"]["executors"]["exec-train"]["container"]["resources"]
    assert resources["resourceCpuLimit"] == resources["resourceCpuRequest"] == "2"
    assert resources["resourceMemoryLimit"] == resources["resourceMemoryRequest"] == "4Gi"
    assert resources["accelerator"]["resourceType"] == "nvidia-tesla-t4"
    assert resources["accelerator"]["resourceCount"] == "2"
    exit_task = root["dag"]["tasks"]["notify"]
    assert exit_task["dependentTasks"] == ["exit-handler-1"]
    assert exit_task["triggerPolicy"] == {"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
    assert exit_task["inputs"]["parameters"]["status"] == {"taskFinalStatus": {"producerTask": "exit-handler-1"}}
    assert data["components"]["comp-notify"]["inputDefinitions"]["parameters"]["status"]["parameterType"] == (
        "TASK_FINAL_STATUS"
    )


# -- the entrypoint a task runs ---------------------------------------------------------------------------
def _run_task(tmp_path: Path, pipeline: Pipeline, node_id: str, parameters: dict, outputs: list[str]) -> dict:
    ir = compile_pipeline(pipeline)
    node = ir.node(node_id)
    executor_input = {
        "inputs": {"parameterValues": parameters},
        "outputs": {
            "artifacts": {k: {"artifacts": [{"name": k, "uri": str(tmp_path / k)}]} for k in outputs},
            "outputFile": str(tmp_path / "executor_output.json"),
        },
    }
    code = entrypoint(["kfp", "--executor-input", json.dumps(executor_input), "--node-ir", encode_node(ir, node)])
    return {"code": code, "output": tmp_path / "executor_output.json"}


def test_the_entrypoint_takes_runtime_values_and_the_final_status(tmp_path):
    node = train(epochs=RuntimeParameter("epochs", int, default=3), rate=RuntimeParameter("rate", float))
    pipeline = Pipeline("entry", str(tmp_path), [node], exit_handler=notify(status=FinalStatusStr(), where=""))
    ran = _run_task(tmp_path, pipeline, "train", {"epochs": 7.0, "rate": 0.5}, ["out"])  # KFP's numbers: doubles
    assert ran["code"] == 0
    assert (tmp_path / "out").read_text() == "7:0.5"  # the value file at the URI KFP gave, as TFX writes it
    status = {"state": "FAILED", "error": {"message": "boom"}, "pipelineJobResourceName": "r", "pipelineTaskName": "n"}
    handler = notify(status=FinalStatusStr(), where=str(tmp_path / "status.json"))
    pipeline = Pipeline("entry", str(tmp_path), [train(epochs=1)], exit_handler=handler)
    assert _run_task(tmp_path, pipeline, "notify", {"status": status}, [])["code"] == 0
    assert json.loads((tmp_path / "status.json").read_text()) == status


@component
def sleepy(out: OutputArtifact[String], seconds: Parameter[float]) -> None:
    import time

    time.sleep(seconds)


def test_the_entrypoint_stops_a_step_at_its_timeout(tmp_path, capfd):
    pipeline = Pipeline("timeout", str(tmp_path), [sleepy(seconds=60.0).with_timeout(1)])
    ran = _run_task(tmp_path, pipeline, "sleepy", {}, ["out"])
    assert ran["code"] == 1 and "timeout" in capfd.readouterr().err
    assert not ran["output"].exists()


def test_an_input_artifacts_kfp_name_is_its_id():
    from headrace.entrypoint import _artifact_id

    assert _artifact_id({"name": "42"}) == 42
    assert _artifact_id({"name": "projects/p/locations/l/metadataStores/default/artifacts/7"}) == 7
    assert _artifact_id({"name": "model"}) is None
