"""KubeflowV2DagRunner's compiled files: golden files of the example pipelines, every file loads back
through the kfp SDK with the IR's tasks and edges, Cond as CEL, the refusals, and `submit` against a
local HTTP stub of the KFP v2 REST API (no Kubernetes cluster can be had here).

Golden files live in tests/golden/kfp_*.yaml. After an intended change, regenerate them with

    HEADRACE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/orchestrators/test_kubeflow_compile.py

and review the diff before committing.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import re
import threading
from pathlib import Path

import pytest
import yaml

from headrace import Cond, InputArtifact, OutputArtifact, OutputDict, Pipeline, component
from headrace.cli.loader import load_file_as_module
from headrace.compiler import IR_VERSION, compile_pipeline
from headrace.errors import DefinitionError
from headrace.orchestrators import KubeflowV2DagRunner, KubeflowV2DagRunnerConfig
from headrace.orchestrators._kfp_spec import IMPORTER_OUTPUT, task_name
from headrace.orchestrators.kubeflow_v2_dag_runner import KubeflowError, compile_kubeflow, submit
from headrace.types import standard_artifacts

pytestmark = pytest.mark.heavy_imports  # kfp's client and its protos; no threads, but a heavy import

REPO = Path(__file__).resolve().parents[2]
GOLDEN_DIR = REPO / "tests" / "golden"
GOLDEN_ROOT = "/golden/root"
EXAMPLES = ["hello_pipeline", "container_pipeline"]


def _example_ir(name: str):
    module = load_file_as_module(str(REPO / "pipelines" / f"{name}.py"))
    return compile_pipeline(module.create_pipeline(pipeline_root=GOLDEN_ROOT))


def _normalized(text: str) -> dict:
    """The spec as data: the node IR in --node-ir decoded (pickled code bytes and their digest left
    out: they hold file names), repo paths replaced, the SDK version left out."""
    data = yaml.safe_load(text)
    data.pop("sdkVersion", None)
    for executor in data["deploymentSpec"]["executors"].values():
        args = executor.get("container", {}).get("args", [])
        if "--node-ir" in args:
            i = args.index("--node-ir") + 1
            ir = json.loads(base64.b64decode(args[i]))
            for node in ir["nodes"]:
                payload = node["executor"].get("payload")
                if payload:
                    payload.update(data="<pickled>", digest="<digest>")
            args[i] = ir
    out = json.dumps(data, indent=2, sort_keys=True).replace(str(REPO), "<REPO>")
    return json.loads(out)


@pytest.mark.parametrize("name", EXAMPLES)
def test_golden_kubeflow_file(name, tmp_path):
    path = compile_kubeflow(_example_ir(name), str(tmp_path / "pipeline.yaml"))
    got = _normalized(Path(path).read_text())
    golden = GOLDEN_DIR / f"kfp_{name}.yaml"
    if os.environ.get("HEADRACE_UPDATE_GOLDEN") == "1":
        golden.write_text(yaml.dump(got, sort_keys=True))
    assert golden.is_file(), f"{golden} is missing; generate it with HEADRACE_UPDATE_GOLDEN=1"
    assert got == yaml.safe_load(golden.read_text()), (
        f"The Kubeflow file of pipelines/{name}.py changed. If intended, regenerate with HEADRACE_UPDATE_GOLDEN=1."
    )
    assert "/tmp" not in golden.read_text() and str(REPO) not in golden.read_text()


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_compiled_file_loads_back_through_kfp_with_the_irs_tasks_and_edges(name, fmt, tmp_path):
    from kfp.components import load_component_from_file

    ir = _example_ir(name)
    path = compile_kubeflow(ir, str(tmp_path / f"pipeline.{fmt}"))
    loaded = load_component_from_file(path)
    spec = loaded.pipeline_spec
    tasks = spec.root.dag.tasks
    assert set(tasks) == {task_name(n.id) for n in ir.nodes}
    from google.protobuf import json_format

    executors = json_format.MessageToDict(spec.deployment_spec)["executors"]
    for node in ir.nodes:
        task = tasks[task_name(node.id)]
        assert task.task_info.name == node.id
        assert sorted(task.dependent_tasks) == sorted(task_name(u) for u in node.upstream)
        assert task.caching_options.enable_cache == ir.enable_cache
        edges = {
            k: (a.task_output_artifact.producer_task, a.task_output_artifact.output_artifact_key)
            for k, a in task.inputs.artifacts.items()
        }
        expected = {
            k: (task_name(i.producer), IMPORTER_OUTPUT if ir.node(i.producer).kind == "importer" else i.output_key)
            for k, i in node.inputs.items()
        }
        assert edges == expected
        component = spec.components[task.component_ref.name]
        outputs = component.output_definitions.artifacts
        for key, out in node.outputs.items():
            key = IMPORTER_OUTPUT if node.kind == "importer" else key
            assert outputs[key].artifact_type.schema_title == f"headrace.{out.artifact_type.name}"
        executor = executors[component.executor_label]
        if node.kind == "importer":
            assert executor["importer"]["artifactUri"]["constant"] == node.parameters["source_uri"]
        elif node.kind == "container":
            assert executor["container"]["image"] == node.executor["image"]
        else:
            assert executor["container"]["command"] == ["python", "-m", "headrace.entrypoint", "kfp"]
            assert executor["container"]["image"] == "headrace-runtime:latest"
    assert spec.default_pipeline_root == GOLDEN_ROOT


def test_container_placeholders_become_kfp_placeholders(tmp_path):
    ir = _example_ir("container_pipeline")
    data = yaml.safe_load(Path(compile_kubeflow(ir, str(tmp_path / "p.yaml"))).read_text())
    command = data["deploymentSpec"]["executors"]["exec-download"]["container"]["command"]
    assert command == [
        "python3", "-m", "download", "--rows", "{{$.inputs.parameters['rows']}}",
        "--out", "{{$.outputs.artifacts['examples'].path}}",
    ]  # fmt: skip
    rows = data["root"]["dag"]["tasks"]["download"]["inputs"]["parameters"]["rows"]
    assert rows == {"runtimeValue": {"constant": "100"}}  # the text headrace's Docker launcher places
    count = data["deploymentSpec"]["executors"]["exec-count"]["container"]["command"]
    assert count[-2:] == ["{{$.inputs.artifacts['examples'].path}}", "{{$.outputs.artifacts['count'].path}}"]


# -- Cond, images, refusals ------------------------------------------------------------------------------------
@component
def Gate(blessing: OutputArtifact[standard_artifacts.ModelBlessing]) -> OutputDict(score=float):  # type: ignore[valid-type]
    return {"score": 1.0}


@component
def Push(blessing: InputArtifact[standard_artifacts.ModelBlessing]):
    pass


def test_cond_becomes_a_cel_trigger_condition_over_the_producers_artifact(tmp_path):
    gate = Gate()
    with Cond(
        (gate.outputs["blessing"].future()[0].custom_property("blessed") == 1)
        & (gate.outputs["score"].future()[0].value > 0.5)
    ):
        push = Push(blessing=gate.outputs["blessing"])
    ir = compile_pipeline(Pipeline("cond", "/root", [gate, push]))
    data = KubeflowV2DagRunner(output_dir=str(tmp_path)).run(ir)
    task = data["root"]["dag"]["tasks"]["push"]
    assert task["triggerPolicy"]["condition"] == (
        "(inputs.artifacts['condition__Gate__blessing'].artifacts[0].metadata['blessed'] == 1.0 && "
        "inputs.artifacts['condition__Gate__score'].artifacts[0].metadata['value'] > 0.5)"
    )
    assert task["inputs"]["artifacts"]["condition__Gate__score"] == {
        "taskOutputArtifact": {"outputArtifactKey": "score", "producerTask": "gate"}
    }
    assert "condition__Gate__score" in data["components"]["comp-push"]["inputDefinitions"]["artifacts"]
    assert json.loads((tmp_path / "pipeline.json").read_text()) == data  # TFX's default file name, JSON


def test_per_node_images_and_display_name(tmp_path):
    gate = Gate()
    custom = Push(blessing=gate.outputs["blessing"]).with_image("my/image:1")
    config = KubeflowV2DagRunnerConfig(display_name="Shown", default_image={"Gate": "gate/image:2"})
    data = KubeflowV2DagRunner(config, output_dir=str(tmp_path), output_filename="p.yaml").run(
        Pipeline("images", "gs://bucket/root", [gate, custom])
    )
    executors = data["deploymentSpec"]["executors"]
    assert executors["exec-gate"]["container"]["image"] == "gate/image:2"
    assert executors["exec-push"]["container"]["image"] == "my/image:1"
    assert data["pipelineInfo"] == {"name": "images", "displayName": "Shown"}
    assert data["defaultPipelineRoot"] == "gs://bucket/root"
    assert (tmp_path / "p.yaml").read_text().startswith("# PIPELINE DEFINITION")


def test_node_ids_that_collide_as_task_names_are_refused(tmp_path):
    a, b = Gate().with_id("gate_a"), Gate().with_id("Gate-A")
    with pytest.raises(DefinitionError, match="'gate-a'"):
        compile_kubeflow(compile_pipeline(Pipeline("c", "/root", [a, b])), str(tmp_path / "p.yaml"))


def test_a_task_named_as_the_pipeline_still_loads_back_as_the_pipeline(tmp_path):
    """kfp's loader takes a component keyed `comp-<pipeline name>` for the whole package."""
    from kfp.components import load_component_from_file

    gate = Gate().with_id("latest")
    push = Push(blessing=gate.outputs["blessing"])
    path = compile_kubeflow(compile_pipeline(Pipeline("Latest", "/root", [gate, push])), str(tmp_path / "p.yaml"))
    loaded = load_component_from_file(path)
    tasks = loaded.pipeline_spec.root.dag.tasks
    assert set(tasks) == {"latest", "push"}
    assert tasks["latest"].component_ref.name in loaded.pipeline_spec.components
    assert "comp-latest" not in loaded.pipeline_spec.components
    assert tasks["push"].inputs.artifacts["blessing"].task_output_artifact.producer_task == "latest"


def test_config_refuses_commands_and_unknown_settings():
    with pytest.raises(DefinitionError, match="default_commands"):
        KubeflowV2DagRunnerConfig(default_commands=["python"])
    with pytest.raises(DefinitionError, match="use_pipeline_spec_2_1"):
        KubeflowV2DagRunnerConfig(use_pipeline_spec_2_1=True)


# -- submit, against a stub of the KFP v2 REST API ----------------------------------------------------------
class _StubKfp(http.server.BaseHTTPRequestHandler):
    """The few KFP v2beta1 endpoints kfp.Client's create_run_from_pipeline_package calls."""

    requests: list[tuple[str, str, dict]] = []

    def log_message(self, *args):  # quiet
        pass

    def _reply(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.requests.append(("GET", self.path, {}))
        if self.path.startswith("/apis/v2beta1/healthz"):
            self._reply({"multi_user": False})
        elif self.path.startswith("/apis/v2beta1/experiments"):
            self._reply({"experiments": [], "total_size": 0})
        else:
            self._reply({})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.requests.append(("POST", self.path, body))
        if self.path.startswith("/apis/v2beta1/experiments"):
            self._reply({"experiment_id": "exp-1", "display_name": body.get("display_name")})
        elif self.path.startswith("/apis/v2beta1/recurringruns"):
            self._reply({"recurring_run_id": "rr-7", "display_name": body.get("display_name")})
        elif self.path.startswith("/apis/v2beta1/runs"):
            self._reply({"run_id": "run-42", "display_name": body.get("display_name"), "experiment_id": "exp-1"})
        else:
            self._reply({})


@pytest.fixture
def stub_kfp():
    _StubKfp.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StubKfp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _StubKfp.requests
    finally:
        server.shutdown()
        server.server_close()


def test_submit_creates_a_run_from_the_package_on_a_stub_kfp_api(stub_kfp, tmp_path):
    endpoint, requests = stub_kfp
    path = compile_kubeflow(_example_ir("container_pipeline"), str(tmp_path / "pipeline.yaml"))
    run_id = submit(path, endpoint, experiment="dev", run_name="first")
    assert run_id == "run-42"
    [experiment] = [b for m, p, b in requests if m == "POST" and p.startswith("/apis/v2beta1/experiments")]
    assert experiment["display_name"] == "dev"
    [run] = [b for m, p, b in requests if m == "POST" and p.startswith("/apis/v2beta1/runs")]
    assert run["display_name"] == "first" and run["experiment_id"] == "exp-1"
    sent = run["pipeline_spec"]
    assert sent["pipelineInfo"]["name"] == "containers"
    assert set(sent["root"]["dag"]["tasks"]) == {"download", "count"}
    assert sent == yaml.safe_load(Path(path).read_text())


def test_submit_cron_creates_a_recurring_run_on_a_stub_kfp_api(stub_kfp, tmp_path):
    endpoint, requests = stub_kfp
    path = compile_kubeflow(_example_ir("container_pipeline"), str(tmp_path / "pipeline.yaml"))
    assert submit(path, endpoint, experiment="nightly", cron="0 3 * * *", params={"rows": 5}) == "rr-7"
    [job] = [b for m, p, b in requests if m == "POST" and p.startswith("/apis/v2beta1/recurringruns")]
    assert job["trigger"]["cron_schedule"]["cron"] == "0 0 3 * * *"  # KFP's cron starts with seconds
    assert int(job["max_concurrency"]) == 1 and job["no_catchup"] is True and job["experiment_id"] == "exp-1"
    assert job["pipeline_spec"] == yaml.safe_load(Path(path).read_text())
    assert job["runtime_config"]["parameters"] == {"rows": 5}
    with pytest.raises(DefinitionError, match="five fields"):
        submit(path, endpoint, cron="0 3 * *")
    # Names and shortcuts reach KFP (which takes neither) as numbers.
    submit(path, endpoint, cron="30 6 * * MON-FRI")
    submit(path, endpoint, cron="@weekly")
    jobs = [b for m, p, b in requests if m == "POST" and p.startswith("/apis/v2beta1/recurringruns")]
    assert [j["trigger"]["cron_schedule"]["cron"] for j in jobs[1:]] == ["0 30 6 * * 1,2,3,4,5", "0 0 0 * * 0"]


def test_submit_says_which_endpoint_failed(tmp_path):
    path = compile_kubeflow(_example_ir("container_pipeline"), str(tmp_path / "pipeline.yaml"))
    with pytest.raises(KubeflowError, match=re.escape("127.0.0.1:9")):
        submit(path, "http://127.0.0.1:9")
    with pytest.raises(KubeflowError, match="No pipeline package"):
        submit(str(tmp_path / "missing.yaml"), "http://127.0.0.1:9")


# -- the CLI and TFX's import paths ---------------------------------------------------------------------------
def test_cli_compiles_for_kubeflow_and_submits_to_a_stub_kfp_api(stub_kfp, tmp_path):
    from click.testing import CliRunner

    from headrace.cli.main import main

    endpoint, requests = stub_kfp
    pipeline_file = str(REPO / "pipelines" / "container_pipeline.py")
    out = tmp_path / "pipeline.yaml"
    result = CliRunner().invoke(main, ["compile", pipeline_file, "--target", "kubeflow", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text())["pipelineInfo"]["name"] == "containers"
    default = CliRunner().invoke(main, ["compile", pipeline_file])
    # the IR stays the default (at version 3: the lowest that holds a pipeline without dynamic parameters)
    assert json.loads(default.output)["ir_version"] == 3 < IR_VERSION
    result = CliRunner().invoke(main, ["submit", str(out), "--endpoint", endpoint, "--run-name", "cli"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "run-42"  # kfp's links go to stderr
    [run] = [b for m, p, b in requests if m == "POST" and p.startswith("/apis/v2beta1/runs")]
    assert run["display_name"] == "cli"
    failed = CliRunner().invoke(main, ["submit", str(out), "--endpoint", "http://127.0.0.1:9"])
    assert failed.exit_code != 0 and "Traceback" not in failed.output and "127.0.0.1:9" in failed.output


def test_tfx_import_paths_serve_the_runner():
    import headrace.orchestrators as orchestrators
    from headrace.tfx import v1
    from headrace.tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner

    assert v1.orchestration.experimental.KubeflowV2DagRunner is orchestrators.KubeflowV2DagRunner
    assert kubeflow_v2_dag_runner.KubeflowV2DagRunnerConfig is orchestrators.KubeflowV2DagRunnerConfig


def test_a_task_reading_declared_files_runs_uncached_on_kubeflow_and_the_file_says_why(tmp_path):
    """KFP's cache keys a task on its inputs and container spec, which do not change when a CSV under the same
    input_base is edited: such a task (a parameter declared fingerprint=True) is compiled with caching off, and
    the compiled file says so, while the rest of the pipeline keeps KFP's cache."""
    from headrace.components import CsvExampleGen, StatisticsGen

    data = tmp_path / "data"
    data.mkdir()
    (data / "part.csv").write_text("x,y\n1,2\n")
    gen = CsvExampleGen(input_base=str(data))
    stats = StatisticsGen(examples=gen.outputs["examples"])
    ir = compile_pipeline(Pipeline("files", "/root", [gen, stats]))
    assert ir.node("CsvExampleGen").file_inputs == ("input_base",)
    for fmt in ("yaml", "json"):
        path = compile_kubeflow(ir, str(tmp_path / f"p.{fmt}"))
        text = Path(path).read_text()
        data_ = yaml.safe_load(text)  # JSON is YAML
        tasks = data_["root"]["dag"]["tasks"]
        assert tasks[task_name("CsvExampleGen")]["cachingOptions"].get("enableCache", False) is False
        assert tasks[task_name("StatisticsGen")]["cachingOptions"]["enableCache"] is True
        assert "Caching is off for task 'csvexamplegen': it reads input_base" in data_["pipelineInfo"]["description"]
        if fmt == "yaml":
            assert "# Caching is off for task 'csvexamplegen'" in text.split("\n", 6)[3]
    from kfp.components import load_component_from_file

    assert load_component_from_file(str(tmp_path / "p.yaml")).name == "files"
