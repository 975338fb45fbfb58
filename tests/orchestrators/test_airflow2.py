"""Airflow 2.10 (scripts/airflow.sh 2: .venv-airflow2, headrace's lock plus Airflow 2.10.3): the DAG file
`headrace compile --target airflow` writes runs there as on Airflow 3, and so does TFX's form, a dags file
that defines the pipeline and ends with `DAG = AirflowDagRunner(config).run(pipeline)`, which imports
headrace inside Airflow's environment (so it needs Airflow 2.10: Airflow 3 cannot share one with ml-metadata).
"""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest
from airflow_env import airflow_home, airflow_venv, dags_test, only_run, reader
from scheduling import land_span
from test_airflow_dag_runner import DIAMOND, NODES, outputs_of
from test_airflow_new_data import PIPELINE as NEW_DATA_PIPELINE

from headrace.orchestrators import LocalDagRunner
from headrace.orchestrators.airflow_dag_runner import AirflowPipelineConfig, write_dag

pytestmark = pytest.mark.slow("runs Airflow 2.10's `dags test` in subprocesses")

TFX_STYLE_DAG_FILE = """
# A dags file in TFX's style: it defines the pipeline (here, by loading it) and returns the DAG.
from headrace.cli.loader import load_file_as_module
from headrace.orchestrators import AirflowDagRunner, AirflowPipelineConfig
pipeline = load_file_as_module({path!r}).create_pipeline({root!r})
config = AirflowPipelineConfig(airflow_dag_config={{'dag_id': 'tfx_style', 'schedule': '@daily', 'retries': 0}})
DAG = AirflowDagRunner(config).run(pipeline)
"""


@pytest.fixture(scope="module")
def airflow2(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    venv = airflow_venv("2")
    return venv, airflow_home(tmp_path_factory.mktemp("airflow2_home"), venv)


def test_the_compiled_dag_file_and_the_tfx_style_file_run_on_airflow_2_10(airflow2, write_module, tmp_path):
    venv, env = airflow2
    mod = write_module(DIAMOND, "hr_diamond_pipeline")
    compiled = tmp_path / "compiled"
    write_dag(mod.create_pipeline(str(tmp_path / "compiled_root")), str(compiled))
    tfx = tmp_path / "tfx"
    tfx.mkdir()
    source = TFX_STYLE_DAG_FILE.format(path=str(tmp_path / "hr_diamond_pipeline.py"), root=str(tmp_path / "tfx_root"))
    (tfx / "tfx_style_dag.py").write_text(textwrap.dedent(source))

    local = LocalDagRunner(quiet=True).run(mod.create_pipeline(str(tmp_path / "local_root")))
    expected = outputs_of(reader(tmp_path / "local_root"), local.run_id)
    for dags, dag_id, root in [(compiled, "airflow_diamond", "compiled_root"), (tfx, "tfx_style", "tfx_root")]:
        done = dags_test(env, venv, dags, dag_id, "2026-01-01")
        assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
        run = only_run(tmp_path / root)
        assert (run.run_id, run.state) == ("manual__2026-01-01T00:00:00+00:00", "COMPLETE")
        executions = reader(tmp_path / root).executions(run.run_id)
        assert sorted((e.node_id, e.state) for e in executions) == sorted((n, "COMPLETE") for n in NODES)
        assert outputs_of(reader(tmp_path / root), run.run_id) == expected
    # The TFX-style file's tasks read the IR it wrote under the pipeline root, and run Airflow's own
    # interpreter, which has headrace.
    assert (tmp_path / "tfx_root" / ".system" / "airflow" / "airflow_diamond.ir.json").exists()


def test_a_dag_compiled_on_new_data_skips_without_new_files_on_airflow_2_10(airflow2, write_module, tmp_path):
    venv, env = airflow2
    mod = write_module(NEW_DATA_PIPELINE, "landing2_pipeline")
    landing, root, dags = tmp_path / "landing", tmp_path / "root", tmp_path / "dags"
    landing.mkdir()
    write_dag(mod.create_pipeline(str(landing), str(root)), str(dags), AirflowPipelineConfig(on_new_data=True))
    done = dags_test(env, venv, dags, "landing", "2026-01-01")  # no files yet: the DAG run skips everything
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    assert "no files yet under" in done.stdout + done.stderr
    assert not (root / "metadata.sqlite").exists() or reader(root).runs() == []
    first = land_span(landing, 1)
    time.sleep(1.2)  # the debounce
    done = dags_test(env, venv, dags, "landing", "2026-01-02")
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    run = only_run(root)
    assert (run.run_id, run.state) == ("manual__2026-01-02T00:00:00+00:00", "COMPLETE")
    assert json.loads(run.trigger)["new_files"] == [str(first)]
