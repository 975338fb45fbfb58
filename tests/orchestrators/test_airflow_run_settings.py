"""IR 3's run settings in the Airflow DAG file, read back by Airflow 3's own DagBag: a node's retry policy is its
task's retries, retry_delay, retry_exponential_backoff and max_retry_delay; its timeout the execution_timeout
(plus a grace, so headrace's own timeout stops the step first); its cpu request pool_slots; runtime
parameters the DAG's params; the exit handler a task with trigger rule all_done after every node. Then one
`airflow dags test --conf` run: the conf overrides a param, the flaky node succeeds on Airflow's retry, and
the exit handler receives the run's final status."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from airflow_env import airflow_home, airflow_venv, dags_test, only_run, reader

from headrace.orchestrators.airflow_dag_runner import write_dag

pytestmark = pytest.mark.slow("runs Airflow 3 in subprocesses")

PIPELINE = """
import os
from headrace import FinalStatusStr, Parameter, Pipeline, RuntimeParameter, component
from headrace.dsl import OutputArtifact
from headrace.types.standard_artifacts import String

HERE = os.path.dirname(os.path.abspath(__file__))

@component
def write(out: OutputArtifact[String], epochs: Parameter[int], rate: Parameter[float] = 0.1) -> None:
    out.value = f"{epochs}:{rate}"

@component
def flaky(marker: Parameter[str], out: OutputArtifact[String]) -> None:
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("flaky fails its first attempt")
    out.value = "second attempt"

@component
def report(status: Parameter[str], path: Parameter[str]) -> None:
    with open(path, "w") as f:
        f.write(status)

def create_pipeline(root):
    w = write(epochs=RuntimeParameter("epochs", int, default=3), rate=RuntimeParameter("rate", float, default=0.1))
    w.with_timeout(600).with_resources(cpu="2500m", memory="1Gi", accelerator="nvidia-tesla-t4")
    f = flaky(marker=os.path.join(HERE, "flaky_marker")).with_retry(2, backoff_seconds=1, backoff_factor=3,
                                                                     max_backoff_seconds=5)
    r = report(status=FinalStatusStr(), path=os.path.join(HERE, "status.json"))
    return Pipeline("settings", root, [w, f], exit_handler=r, enable_cache=False)
"""

SETTINGS = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(sys.argv[1])
dag = bag.dags["settings"]
secs = lambda d: None if d is None else d.total_seconds()
print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "params": {k: dag.params[k] for k in dag.params},
    "tasks": {t.task_id: {
        "retries": t.retries, "retry_delay": secs(t.retry_delay), "backoff": t.retry_exponential_backoff,
        "max_retry_delay": secs(t.max_retry_delay), "timeout": secs(t.execution_timeout), "pool_slots": t.pool_slots,
        "trigger_rule": str(t.trigger_rule.value if hasattr(t.trigger_rule, "value") else t.trigger_rule),
        "upstream": sorted(t.upstream_task_ids), "doc": t.doc_md,
    } for t in dag.tasks},
}))
"""


def test_run_settings_compile_to_airflow_and_a_conf_overrides_a_param(write_module, tmp_path):
    venv = airflow_venv("3")
    env = airflow_home(tmp_path / "home", venv)
    mod = write_module(PIPELINE, "settings_pipeline")
    root, dags = tmp_path / "root", tmp_path / "dags"
    write_dag(mod.create_pipeline(str(root)), str(dags), {"retries": 4})

    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", SETTINGS, str(dags)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-5000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["errors"] == {}
    assert found["params"] == {"epochs": 3, "rate": 0.1}
    tasks = found["tasks"]
    flaky, write, report = tasks["flaky"], tasks["write"], tasks["report"]
    assert (flaky["retries"], flaky["retry_delay"], flaky["backoff"], flaky["max_retry_delay"]) == (2, 1.0, 3.0, 5.0)
    assert write["retries"] == 4 and write["timeout"] == 600 + 60  # the DAG's default; headrace's timeout + grace
    assert flaky["timeout"] is None and write["pool_slots"] == 3 and flaky["pool_slots"] == 1
    assert "accelerator=nvidia-tesla-t4" in write["doc"] and "memory=1Gi" in write["doc"]
    assert report["trigger_rule"] == "all_done" and report["upstream"] == ["flaky", "write"]
    assert tasks["headrace_finish_run"]["upstream"] == ["flaky", "report", "write"]

    done = dags_test(env, venv, dags, "settings", "--conf", json.dumps({"epochs": 7}))
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    run = only_run(root)
    assert run.state == "COMPLETE"
    executions = reader(root).executions(run.run_id)
    assert [e.state for e in executions if e.node_id == "flaky"] == ["FAILED", "COMPLETE"]
    [written] = [e for e in executions if e.node_id == "write"]
    assert Path(written.outputs["out"][0].uri).read_text() == "7:0.1"  # the conf's epochs, rate's default
    status = json.loads((tmp_path / "status.json").read_text())
    assert (status["state"], status["pipelineJobResourceName"]) == ("SUCCEEDED", run.run_id)
