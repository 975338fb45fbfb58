"""Scenario 14 (issue 17): the node's process under Airflow 3 is SIGKILLed mid-write.

Each node of the compiled DAG runs as `python -m headrace task run ...`, a child of Airflow's task. A
separate process SIGKILLs that child at a random moment of the first attempt's 16-chunk fsynced write (as
the OOM killer or a lost worker would). The task then fails, Airflow retries it (retries=1), and the retry
abandons the killed attempt (left RUNNING, its launcher dead) and runs the node again. After each trial:
the Airflow run and the headrace run succeeded, the killed attempt is FAILED, no LIVE artifact holds
partial content (the killed attempt's outputs are never published), nothing is left PENDING or RUNNING.
"""

from __future__ import annotations

import datetime
import random

from _kill_helpers import RETRIED_WRITE, retried_write_violations, start_killer
from _reliability import record, trials
from airflow_env import airflow_home, airflow_venv, dags_test, only_run

from headrace.orchestrators.airflow_dag_runner import write_dag

RETRY = {"retries": 1, "retry_delay": datetime.timedelta(0)}


def test_airflow_worker_killed_mid_write(write_module, tmp_path):
    mod = write_module(RETRIED_WRITE, "s14_pipeline")
    venv = airflow_venv("3")
    env = airflow_home(tmp_path / "home", venv)
    expected = mod.content(7)
    n = trials(full=12, short=2)
    rng = random.Random(14)
    violations: list[str] = []
    landed = late = 0
    for trial in range(n):
        root, dags, pidfile = tmp_path / f"t{trial}", tmp_path / f"dags{trial}", tmp_path / f"t{trial}.pid"
        write_dag(mod.create_pipeline(str(root), str(pidfile), "s14"), str(dags), RETRY)
        killer = start_killer(pidfile, rng.uniform(0.02, 0.3))  # the write takes ~0.35 s
        try:
            done = dags_test(env, venv, dags, "s14")
        finally:
            killer.wait(60)
        where = f"trial {trial}"
        killed = killer.returncode == 0
        landed += killed
        late += not killed
        if done.returncode != 0:
            violations.append(f"{where}: the Airflow run failed: {done.stdout[-1500:]}")
            continue
        run = only_run(root)
        if run.state != "COMPLETE":
            violations.append(f"{where}: run {run.state}")
        violations += retried_write_violations(root / "metadata.sqlite", killed, expected, pidfile, where)
    record(
        14,
        "Airflow worker (the node's process) killed mid-write",
        n,
        f"{landed} SIGKILLs of the `headrace task run` process of an Airflow 3 task mid-write ({late} too late)",
        len(violations),
        f"{len(violations)} half-published artifacts, failed Airflow runs or wrong executions in {n} trials; "
        "every killed attempt FAILED and Airflow's retry completed the node",
        {"killed": landed, "too_late": late, "violations": violations[:20]},
    )
    assert landed >= 1, f"no kill landed in {n} trials"
    assert not violations, "Airflow worker killed:\n" + "\n".join(violations[:20])
