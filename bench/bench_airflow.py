"""The main job under Airflow 3 (for information, next to LocalDagRunner's figure in bench_penguin):
`headrace compile --target airflow`, then `airflow dags test penguin` in Airflow 3's own virtual
environment (scripts/airflow.sh makes it). Each of the 11 tasks is a fresh `headrace task run` process,
7 of which import TensorFlow (about 10 s each here): the figure is mostly those imports.

    .venv/bin/python bench/bench_airflow.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time

import benchlib
from benchlib import Figure

REPO = os.path.dirname(benchlib.BENCH_DIR)
PIPELINE = os.path.join(REPO, "pipelines", "penguin", "pipeline.py")


def _run(args: list[str], env: dict[str, str], timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])} failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return done


def main() -> list[Figure]:
    _run(["bash", os.path.join(REPO, "scripts", "airflow.sh"), "3"], dict(os.environ))
    airflow = os.path.join(REPO, ".venv-airflow", "bin", "airflow")
    work = tempfile.mkdtemp(prefix="headrace-bench-airflow-")
    try:
        env = {
            **os.environ,
            "HEADRACE_ROOT": os.path.join(work, "root"),
            "AIRFLOW_HOME": os.path.join(work, "home"),
            "AIRFLOW__CORE__DAGS_FOLDER": os.path.join(work, "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{os.path.join(work, 'airflow.db')}",
            "PYTHONWARNINGS": "ignore",
        }
        env.pop("VIRTUAL_ENV", None)
        headrace = [sys.executable, "-m", "headrace"]
        _run([*headrace, "compile", PIPELINE, "--target", "airflow", "-o", env["AIRFLOW__CORE__DAGS_FOLDER"]], env)
        _run([airflow, "db", "migrate"], env)
        started = time.perf_counter()
        _run([airflow, "dags", "test", "penguin"], env)
        wall = time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"penguin on Airflow 3 (dags test): {wall:.1f} s")
    note = "11 tasks, each a fresh process (7 import TensorFlow); compare LocalDagRunner's first run"
    return [Figure("penguin first run, Airflow 3 dags test", wall, "s", note=note)]


if __name__ == "__main__":
    print(benchlib.figures_table(main()))
