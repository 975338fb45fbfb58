"""A pipeline file that imports its components from a sibling module and a local package runs under
Airflow 3 (its own virtual environment, without headrace), with nothing installed or copied: the DAG's
tasks run headrace's interpreter on the compiled IR, where the project's code travels by value. The
project's folder is moved away before Airflow runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from airflow_env import airflow_home, airflow_venv, dags_test, only_run
from user_project import ANSWER, write_project

pytestmark = pytest.mark.slow("runs Airflow's `dags test` in subprocesses")


def test_airflow_3_runs_a_pipeline_whose_components_live_in_the_users_modules(tmp_path):
    venv = airflow_venv("3")
    env = airflow_home(tmp_path / "airflow_home", venv)
    write_project(tmp_path / "project")
    root = tmp_path / "root"
    compiled = subprocess.run(
        [sys.executable, "-m", "headrace", "compile", "project/pipeline.py", "--target", "airflow", "-o", "dags"],
        cwd=tmp_path,
        env={**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "PROJECT_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert compiled.returncode == 0, compiled.stderr[-3000:]
    shutil.move(tmp_path / "project", tmp_path / "moved_away")
    done = dags_test(env, venv, tmp_path / "dags", "user_project")
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    assert only_run(root).state == "COMPLETE"
    [answer] = root.glob("Total/answer/*/ANSWER.txt")
    assert answer.read_text() == ANSWER
