"""A DAG compiled `on_new_data` in real Airflow 3: its first task, `new_data`, starts the headrace run only
when the pipeline's input files changed since the last run started by new data, and otherwise skips the
whole DAG run (the exit handler and the final task too). Read back by Airflow's own DagBag, then three
`airflow dags test` runs: the first span runs, nothing new skips, a second span runs and is named."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from airflow_env import airflow_home, airflow_venv, dags_test, reader
from scheduling import land_span

from headrace.errors import DefinitionError
from headrace.orchestrators.airflow_dag_runner import AirflowPipelineConfig, write_dag

pytestmark = pytest.mark.slow("runs Airflow 3 in subprocesses (about 90 s)")

PIPELINE = """
import os
from headrace import FinalStatusStr, InputArtifact, Parameter, Pipeline, component
from headrace.components import CsvExampleGen
from headrace.types import standard_artifacts

HERE = os.path.dirname(os.path.abspath(__file__))

@component
def Consume(examples: InputArtifact[standard_artifacts.Examples]):
    print("consumed", examples.uri)

@component
def Report(status: Parameter[str], path: Parameter[str]):
    with open(path, "a") as f:
        f.write(status + "\\n")

def create_pipeline(landing, root):
    gen = CsvExampleGen(input_base=landing, input_config={"splits": [{"name": "all", "pattern": "span-{SPAN}/*.csv"}]})
    report = Report(status=FinalStatusStr(), path=os.path.join(HERE, "status.jsonl"))
    return Pipeline("landing", root, [gen, Consume(examples=gen.outputs["examples"])], exit_handler=report)
"""

SHAPE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(sys.argv[1])
dag = bag.dags["landing"]
print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "schedule": str(getattr(dag, "schedule", None) or dag.timetable.summary),
    "max_active_runs": dag.max_active_runs,
    "upstream": {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks},
    "gate": type(dag.get_task("new_data")).__name__,
}))
"""


def test_a_dag_compiled_on_new_data_runs_only_when_files_land(write_module, tmp_path):
    venv = airflow_venv("3")
    env = airflow_home(tmp_path / "home", venv)
    mod = write_module(PIPELINE, "landing_pipeline")
    landing, root, dags = tmp_path / "landing", tmp_path / "root", tmp_path / "dags"
    landing.mkdir()
    write_dag(mod.create_pipeline(str(landing), str(root)), str(dags), AirflowPipelineConfig(on_new_data=True))

    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", SHAPE, str(dags)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-5000:]
    shape = json.loads(done.stdout.strip().splitlines()[-1])
    assert shape["errors"] == {} and shape["gate"] == "ShortCircuitOperator"
    assert "*/5 * * * *" in shape["schedule"] and shape["max_active_runs"] == 1
    up = shape["upstream"]
    assert up["new_data"] == [] and up["CsvExampleGen"] == ["new_data"] and up["Consume"] == ["CsvExampleGen"]
    assert "new_data" in up["headrace_finish_run"] and "new_data" not in up["Report"]

    status = tmp_path / "status.jsonl"
    first = land_span(landing, 1)
    time.sleep(1.2)  # the files have been still for the debounce (1 s)
    done = dags_test(env, venv, dags, "landing")
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    [run] = reader(root).runs()
    trigger = json.loads(run.trigger)
    assert run.state == "COMPLETE" and trigger["kind"] == "on-new-data" and trigger["new_files"] == [str(first)]
    assert run.trigger_text == "Airflow (headrace task new-data): new data (span-1/data.csv)"
    assert run.scheduler_run.startswith("manual__")
    assert len(status.read_text().splitlines()) == 1  # the exit handler ran once

    # Nothing new: the DAG run succeeds with every task skipped; no headrace run, no exit handler.
    done = dags_test(env, venv, dags, "landing")
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    assert "no new data since run" in done.stdout + done.stderr
    assert len(reader(root).runs()) == 1 and len(status.read_text().splitlines()) == 1

    second = land_span(landing, 2)
    time.sleep(1.2)
    done = dags_test(env, venv, dags, "landing")
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    newest, older = reader(root).runs()
    assert older.run_id == run.run_id and newest.state == "COMPLETE"
    assert json.loads(newest.trigger)["new_files"] == [str(second)]
    examples = [e for e in reader(root).executions(newest.run_id) if e.node_id == "CsvExampleGen"]
    assert [e.state for e in examples] == ["COMPLETE"]
    assert len(status.read_text().splitlines()) == 2


def test_on_new_data_needs_input_files_to_watch(write_module, tmp_path):
    mod = write_module(
        """
from headrace import OutputArtifact, Pipeline, component
from headrace.types.standard_artifacts import String

@component
def Make(out: OutputArtifact[String]):
    out.value = "x"

def create_pipeline(root):
    return Pipeline("nofiles", root, [Make()])
""",
        "nofiles_pipeline",
    )
    with pytest.raises(DefinitionError, match="nothing to watch"):
        write_dag(
            mod.create_pipeline(str(tmp_path / "root")), str(tmp_path / "dags"), AirflowPipelineConfig(on_new_data=True)
        )
