"""The main job (pipelines/penguin/pipeline.py) on Airflow 3, in its own venv, with the same result as
LocalDagRunner (rows per split, schema, blessed, a version pushed): through `airflow dags test`, and through
a real scheduler (scheduler, dag-processor and API server, LocalExecutor, metadata on PostgreSQL from
scripts/services.sh) running a triggered DAG run.

Each task is a fresh process of headrace's interpreter, so each node that uses TensorFlow pays its import
(~10 s here): StatisticsGen, SchemaGen, ExampleValidator (TFDV), Trainer, Evaluator, InfraValidator and
BulkInferrer, 7 of the 11 task processes.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from airflow_env import REPO, airflow_home, airflow_venv, dags_test, only_run, reader

from headrace.orchestrators import LocalDagRunner
from headrace.orchestrators.airflow_dag_runner import write_dag

pytestmark = pytest.mark.slow("runs the penguin job (TensorFlow) under Airflow 3")

PIPELINE = REPO / "pipelines" / "penguin" / "pipeline.py"


def main_job_result(root: Path, run_id: str) -> dict[str, Any]:
    """What the main job made: rows per split, the schema, whether the model was blessed, the pushed versions."""
    executions = {e.node_id: e for e in reader(root).executions(run_id) if e.state in ("COMPLETE", "CACHED")}
    [examples] = executions["CsvExampleGen"].outputs["examples"]
    [schema] = executions["SchemaGen"].outputs["schema"]
    [blessing] = executions["Evaluator"].outputs["blessing"]
    serving = root / "serving_model" / "penguin"
    return {
        "rows": json.loads(examples.custom_properties["split_rows"]),
        "schema": (Path(schema.uri) / "schema.pbtxt").read_text(),
        "blessed": blessing.custom_properties["blessed"],
        "pushed": "Pusher" in executions,
        "versions": sorted(p.name for p in serving.iterdir()) if serving.exists() else [],
    }


def _pipeline(root: Path) -> Any:
    module = root.parent / f"{root.name}_trainer.py"  # the trainer module file, one per root
    shutil.copy(PIPELINE.parent / "penguin_trainer.py", module)
    return runpy.run_path(str(PIPELINE))["create_pipeline"](root=str(root), module_file=str(module))


@pytest.fixture(scope="module")
def local_result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("penguin_local") / "root"
    result = LocalDagRunner(quiet=True).run(_pipeline(root))
    found = main_job_result(root, result.run_id)
    assert found["blessed"] == 1 and found["versions"] == ["1"], found
    assert set(found["rows"]) == {"train", "eval"}
    return found


def test_the_main_job_under_airflow_3_dags_test_gives_local_dag_runners_result(local_result, tmp_path):
    venv = airflow_venv("3")
    env = airflow_home(tmp_path / "home", venv)
    root, dags = tmp_path / "root", tmp_path / "dags"
    write_dag(_pipeline(root), str(dags))
    done = dags_test(env, venv, dags, "penguin", timeout=900)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    run = only_run(root)
    assert run.state == "COMPLETE"
    assert main_job_result(root, run.run_id) == local_result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def postgres_db() -> Any:
    """A fresh database on the PostgreSQL of scripts/services.sh (started, or installed, by it)."""
    started = subprocess.run(
        ["bash", str(REPO / "scripts" / "services.sh"), "postgresql"], capture_output=True, text=True, timeout=900
    )
    if started.returncode != 0:
        pytest.fail(f"scripts/services.sh postgresql failed: {started.stderr[-2000:]}", pytrace=False)
    name = f"hr_airflow_{uuid.uuid4().hex[:8]}"
    psql = ["psql", "-h", "127.0.0.1", "-U", "airflow", "-d", "airflow", "-v", "ON_ERROR_STOP=1", "-c"]
    env = {**os.environ, "PGPASSWORD": "airflow"}
    subprocess.run([*psql, f"CREATE DATABASE {name}"], env=env, check=True, capture_output=True)
    yield f"postgresql+psycopg2://airflow:airflow@127.0.0.1:5432/{name}"
    subprocess.run([*psql, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], env=env, capture_output=True)


def _airflow(venv: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(venv / "bin" / "airflow"), *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"airflow {' '.join(args)}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done


def test_the_main_job_triggered_on_a_real_scheduler_with_postgresql_succeeds(local_result, postgres_db, tmp_path):
    venv = airflow_venv("3")
    root, dags, home = tmp_path / "root", tmp_path / "dags", tmp_path / "home"
    write_dag(_pipeline(root), str(dags))
    port = _free_port()
    settings = {
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",  # two cores; each TensorFlow task takes ~600 MB
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,  # the same in every process
        "AIRFLOW__API__SECRET_KEY": uuid.uuid4().hex,
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
    }
    env = airflow_home(home, venv, postgres_db, **settings)
    _airflow(venv, env, "dags", "reserialize")  # the DAG is in the database before anything starts
    logs = {name: open(home / f"{name}.log", "w") for name in ("api-server", "scheduler", "dag-processor")}
    procs = [
        subprocess.Popen(
            [str(venv / "bin" / "airflow"), name], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        for name, log in logs.items()
    ]
    started = time.perf_counter()
    try:
        _airflow(venv, env, "dags", "unpause", "penguin")
        _airflow(venv, env, "dags", "trigger", "penguin", "--run-id", "scheduled_main_job")
        state = ""
        while time.perf_counter() - started < 900 and state not in ("success", "failed"):
            time.sleep(5)
            assert all(p.poll() is None for p in procs), _tails(home)
            runs = json.loads(_airflow(venv, env, "dags", "list-runs", "penguin", "-o", "json").stdout or "[]")
            state = next((r["state"] for r in runs if r["run_id"] == "scheduled_main_job"), "")
        print(f"\nscheduler run of the main job: {state} in {time.perf_counter() - started:.0f}s")
        assert state == "success", _tails(home)
    finally:
        for p in procs:
            _stop(p)
        for log in logs.values():
            log.close()
    run = reader(root).run("scheduled_main_job")
    assert run.state == "COMPLETE"
    assert main_job_result(root, run.run_id) == local_result


def _stop(proc: subprocess.Popen) -> None:
    """Stops one process we started, and its children (its own session)."""
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def _tails(home: Path) -> str:
    return "\n".join(f"== {p.name}\n{p.read_text()[-3000:]}" for p in sorted(home.glob("*.log")))
