"""AirflowDagRunner on a real Airflow 3 (scripts/airflow.sh's .venv-airflow, nothing of headrace's in it;
SQLite, `airflow dags test`): the DAG file `write_dag` writes imports only Airflow and the standard library,
runs the pipeline end to end through headrace's own interpreter with the same outputs as LocalDagRunner, a
task failing once succeeds on Airflow's retry, a node that keeps failing fails the run, and parsing the DAG
file runs no pipeline code. Airflow 2.10 (and the TFX-style DAG file): test_airflow2.py.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest
from airflow_env import airflow_home, airflow_venv, dags_test, only_run, reader
from output_files import output_files
from pipelines_src import HEADER

from headrace.compiler.ir import NodeIR, PipelineIR
from headrace.errors import DefinitionError
from headrace.metadata.reader import MetadataReader
from headrace.orchestrators import LocalDagRunner
from headrace.orchestrators.airflow_dag_runner import headrace_run_id, task_ids_of, write_dag

pytestmark = pytest.mark.slow("runs Airflow's `dags test` in subprocesses")
# A diamond: MakeExamples -> (Upper: a fully custom component, Count: a function component) -> Merge -> Report.
# Merge fails once if the file `fail_once` exists (removing it), and always if `fail_always` exists.
# Executing the module appends to `module_executed.log`, so a test sees whether anything ran it.
DIAMOND = (
    HEADER
    + """
HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, 'module_executed.log'), 'a') as _log:
    _log.write('executed\\n')

class UpperSpec(ComponentSpec):
    INPUTS = {'examples': ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS = {'upper': ChannelParameter(type=standard_artifacts.Examples)}
    PARAMETERS = {'suffix': ExecutionParameter(type=str)}

class UpperExecutor(BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties):
        with open(os.path.join(input_dict['examples'][0].uri, 'rows.txt')) as f:
            rows = f.read()
        with open(os.path.join(output_dict['upper'][0].uri, 'rows.txt'), 'w') as f:
            f.write(rows.upper() + exec_properties['suffix'])

class Upper(BaseComponent):
    SPEC_CLASS = UpperSpec
    EXECUTOR_SPEC = ExecutorClassSpec(UpperExecutor)
    def __init__(self, examples, suffix):
        super().__init__(spec=UpperSpec(examples=examples, suffix=suffix))

@component
def MakeExamples(examples: OutputArtifact[standard_artifacts.Examples]):
    with open(os.path.join(examples.uri, 'rows.txt'), 'w') as f:
        f.write('abc\\ndef\\n')

@component
def Count(examples: InputArtifact[standard_artifacts.Examples], model: OutputArtifact[standard_artifacts.Model]):
    with open(os.path.join(examples.uri, 'rows.txt')) as f:
        n = len(f.read().splitlines())
    with open(os.path.join(model.uri, 'count.txt'), 'w') as f:
        f.write(str(n))

@component
def Merge(upper: InputArtifact[standard_artifacts.Examples], model: InputArtifact[standard_artifacts.Model],
          merged: OutputArtifact[standard_artifacts.Examples]) -> OutputDict(total=int):
    flag = os.path.join(HERE, 'fail_once')
    if os.path.exists(flag):
        os.remove(flag)
        raise RuntimeError('Merge was told to fail once')
    if os.path.exists(os.path.join(HERE, 'fail_always')):
        raise RuntimeError('Merge was told to fail')
    with open(os.path.join(upper.uri, 'rows.txt')) as f:
        rows = f.read()
    with open(os.path.join(model.uri, 'count.txt')) as f:
        n = int(f.read())
    with open(os.path.join(merged.uri, 'rows.txt'), 'w') as f:
        f.write(rows * n)
    return {'total': len(rows) * n}

@component
def Report(total: int) -> OutputDict(report=str):
    return {'report': 'total=%d' % total}

def create_pipeline(root):
    examples = MakeExamples()
    upper = Upper(examples=examples.outputs['examples'], suffix='!')
    count = Count(examples=examples.outputs['examples'])
    merge = Merge(upper=upper.outputs['upper'], model=count.outputs['model'])
    report = Report(total=merge.outputs['total'])
    return Pipeline('airflow_diamond', root, [report], enable_cache=False)
"""
)
NODES = ["MakeExamples", "Upper", "Count", "Merge", "Report"]
RETRY_CONFIG = {"retries": 1, "retry_delay": datetime.timedelta(0), "schedule": "0 3 * * *"}


@pytest.fixture(scope="session")
def airflow3(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Airflow 3's venv and a home with a migrated SQLite database, shared by this session's tests (each
    test points the dags folder at its own)."""
    venv = airflow_venv("3")
    return venv, airflow_home(tmp_path_factory.mktemp("airflow3_home"), venv)


def outputs_of(store: MetadataReader, run_id: str) -> dict[str, dict[str, list[dict[str, str]]]]:
    """node -> output key -> the contents of each output artifact, from the run's COMPLETE executions."""
    return {
        e.node_id: {k: [output_files(a.uri) for a in arts] for k, arts in e.outputs.items()}
        for e in store.executions(run_id)
        if e.state == "COMPLETE"
    }


def _log_lines(tmp_path: Path) -> int:
    log = tmp_path / "module_executed.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_dag_file_runs_the_pipeline_under_airflow_3_with_local_dag_runners_outputs(airflow3, write_module, tmp_path):
    venv, env = airflow3
    mod = write_module(DIAMOND, "hr_diamond_pipeline")
    dags = tmp_path / "dags"
    dag_file = write_dag(mod.create_pipeline(str(tmp_path / "airflow_root")), str(dags))
    assert Path(dag_file) == dags / "airflow_diamond_dag.py" and (dags / "airflow_diamond.ir.json").exists()
    executed = _log_lines(tmp_path)

    done = dags_test(env, venv, dags, "airflow_diamond")
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    assert _log_lines(tmp_path) == executed, "running the DAG executed the pipeline's module"
    log = done.stdout + done.stderr
    assert "headrace: node 'Merge' of run" in log and "COMPLETE (execution" in log  # the command's output: the task log

    run = only_run(tmp_path / "airflow_root")
    assert (run.pipeline_name, run.state) == ("airflow_diamond", "COMPLETE")
    assert run.run_id.startswith("manual__") and headrace_run_id(run.run_id) == run.run_id
    store = reader(tmp_path / "airflow_root")
    props = store.md.get_context("pipeline_run", run.run_id).custom_properties
    assert props["airflow_run_id"].string_value == run.run_id
    assert props["airflow_dag_id"].string_value == "airflow_diamond"
    executions = store.executions(run.run_id)
    assert sorted((e.node_id, e.state) for e in executions) == sorted((n, "COMPLETE") for n in NODES)

    local = LocalDagRunner(quiet=True).run(mod.create_pipeline(str(tmp_path / "local_root")))
    airflow_outputs = outputs_of(store, run.run_id)
    assert airflow_outputs == outputs_of(reader(tmp_path / "local_root"), local.run_id)
    assert airflow_outputs["Merge"]["merged"] == [{"rows.txt": "ABC\nDEF\n!ABC\nDEF\n!"}]
    assert airflow_outputs["Report"]["report"] == [{"value": "total=18"}]


def test_a_task_failing_once_succeeds_on_airflows_retry_with_one_complete_execution(airflow3, write_module, tmp_path):
    venv, env = airflow3
    mod = write_module(DIAMOND, "hr_diamond_pipeline")
    dags = tmp_path / "dags"
    write_dag(mod.create_pipeline(str(tmp_path / "root")), str(dags), RETRY_CONFIG)
    (tmp_path / "fail_once").write_text("")

    done = dags_test(env, venv, dags, "airflow_diamond")
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    assert "Merge was told to fail once" in done.stdout + done.stderr  # the first try did fail, in the task log
    assert not (tmp_path / "fail_once").exists()

    run = only_run(tmp_path / "root")
    assert run.state == "COMPLETE"
    executions = reader(tmp_path / "root").executions(run.run_id)
    assert [e.state for e in executions if e.node_id == "Merge"] == ["FAILED", "COMPLETE"]
    others = [(e.node_id, e.state) for e in executions if e.node_id != "Merge"]
    assert sorted(others) == sorted((n, "COMPLETE") for n in NODES if n != "Merge")


def test_a_node_that_keeps_failing_fails_the_airflow_run_and_the_headrace_run(airflow3, write_module, tmp_path):
    venv, env = airflow3
    mod = write_module(DIAMOND, "hr_diamond_pipeline")
    dags = tmp_path / "dags"
    write_dag(mod.create_pipeline(str(tmp_path / "root")), str(dags), {"retries": 0})
    (tmp_path / "fail_always").write_text("")

    done = dags_test(env, venv, dags, "airflow_diamond")
    assert "state=failed" in done.stdout + done.stderr, done.stdout[-3000:]

    run = only_run(tmp_path / "root")
    assert run.state == "FAILED"
    states = {e.node_id: e.state for e in reader(tmp_path / "root").executions(run.run_id)}
    # Report was left upstream_failed by Airflow: it never ran, and nothing is recorded for it.
    assert states == {"MakeExamples": "COMPLETE", "Upper": "COMPLETE", "Count": "COMPLETE", "Merge": "FAILED"}


# Run by Airflow 3's interpreter: Airflow's own parse of the folder, then what the DAG file loaded.
PARSE = """
import json, sys
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:
    from airflow.models.dagbag import DagBag
bag = DagBag(sys.argv[1])  # examples are off in the environment
print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "dags": {d: {t.task_id: sorted(t.upstream_task_ids) for t in bag.dags[d].tasks} for d in bag.dags},
    "retries": {d: {t.task_id: t.retries for t in bag.dags[d].tasks} for d in bag.dags},
    "commands": {d: {t.task_id: t.bash_command for t in bag.dags[d].tasks} for d in bag.dags},
    "schedules": {d: str(getattr(bag.dags[d], "schedule", None)) for d in bag.dags},
    "modules": sorted({m.split(".")[0] for m in sys.modules}),
}))
"""


def parse_dags(venv: Path, env: dict[str, str], dags: Path) -> dict:
    """What Airflow's DagBag makes of a dags folder, in Airflow's own environment."""
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", PARSE, str(dags)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-5000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_dag_file_imports_only_airflow_and_parses_without_running_pipeline_code(airflow3, write_module, tmp_path):
    venv, env = airflow3
    mod = write_module(DIAMOND, "hr_diamond_pipeline")
    dags = tmp_path / "dags"
    write_dag(mod.create_pipeline(str(tmp_path / "root")), str(dags), RETRY_CONFIG)
    bad = tmp_path / "bad"
    write_dag(mod.create_pipeline(str(tmp_path / "root")), str(bad), {"retires": 1})
    executed = _log_lines(tmp_path)

    found = parse_dags(venv, env, dags)
    assert "headrace" not in found["modules"] and "ml_metadata" not in found["modules"]
    assert _log_lines(tmp_path) == executed  # no pipeline code ran
    assert found["errors"] == {}
    assert found["dags"]["airflow_diamond"] == {
        "MakeExamples": [],
        "Upper": ["MakeExamples"],
        "Count": ["MakeExamples"],
        "Merge": ["Count", "Upper"],
        "Report": ["Merge"],
        "headrace_finish_run": sorted(NODES),
    }
    assert found["retries"]["airflow_diamond"] == {**{n: 1 for n in NODES}, "headrace_finish_run": 0}
    assert found["schedules"]["airflow_diamond"] == "0 3 * * *"  # the DAG carries the schedule it was given
    command = found["commands"]["airflow_diamond"]["Merge"]
    assert command == f"exec {sys.executable} -m headrace task run {dags / 'airflow_diamond.ir.json'} Merge "

    errors = parse_dags(venv, env, bad)["errors"]
    assert len(errors) == 1
    message = next(iter(errors.values()))
    assert "unknown key 'retires'" in message and "Did you mean 'retries'?" in message


def test_write_dag_refuses_a_setting_it_cannot_write_into_the_dag_file(write_module, tmp_path):
    mod = write_module(DIAMOND, "hr_diamond_pipeline")
    with pytest.raises(DefinitionError, match=r"on_failure_callback.*cannot|cannot.*on_failure_callback"):
        write_dag(mod.create_pipeline(str(tmp_path / "root")), str(tmp_path / "dags"), {"on_failure_callback": print})


def test_headrace_run_id_keeps_airflow_run_ids_and_replaces_a_slash():
    assert headrace_run_id("scheduled__2026-01-01T00:00:00+00:00") == "scheduled__2026-01-01T00:00:00+00:00"
    assert headrace_run_id("my run/1") == "my_run_1"


NO_AIRFLOW = """
import sys
from headrace.tfx.orchestration.airflow.airflow_dag_runner import AirflowDagRunner, AirflowPipelineConfig
import headrace.orchestrators as orchestrators
from headrace.cli.loader import load_file_as_module
from headrace.orchestrators.airflow_dag_runner import write_dag
assert AirflowDagRunner is orchestrators.AirflowDagRunner
assert AirflowPipelineConfig is orchestrators.AirflowPipelineConfig
runner = AirflowDagRunner({"retries": 2})
assert runner.config == AirflowPipelineConfig(airflow_dag_config={"retries": 2})
write_dag(load_file_as_module(sys.argv[1]).create_pipeline(sys.argv[2]), sys.argv[3], runner.config)
print(sorted(m for m in sys.modules if m.split(".")[0] == "airflow"))
"""


def test_tfx_import_path_serves_the_runner_and_write_dag_does_not_import_airflow(write_module, tmp_path):
    write_module(DIAMOND, "hr_diamond_pipeline")
    args = [str(tmp_path / "hr_diamond_pipeline.py"), str(tmp_path / "root"), str(tmp_path / "dags")]
    done = subprocess.run([sys.executable, "-c", NO_AIRFLOW, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"
    assert "'retries': 2" in (tmp_path / "dags" / "airflow_diamond_dag.py").read_text()


def test_node_ids_become_task_ids_airflow_accepts_and_a_clash_is_refused():
    def ir_of(*ids: str) -> PipelineIR:
        nodes = tuple(NodeIR(id=i, component_type="C", executor={"kind": "python_function"}) for i in ids)
        return PipelineIR("p", "/tmp/p", nodes)

    assert task_ids_of(ir_of("Trainer.v1", "my step")) == {"Trainer.v1": "Trainer.v1", "my step": "my_step"}
    with pytest.raises(DefinitionError, match="Node 'my_step' would be Airflow task 'my_step', as node 'my step'"):
        task_ids_of(ir_of("my step", "my_step"))
    with pytest.raises(DefinitionError, match="final task"):
        task_ids_of(ir_of("headrace_finish_run"))
