"""Airflow for the tests, in the virtual environments scripts/airflow.sh makes: Airflow 3 alone (.venv-airflow,
nothing of headrace's: its tasks run headrace's own interpreter) and Airflow 2.10 beside headrace
(.venv-airflow2, for the TFX-style DAG file). Airflow runs in subprocesses, so its imports stay out of the
test process. Each AIRFLOW_HOME is migrated once per session (SQLite, or PostgreSQL for the scheduler)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from headrace.metadata import sqlite_metadata_connection_config
from headrace.metadata.reader import MetadataReader, RunInfo
from headrace.metadata.store import Metadata

REPO = Path(__file__).resolve().parents[1]


def airflow_venv(version: str = "3") -> Path:
    """The venv of Airflow `version` ("3" or "2"), made (or found up to date) by scripts/airflow.sh."""
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "airflow.sh"), version], cwd=REPO, capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        output = f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        pytest.fail(f"scripts/airflow.sh {version} failed (exit {done.returncode}):\n{output}", pytrace=False)
    return REPO / (".venv-airflow" if version == "3" else ".venv-airflow2")


def airflow_home(home: Path, venv: Path, sql_alchemy_conn: str | None = None, **settings: str) -> dict[str, str]:
    """The environment of an Airflow home at `home` (its database migrated now): SQLite unless given."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_alchemy_conn or f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "PYTHONWARNINGS": "ignore",
        **settings,
    }
    env.pop("VIRTUAL_ENV", None)
    started = time.perf_counter()
    done = subprocess.run([str(venv / "bin" / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"\nairflow db migrate ({venv.name}): {time.perf_counter() - started:.1f}s")
    return env


def dags_test(
    env: dict[str, str], venv: Path, dags: Path, dag_id: str, *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`airflow dags test DAG_ID [args]` with `dags` as the dags folder."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(venv / "bin" / "airflow"), "dags", "test", dag_id, *args],
        env={**env, "AIRFLOW__CORE__DAGS_FOLDER": str(dags)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    print(f"\nairflow dags test {dag_id} ({venv.name}): {time.perf_counter() - started:.1f}s, exit {done.returncode}")
    return done


def reader(root: Path) -> MetadataReader:
    """The SQLite store under a pipeline root."""
    return MetadataReader(Metadata(sqlite_metadata_connection_config(str(root / "metadata.sqlite"))))


def only_run(root: Path) -> RunInfo:
    """The one run recorded under `root` (each test gives Airflow its own root)."""
    runs = reader(root).runs()
    assert len(runs) == 1, [r.run_id for r in runs]
    return runs[0]
