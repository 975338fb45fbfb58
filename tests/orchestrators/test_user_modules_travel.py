"""A pipeline file that imports its components from a sibling module and a local package (see
user_project.py) runs in fresh processes that cannot import either: the code, its helpers and its
artifact classes travel by value in the IR. Each run starts from the compiled IR (or DAG file) after
the project's folder was moved away, so nothing could be imported by name, whatever the runner:
`headrace run` with forked, spawned and in-process executors, the container entrypoint, BeamDagRunner
with worker processes and on the Dask cluster, Airflow 3's `dags test`, and with_image.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_entrypoint, sql
from user_project import ANSWER, write_project

from headrace.compiler import load
from headrace.launcher.task import ExecutionTask

REPO = Path(__file__).resolve().parents[2]
HEADRACE = [sys.executable, "-m", "headrace"]


def _cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HEADRACE_METADATA")}
    result = subprocess.run(
        [*HEADRACE, *args], cwd=cwd, env={**environment, **env}, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _compiled_without_the_project(tmp_path: Path, *target: str) -> Path:
    """The project compiled from another folder, then its folder moved away: only the IR is left."""
    write_project(tmp_path / "project")
    output = "dags" if target else "ir.json"
    _cli(["compile", "project/pipeline.py", *target, "-o", output], tmp_path, PROJECT_ROOT=str(tmp_path / "root"))
    shutil.move(tmp_path / "project", tmp_path / "moved_away")
    return tmp_path / output


def _answer(root: Path) -> str:
    [answer] = root.glob("Total/answer/*/ANSWER.txt")
    return answer.read_text()


def _tally_counts(root: Path) -> list[int]:
    """The `count` property ML Metadata holds for the Tally artifacts (Count's, then Stamp's)."""
    rows = sql(
        root / "metadata.sqlite",
        "SELECT p.int_value FROM Artifact a JOIN Type t ON a.type_id = t.id JOIN ArtifactProperty p "
        "ON p.artifact_id = a.id WHERE t.name = 'Tally' AND p.name = 'count' ORDER BY a.id",
    )
    return [r[0] for r in rows]


def test_the_ir_says_the_users_code_travels_by_value(tmp_path):
    ir = load(_compiled_without_the_project(tmp_path).read_text())
    for node, module in (("Count", "my_components"), ("Stamp", "my_components"), ("Total", "myproject.components")):
        executor = ir.node(node).executor
        assert executor["module"] == module and executor["payload"]["artifact_types"], node
    assert "def Do" in ir.node("Stamp").executor["payload"]["source"]
    assert ir.node("Count").outputs["tally"].artifact_type.class_path == "my_components:Tally"


@pytest.mark.parametrize("start", ["fork", "spawn", "inprocess"])
def test_headrace_run_of_the_ir_in_workers_that_cannot_import_the_project(tmp_path, start):
    ir = _compiled_without_the_project(tmp_path)
    args = ["run", str(ir), "-q"] + (["--in-process"] if start == "inprocess" else [])
    _cli(args, tmp_path, HEADRACE_WORKER_START="auto" if start == "inprocess" else start)
    root = tmp_path / "root"
    assert _answer(root) == ANSWER
    assert _tally_counts(root) == [6, 7]  # the executors saw Tally, with its declared property


def test_the_container_entrypoint_runs_a_node_of_the_project(tmp_path):
    """`python -m headrace.entrypoint execute` (what a with_image container runs), in a fresh process
    without the project: Stamp's executor class sees Tally, which its Do never names."""
    ir = load(_compiled_without_the_project(tmp_path).read_text())
    tally_uri, stamp_uri = tmp_path / "tally", tmp_path / "stamp"
    tally_uri.mkdir()
    stamp_uri.mkdir()
    artifact = {"id": 1, "state": "LIVE", "name": "", "custom_properties": {}}
    task = ExecutionTask.for_node(
        ir,
        ir.node("Stamp"),
        run_id="r1",
        execution_id=7,
        input_dict={"tally": [{**artifact, "type_name": "Tally", "uri": str(tally_uri), "properties": {"count": 6}}]},
        output_dict={"stamp": [{**artifact, "id": 2, "type_name": "Tally", "uri": str(stamp_uri), "properties": {}}]},
        tmp_dir=str(tmp_path / "scratch"),
        log_path="",
    )
    result = run_entrypoint(task, tmp_path, timeout=120)
    assert result.ok, result.traceback
    assert result.output_dict["stamp"][0]["properties"] == {"count": 7}
    assert (stamp_uri / "stamp.txt").read_text() == "tally of 6"


def test_a_rerun_is_cached_and_an_edit_of_a_local_packages_helper_reruns_its_node(tmp_path):
    pipeline = write_project(tmp_path / "project")
    root = tmp_path / "root"

    def states() -> dict[str, int]:
        _cli(["run", str(pipeline), "-q"], tmp_path, PROJECT_ROOT=str(root), HEADRACE_WORKER_START="spawn")
        rows = sql(
            root / "metadata.sqlite",
            "SELECT p.string_value, e.last_known_state FROM Execution e JOIN ExecutionProperty p "
            "ON p.execution_id = e.id WHERE p.name = 'node_id' ORDER BY e.id",
        )
        return dict(rows[-3:])  # the last run's (3 = COMPLETE, 5 = CACHED)

    assert states() == {"Count": 3, "Stamp": 3, "Total": 3}
    helpers = tmp_path / "project" / "myproject" / "helpers.py"
    helpers.write_text("# a comment does not change what runs\n" + helpers.read_text())
    assert states() == {"Count": 5, "Stamp": 5, "Total": 5}
    helpers.write_text(helpers.read_text().replace("OFFSET = 100", "OFFSET = 200"))
    assert states() == {"Count": 5, "Stamp": 5, "Total": 3}  # Total uses helpers.offset(), which reads OFFSET
    components = tmp_path / "project" / "my_components.py"
    components.write_text(components.read_text().replace("FACTOR = 3", "FACTOR = 4"))
    assert states() == {"Count": 3, "Stamp": 3, "Total": 3}  # Count's scale() reads FACTOR; the rest follow
    assert sorted(p.read_text() for p in root.glob("Total/answer/*/ANSWER.txt")) == [
        "tally of 6 / 113",
        "tally of 6 / 213",
        "tally of 8 / 217",
    ]


@pytest.mark.slow("runs Beam's DirectRunner with worker processes")
def test_beam_dag_runner_multi_processing_runs_the_project(tmp_path):
    ir = _compiled_without_the_project(tmp_path)
    beam = [
        "--runner",
        "beam",
        "--beam-arg=--direct_running_mode=multi_processing",
        "--beam-arg=--direct_num_workers=2",
    ]
    _cli(["run", str(ir), "-q", *beam], tmp_path)
    assert _answer(tmp_path / "root") == ANSWER
    assert _tally_counts(tmp_path / "root") == [6, 7]


def test_beam_dag_runner_on_the_dask_cluster_runs_the_project_in_its_workers(tmp_path, dask_cluster):
    ir = _compiled_without_the_project(tmp_path)
    beam = ["--runner", "beam", "--beam-arg=--runner=DaskRunner", f"--beam-arg=--dask_client_address={dask_cluster}"]
    _cli(["run", str(ir), "-q", *beam], tmp_path)
    root = tmp_path / "root"
    assert _answer(root) == ANSWER
    assert _tally_counts(root) == [6, 7]
    launchers = sql(root / "metadata.sqlite", "SELECT string_value FROM ExecutionProperty WHERE name = 'launcher'")
    pids = {int(owner.rpartition(":")[2]) for (owner,) in launchers}
    assert len(launchers) == 3 and all(_started_by_a_dask_worker(pid) for pid in pids), [_lineage(p) for p in pids]


def _lineage(pid: int) -> list[bytes]:
    """The command lines of a process and its ancestors (a Dask worker's process is a multiprocessing
    child of the `dask worker` command, whose command line names it)."""
    found = []
    while pid > 1 and len(found) < 6:
        proc = Path(f"/proc/{pid}")
        found.append((proc / "cmdline").read_bytes().replace(b"\0", b" "))
        pid = int((proc / "stat").read_text().rpartition(")")[2].split()[1])  # the parent's pid
    return found


def _started_by_a_dask_worker(pid: int) -> bool:
    return any(b"dask worker" in c or b"dask-worker" in c or b"distributed.cli" in c for c in _lineage(pid))


@pytest.mark.slow("runs Airflow 3's `dags test` in its own virtual environment")
def test_airflow_3_dags_test_runs_the_project(tmp_path):
    from airflow_env import airflow_home, airflow_venv, dags_test, only_run

    dags = _compiled_without_the_project(tmp_path, "--target", "airflow")
    venv = airflow_venv("3")
    done = dags_test(airflow_home(tmp_path / "airflow_home", venv), venv, dags, "user_project")
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    root = tmp_path / "root"
    assert only_run(root).state == "COMPLETE"
    assert _answer(root) == ANSWER
    assert _tally_counts(root) == [6, 7]


def test_with_image_runs_the_project_in_the_runtime_image(tmp_path, runtime_image):
    """Every node in a container of the runtime image, where neither module exists (nothing mounted)."""
    pipeline = write_project(tmp_path / "project")
    root = tmp_path / "root"
    _cli(["run", str(pipeline), "-q"], tmp_path, PROJECT_ROOT=str(root), PROJECT_IMAGE=runtime_image)
    assert _answer(root) == ANSWER
    assert _tally_counts(root) == [6, 7]
    pythons = sql(root / "metadata.sqlite", "SELECT string_value FROM ArtifactProperty WHERE name = 'python'")
    assert pythons == [("/opt/headrace/bin/python",)]  # Count ran in the image's interpreter
