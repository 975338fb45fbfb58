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
import hashlib
import os
import random

from _kill_helpers import COMPLETE, FAILED, PENDING, RUNNING, executions, live_contents, outputs_by_state, start_killer
from _reliability import record, trials
from airflow_env import airflow_home, airflow_venv, dags_test, only_run

from headrace.orchestrators.airflow_dag_runner import write_dag

PIPELINE = """
import hashlib, os, time
from headrace import component, InputArtifact, OutputArtifact, OutputDict, Parameter, Pipeline
from headrace.types import standard_artifacts

CHUNKS, CHUNK = 16, 4096

def content(seed):
    return b''.join((f'{seed}:{i}:'.encode() * CHUNK)[:CHUNK] for i in range(CHUNKS))

@component
def Source(start: Parameter[int] = 7) -> OutputDict(seed=int):
    return {'seed': start}

@component
def Write(seed: int, data: OutputArtifact[standard_artifacts.Examples],
          pidfile: Parameter[str]) -> OutputDict(size=int):
    first = not os.path.exists(pidfile) and not os.path.exists(pidfile + '.done')
    if first:  # the killer aims at the first attempt only; Airflow's retry must then complete
        with open(pidfile + '.tmp', 'w') as f:
            f.write(str(os.getpid()))
        os.rename(pidfile + '.tmp', pidfile)
    body = content(seed)
    with open(os.path.join(data.uri, 'data.bin'), 'wb') as f:
        for i in range(CHUNKS):
            f.write(body[i * CHUNK:(i + 1) * CHUNK])
            f.flush()
            os.fsync(f.fileno())
            time.sleep(0.02)
    if first:
        os.rename(pidfile, pidfile + '.done')
    return {'size': len(body)}

@component
def Check(data: InputArtifact[standard_artifacts.Examples], size: int) -> OutputDict(digest=str):
    with open(os.path.join(data.uri, 'data.bin'), 'rb') as f:
        body = f.read()
    if len(body) != size:
        raise ValueError(f'partial input: {len(body)} of {size} bytes')
    return {'digest': hashlib.sha256(body).hexdigest()}

def create_pipeline(root, pidfile):
    source = Source()
    write = Write(seed=source.outputs['seed'], pidfile=pidfile)
    check = Check(data=write.outputs['data'], size=write.outputs['size'])
    return Pipeline('s14', root, [source, write, check], enable_cache=False)
"""


RETRY = {"retries": 1, "retry_delay": datetime.timedelta(0)}


def test_airflow_worker_killed_mid_write(write_module, tmp_path):
    mod = write_module(PIPELINE, "s14_pipeline")
    venv = airflow_venv("3")
    env = airflow_home(tmp_path / "home", venv)
    expected = mod.content(7)
    n = trials(full=12, short=2)
    rng = random.Random(14)
    violations: list[str] = []
    landed = late = 0
    for trial in range(n):
        root, dags, pidfile = tmp_path / f"t{trial}", tmp_path / f"dags{trial}", tmp_path / f"t{trial}.pid"
        write_dag(mod.create_pipeline(str(root), str(pidfile)), str(dags), RETRY)
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
        db = root / "metadata.sqlite"
        states: dict[str, list[int]] = {}
        for _id, node, state in executions(db):
            states.setdefault(node, []).append(state)
        want = {"Source": [COMPLETE], "Write": [FAILED, COMPLETE] if killed else [COMPLETE], "Check": [COMPLETE]}
        if run.state != "COMPLETE" or states != want:
            violations.append(f"{where}: run {run.state}, executions {states}, expected {want}")
        live = live_contents(db)
        if [c.get("data.bin") for c in live.get("Write/data", [])] != [expected]:
            violations.append(f"{where}: LIVE Write/data {[sorted(c) for c in live.get('Write/data', [])]}")
        digest = live.get("Check/digest", [{}])[0].get("value", b"").decode()
        if digest != hashlib.sha256(expected).hexdigest():
            violations.append(f"{where}: Check saw {digest!r}")
        if outputs_by_state(db, PENDING) or any(RUNNING in s for s in states.values()):
            violations.append(f"{where}: something left PENDING or RUNNING: {states}")
        if killed and not os.path.exists(str(pidfile)):
            violations.append(f"{where}: the killed attempt's pid file is gone")
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
