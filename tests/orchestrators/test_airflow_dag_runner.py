"""AirflowDagRunner on a real Airflow 2.10 (SQLite, `airflow dags test`): the DAG file written by
`write_dag` runs the pipeline end to end with the same outputs as LocalDagRunner, a task failing once
succeeds on Airflow's retry, a node that keeps failing fails the run, and the DAG file parses
without running pipeline code.

Airflow runs in subprocesses (`.venv/bin/airflow`), so its imports stay out of the test process.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pipelines_src import HEADER

from headrace.compiler.ir import NodeIR, PipelineIR
from headrace.errors import DefinitionError
from headrace.metadata import sqlite_metadata_connection_config
from headrace.metadata.reader import MetadataReader
from headrace.metadata.store import Metadata
from headrace.orchestrators import LocalDagRunner
from headrace.orchestrators.airflow_dag_runner import headrace_run_id, task_ids_of, write_dag

AIRFLOW = Path(sys.executable).with_name("airflow")  # in the lock: `make setup` installs it
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
RETRY_CONFIG = {"retries": 1, "retry_delay": datetime.timedelta(0)}


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An Airflow home with a migrated SQLite database, shared by the tests of this session (each
    test points AIRFLOW__CORE__DAGS_FOLDER at its own folder)."""
    home = tmp_path_factory.mktemp("airflow_home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "PYTHONWARNINGS": "ignore",
    }
    started = time.perf_counter()
    done = subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"\nairflow db migrate: {time.perf_counter() - started:.1f}s")
    return env


def _dags_test(env: dict[str, str], dags: Path, date: str) -> subprocess.CompletedProcess[str]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(AIRFLOW), "dags", "test", "airflow_diamond", date],
        env={**env, "AIRFLOW__CORE__DAGS_FOLDER": str(dags)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(f"\nairflow dags test ({date}): {time.perf_counter() - started:.1f}s, exit {done.returncode}")
    return done


def _airflow_run_id(date: str) -> str:
    return f"manual__{date}T00:00:00+00:00"  # what `airflow dags test DAG DATE` names its run


def _reader(root: Path) -> MetadataReader:
    return MetadataReader(Metadata(sqlite_metadata_connection_config(str(root / "metadata.sqlite"))))


def _contents(uri: str) -> dict[str, str]:
    files = {}
    for folder, _, names in os.walk(uri):
        for name in names:
            path = os.path.join(folder, name)
            files[os.path.relpath(path, uri)] = Path(path).read_text()
    return files


def _outputs(reader: MetadataReader, run_id: str) -> dict[str, dict[str, list[dict[str, str]]]]:
    """node -> output key -> the contents of each output artifact, from the run's COMPLETE executions."""
    return {
        e.node_id: {k: [_contents(a.uri) for a in arts] for k, arts in e.outputs.items()}
        for e in reader.executions(run_id)
        if e.state == "COMPLETE"
    }


def _log_lines(tmp_path: Path) -> int:
    log = tmp_path / "module_executed.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_dag_file_runs_the_pipeline_under_airflow_dags_test_with_local_dag_runners_outputs(
    airflow_env, write_module, tmp_path
):
    mod = write_module(DIAMOND, "hr_diamond_pipeline")
    dags = tmp_path / "dags"
    dag_file = write_dag(mod.create_pipeline(str(tmp_path / "airflow_root")), str(dags))
    assert Path(dag_file) == dags / "airflow_diamond_dag.py" and (dags / "airflow_diamond.ir.json").exists()
    executed = _log_lines(tmp_path)

    done = _dags_test(airflow_env, dags, "2026-01-01")
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    assert _log_lines(tmp_path) == executed, "running the DAG executed the pipeline's module"

    run_id = _airflow_run_id("2026-01-01")
    assert headrace_run_id(run_id) == run_id  # an Airflow run id needs no change
    reader = _reader(tmp_path / "airflow_root")
    run = reader.run(run_id)
    assert (run.pipeline_name, run.state) == ("airflow_diamond", "COMPLETE")
    props = reader.md.get_context("pipeline_run", run_id).custom_properties
    assert props["airflow_run_id"].string_value == run_id
    assert props["airflow_dag_id"].string_value == "airflow_diamond"
    executions = reader.executions(run_id)
    assert sorted((e.node_id, e.state) for e in executions) == sorted((n, "COMPLETE") for n in NODES)

    local = LocalDagRunner(quiet=True).run(mod.create_pipeline(str(tmp_path / "local_root")))
    airflow_outputs = _outputs(reader, run_id)
    assert airflow_outputs == _outputs(_reader(tmp_path / "local_root"), local.run_id)
    assert airflow_outputs["Merge"]["merged"] == [{"rows.txt": "ABC\nDEF\n!ABC\nDEF\n!"}]
    assert airflow_outputs["Report"]["report"] == [{"value": "total=18"}]


def test_a_task_failing_once_succeeds_on_airflows_retry_with_one_complete_execution(
    airflow_env, write_module, tmp_path
):
    mod = write_module(DIAMOND, "hr_diamond_pipeline")
    dags = tmp_path / "dags"
    write_dag(mod.create_pipeline(str(tmp_path / "root")), str(dags), RETRY_CONFIG)
    (tmp_path / "fail_once").write_text("")

    done = _dags_test(airflow_env, dags, "2026-01-02")
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    assert "Merge was told to fail once" in done.stdout + done.stderr  # the first try did fail
    assert not (tmp_path / "fail_once").exists()

    reader = _reader(tmp_path / "root")
    run_id = _airflow_run_id("2026-01-02")
    assert reader.run(run_id).state == "COMPLETE"
    merges = [e.state for e in reader.executions(run_id) if e.node_id == "Merge"]
    assert merges == ["FAILED", "COMPLETE"]
    others = [(e.node_id, e.state) for e in reader.executions(run_id) if e.node_id != "Merge"]
    assert sorted(others) == sorted((n, "COMPLETE") for n in NODES if n != "Merge")


def test_a_node_that_keeps_failing_fails_the_airflow_run_and_the_headrace_run(airflow_env, write_module, tmp_path):
    mod = write_module(DIAMOND, "hr_diamond_pipeline")
    dags = tmp_path / "dags"
    write_dag(mod.create_pipeline(str(tmp_path / "root")), str(dags), {"retries": 0})
    (tmp_path / "fail_always").write_text("")

    done = _dags_test(airflow_env, dags, "2026-01-03")
    assert done.returncode != 0 and "DagRun failed" in done.stdout + done.stderr

    reader = _reader(tmp_path / "root")
    run_id = _airflow_run_id("2026-01-03")
    assert reader.run(run_id).state == "FAILED"
    states = {e.node_id: e.state for e in reader.executions(run_id)}
    # Report was left upstream_failed by Airflow: it never ran, and nothing is recorded for it.
    assert states == {"MakeExamples": "COMPLETE", "Upper": "COMPLETE", "Count": "COMPLETE", "Merge": "FAILED"}


PARSE = """
import json, runpy, sys, time
started = time.perf_counter()
from airflow.models import DagBag
airflow_s = time.perf_counter() - started
started = time.perf_counter()
bag = DagBag(sys.argv[2], include_examples=False)  # what Airflow's parser pays per file (headrace imported here)
dagbag_s = time.perf_counter() - started
dag = runpy.run_path(sys.argv[1])["dag"]
from headrace.orchestrators.airflow_dag_runner import build_dag
from headrace.compiler.ir import load
try:
    build_dag(load(open(sys.argv[3]).read()), {"retires": 1})
    bad_key = ""
except Exception as e:
    bad_key = str(e)
print(json.dumps({
    "airflow_s": airflow_s,
    "dagbag_s": dagbag_s,
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "dags": {d: {t.task_id: sorted(t.upstream_task_ids) for t in bag.dags[d].tasks} for d in bag.dags},
    "retries": {t.task_id: t.retries for t in dag.tasks},
    "user_modules": [m for m in sys.modules if "hr_diamond" in m or m.startswith("_headrace_user_")],
    "bad_key": bad_key,
}))
"""

TFX_STYLE_DAG_FILE = """
# A dags file in TFX's style: it defines the pipeline (here, by loading it) and returns the DAG.
from headrace.cli.loader import load_file_as_module
from headrace.orchestrators import AirflowDagRunner, AirflowPipelineConfig
pipeline = load_file_as_module({path!r}).create_pipeline({root!r})
config = AirflowPipelineConfig(airflow_dag_config={{'dag_id': 'tfx_style', 'schedule': '@daily'}})
DAG = AirflowDagRunner(config).run(pipeline)
"""


def test_dag_file_parses_fast_without_running_pipeline_code_and_tfx_style_files_work(
    airflow_env, write_module, tmp_path
):
    mod = write_module(DIAMOND, "hr_diamond_pipeline")
    dags = tmp_path / "dags"
    dag_file = write_dag(mod.create_pipeline(str(tmp_path / "root")), str(dags), RETRY_CONFIG)
    (dags / "tfx_style_dag.py").write_text(
        textwrap.dedent(TFX_STYLE_DAG_FILE.format(path=str(tmp_path / "hr_diamond_pipeline.py"), root=str(tmp_path)))
    )
    executed = _log_lines(tmp_path)

    env = {**airflow_env, "AIRFLOW__CORE__DAGS_FOLDER": str(dags)}
    ir_file = str(dags / "airflow_diamond.ir.json")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PARSE, dag_file, dag_file, ir_file], env=env, capture_output=True, text=True, timeout=120
    )
    wall_s = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-5000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"\nDAG file parse: DagBag {found['dagbag_s']:.3f}s in a process with Airflow loaded (importing headrace "
        f"included); importing Airflow {found['airflow_s']:.2f}s; whole check process {wall_s:.2f}s"
    )
    assert found["user_modules"] == [] and _log_lines(tmp_path) == executed  # no pipeline code ran
    assert found["errors"] == {}
    assert found["dags"]["airflow_diamond"] == {
        "MakeExamples": [],
        "Upper": ["MakeExamples"],
        "Count": ["MakeExamples"],
        "Merge": ["Count", "Upper"],
        "Report": ["Merge"],
        "headrace_finish_run": sorted(NODES),
    }
    assert found["retries"] == {**{n: 1 for n in NODES}, "headrace_finish_run": 0}
    assert "unknown key 'retires'" in found["bad_key"] and "Did you mean 'retries'?" in found["bad_key"]

    # The TFX-style file (pipeline defined at parse time) gives the same DAG.
    bag = subprocess.run(
        [sys.executable, "-c", PARSE, dag_file, str(dags / "tfx_style_dag.py"), ir_file],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bag.returncode == 0, bag.stderr[-5000:]
    tfx = json.loads(bag.stdout.strip().splitlines()[-1])
    assert tfx["errors"] == {} and tfx["dags"]["tfx_style"] == found["dags"]["airflow_diamond"]


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
