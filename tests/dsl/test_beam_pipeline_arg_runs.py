"""A function component with a `BeamPipeline` argument, run: the pipeline's `beam_pipeline_args` and the
node's own (`with_beam_pipeline_args`) reach the `beam.Pipeline` the function gets on every path that runs a
node: LocalDagRunner (executors in worker processes), BeamDagRunner (the node inside a Beam step, the
runner's own arguments too; on the Dask cluster too), `headrace run`, an Airflow task's `headrace task run`,
and the container entrypoint of a with_image / Kubeflow task (from the one-node IR a KFP task carries). A
function that fails inside `with beam_pipeline as p:`, or whose DoFn raises, fails its node with its own
error and publishes nothing LIVE."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_entrypoint, sql

from headrace.compiler import compile_pipeline, load
from headrace.errors import PipelineRunError
from headrace.launcher.task import ExecutionTask
from headrace.orchestrators import BeamDagRunner, LocalDagRunner
from headrace.types import Artifact, standard_artifacts

pytestmark = pytest.mark.slow("runs Beam pipelines in the steps")

PIPELINE = """
import json
import os

from headrace import BeamPipeline, InputArtifact, OutputArtifact, OutputDict, Parameter, Pipeline, component
from headrace.types import standard_artifacts


@component
def Numbers(numbers: OutputArtifact[standard_artifacts.Examples], n: Parameter[int] = 100) -> None:
    with open(os.path.join(numbers.uri, "numbers.txt"), "w") as f:
        f.write("\\n".join(str(i) for i in range(n)))


def square(line, fail):
    if fail == "in_dofn" and line == "7":
        raise ZeroDivisionError("told to fail on 7")
    return int(line) ** 2


@component
def SumSquares(
    numbers: InputArtifact[standard_artifacts.Examples],
    total: OutputArtifact[standard_artifacts.Examples],
    beam_pipeline: BeamPipeline = None,
    fail: Parameter[str] = "",
) -> OutputDict(options=str):
    import apache_beam as beam

    options = beam_pipeline.options.get_all_options(retain_unknown_options=True)
    seen = {k: options.get(k) for k in ("direct_num_workers", "direct_running_mode", "probe")}
    seen["engine"] = type(beam_pipeline.runner).__name__
    with beam_pipeline as p:
        _ = (
            p
            | beam.io.ReadFromText(os.path.join(numbers.uri, "numbers.txt"))
            | beam.Map(square, fail)
            | beam.CombineGlobally(sum)
            | beam.io.WriteToText(os.path.join(total.uri, "total"), shard_name_template="")
        )
        if fail == "in_block":
            raise ValueError("told to fail inside the with block")
    return {"options": json.dumps(seen, sort_keys=True)}


def create_pipeline(root, fail="", beam_pipeline_args=("--direct_num_workers=2", "--probe=pipeline"), node_args=()):
    numbers = Numbers()
    total = SumSquares(numbers=numbers.outputs["numbers"], fail=fail)
    if node_args:
        total.with_beam_pipeline_args(list(node_args))
    return Pipeline("beam_fn", root, [numbers, total], beam_pipeline_args=list(beam_pipeline_args), enable_cache=False)


pipeline = create_pipeline(os.environ.get("BEAM_FN_ROOT", "beam_fn_root"))
"""
TOTAL_INT = sum(i * i for i in range(100))
TOTAL = str(TOTAL_INT)


@pytest.fixture
def module(write_module, tmp_path, monkeypatch):
    monkeypatch.setenv("BEAM_FN_ROOT", str(tmp_path / "unused"))
    return write_module(PIPELINE, "beam_fn_pipeline")


def _total(root: Path) -> str:
    [total] = root.glob("SumSquares/total/*/total")
    return total.read_text().strip()


def _options(root: Path) -> list[dict]:
    """What each run's SumSquares saw of its pipeline's options (its `options` outputs, oldest first)."""
    found = []
    for folder in sorted(root.glob("SumSquares/options/*"), key=lambda f: f.stat().st_mtime):
        art = standard_artifacts.String()
        art.uri = str(folder)
        found.append(json.loads(art.value))
    return found


def test_local_dag_runner_gives_the_pipelines_and_the_nodes_arguments_later_winning(module, tmp_path):
    root = tmp_path / "root"
    args = ("--direct_running_mode=multi_processing", "--direct_num_workers=3", "--probe=pipeline")
    p = module.create_pipeline(str(root), beam_pipeline_args=args, node_args=["--direct_num_workers=2", "--probe=node"])
    result = LocalDagRunner(quiet=True).run(p)
    assert result.state == "COMPLETE"
    assert _total(root) == TOTAL
    assert _options(root) == [
        {
            "direct_num_workers": 2,  # the node's flag after the pipeline's
            "direct_running_mode": "multi_processing",
            "probe": "node",
            "engine": "FnApiRunner",  # the DirectRunner's engine, without Beam's download of its Prism runner
        }
    ]


def test_beam_dag_runner_adds_its_own_arguments_after_the_pipelines(module, tmp_path):
    root = tmp_path / "root"
    BeamDagRunner(beam_pipeline_args=["--probe=runner"], quiet=True).run(module.create_pipeline(str(root)))
    assert _total(root) == TOTAL
    assert _options(root) == [
        {"direct_num_workers": 2, "direct_running_mode": "in_memory", "probe": "runner", "engine": "FnApiRunner"}
    ]


@pytest.mark.parametrize(
    ("fail", "error", "message"),
    [
        ("in_block", ValueError, "told to fail inside the with block"),
        ("in_dofn", ZeroDivisionError, "told to fail on 7"),
    ],
)
def test_a_failure_in_the_beam_pipeline_fails_the_node_with_the_users_error_and_nothing_live(
    module, tmp_path, fail, error, message
):
    root = tmp_path / "root"
    with pytest.raises(error, match=message) as caught:
        LocalDagRunner(quiet=True).run(module.create_pipeline(str(root), fail=fail))
    assert isinstance(caught.value, PipelineRunError) and caught.value.node_id == "SumSquares"
    states = sql(
        root / "metadata.sqlite",
        "SELECT a.state FROM Artifact a JOIN Event ev ON ev.artifact_id = a.id JOIN Execution e "
        "ON e.id = ev.execution_id WHERE e.last_known_state = 4 AND ev.type = 4",  # FAILED's outputs
    )
    assert len(states) == 2 and all(state == 5 for (state,) in states)  # total and options: ABANDONED, not LIVE
    assert not list(root.glob("SumSquares/total/*/total"))


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HEADRACE_VERBOSE", "HEADRACE_METADATA")}
    return subprocess.run(
        [sys.executable, "-m", "headrace", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_headrace_run_and_an_airflow_tasks_task_run_give_the_arguments(tmp_path):
    (tmp_path / "beam_fn_pipeline.py").write_text(PIPELINE)
    run = _cli("run", "beam_fn_pipeline.py", "--runner", "beam", "--beam-arg=--probe=cli", "-q", cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    root = tmp_path / "beam_fn_root"
    assert _total(root) == TOTAL and _options(root)[0]["probe"] == "cli"

    compiled = _cli("compile", "beam_fn_pipeline.py", "-o", "ir.json", cwd=tmp_path)
    assert compiled.returncode == 0, compiled.stderr
    for node in ("Numbers", "SumSquares"):  # each node in its own process, as Airflow's tasks run them
        task = _cli("task", "run", "ir.json", node, "--run-id", "airflow-1", cwd=tmp_path)
        assert task.returncode == 0, task.stdout[-3000:] + task.stderr[-3000:]
    assert [o["probe"] for o in _options(root)] == ["cli", "pipeline"]  # headrace run's, then the Airflow task's


def test_the_container_entrypoint_runs_the_node_of_a_kfp_tasks_one_node_ir(module, tmp_path):
    """A Kubeflow task carries its node as a one-node IR (`--node-ir`) with the pipeline's Beam arguments;
    the entrypoint (what the container runs) gives them to the function."""
    from headrace.orchestrators._kfp_spec import encode_node

    root = tmp_path / "root"
    ir = compile_pipeline(module.create_pipeline(str(root), node_args=["--probe=node"]))
    one = load(base64.b64decode(encode_node(ir, ir.node("SumSquares"))).decode())
    assert one.beam_pipeline_args == ("--direct_num_workers=2", "--probe=pipeline")
    numbers, total, options = tmp_path / "numbers", tmp_path / "total", tmp_path / "options"
    for folder in (numbers, total, options):
        folder.mkdir()
    (numbers / "numbers.txt").write_text("\n".join(str(i) for i in range(100)))
    art = {"state": "LIVE", "name": "", "custom_properties": {}, "properties": {}}
    task = ExecutionTask.for_node(
        one,
        one.node("SumSquares"),
        run_id="kfp-1",
        execution_id=3,
        input_dict={"numbers": [{**art, "id": 1, "type_name": "Examples", "uri": str(numbers)}]},
        output_dict={
            "total": [{**art, "id": 2, "type_name": "Examples", "uri": str(total)}],
            "options": [{**art, "id": 3, "type_name": "String", "uri": str(options)}],
        },
        tmp_dir=str(tmp_path / "scratch"),
        log_path="",
    )
    result = run_entrypoint(task, tmp_path)
    assert result.ok, result.traceback
    assert (total / "total").read_text().strip() == TOTAL
    seen = Artifact.from_dict(result.output_dict["options"][0])
    assert json.loads(seen.value)["probe"] == "node"


DASK_PIPELINE = """
import os
import tempfile

from headrace import BeamPipeline, OutputDict, Pipeline, component


def square(x):
    return x * x


@component
def DaskSquares(beam_pipeline: BeamPipeline = None) -> OutputDict(total=int, pids=str):
    import apache_beam as beam

    out = tempfile.mkdtemp(prefix="headrace-dask-squares-")

    class WriteBundle(beam.DoFn):  # Beam's file sinks finalize through side inputs, which DaskRunner mishandles
        def start_bundle(self):
            self.values = []

        def process(self, x):
            self.values.append(x)

        def finish_bundle(self):
            if self.values:
                with open(os.path.join(out, f"{os.getpid()}-{id(self)}.txt"), "w") as f:
                    f.write(" ".join(map(str, self.values)))

    with beam_pipeline as p:
        _ = p | beam.Create(list(range(100))) | beam.Map(square) | beam.ParDo(WriteBundle())
    total, pids = 0, set()
    for name in os.listdir(out):
        pids.add(name.split("-")[0])
        with open(os.path.join(out, name)) as f:
            total += sum(int(v) for v in f.read().split())
    return {"total": total, "pids": ",".join(sorted(pids))}


def create_pipeline(root, beam_pipeline_args=()):
    return Pipeline("dask_fn", root, [DaskSquares()], beam_pipeline_args=list(beam_pipeline_args), enable_cache=False)
"""


def _value(result, key: str, kind: type) -> object:
    art = kind()
    art.uri = result.nodes["DaskSquares"].outputs[key][0]
    return art.value


def test_on_the_dask_cluster_the_functions_pipeline_runs_in_the_workers(write_module, tmp_path, dask_cluster):
    """The pipeline's `--runner=DaskRunner` (LocalDagRunner), and BeamDagRunner on Dask, where the node itself
    is a Dask task on the same one-thread workers: it gives its thread back while its pipeline runs."""
    from distributed import Client

    with Client(dask_cluster, timeout=10, set_as_default=False) as client:
        workers = {str(pid) for pid in client.run(os.getpid).values()}
    module = write_module(DASK_PIPELINE, "dask_fn_pipeline")
    dask_args = ["--runner=DaskRunner", f"--dask_client_address={dask_cluster}"]
    local = LocalDagRunner(quiet=True).run(module.create_pipeline(str(tmp_path / "local"), dask_args))
    on_dask = BeamDagRunner(beam_pipeline_args=dask_args, quiet=True).run(module.create_pipeline(str(tmp_path / "b")))
    for result in (local, on_dask):
        assert _value(result, "total", standard_artifacts.Integer) == TOTAL_INT
        pids = set(str(_value(result, "pids", standard_artifacts.String)).split(","))
        assert pids and pids <= workers, (pids, workers)


def test_interactive_context_gives_its_beam_arguments(module, tmp_path):
    from headrace.orchestrators import InteractiveContext

    context = InteractiveContext(pipeline_root=str(tmp_path / "root"), beam_pipeline_args=["--probe=context"])
    numbers = module.Numbers()
    context.run(numbers)
    total = module.SumSquares(numbers=numbers.outputs["numbers"])
    context.run(total)
    assert json.loads(total.outputs["options"].get()[0].value)["probe"] == "context"
    again = module.SumSquares(numbers=numbers.outputs["numbers"]).with_beam_pipeline_args(["--probe=node"])
    context.run(again, beam_pipeline_args=["--probe=run"], enable_cache=False)
    assert json.loads(again.outputs["options"].get()[0].value)["probe"] == "node"  # the node's, after the run's
    totals = [f.read_text().strip() for f in (tmp_path / "root").glob("SumSquares/total/*/total")]
    assert totals == [TOTAL, TOTAL]
