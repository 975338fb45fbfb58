"""Scenario 11, store outage: the MariaDB server is stopped and started again in the middle of runs.

Each trial runs a three-node pipeline with `headrace run` (a subprocess, as a user would) against a
fresh MariaDB database, stops the server at a random moment, keeps it down for a random time (shorter
or longer than the store's reconnect window, HEADRACE_METADATA_OUTAGE_S, set low here) and starts it
again. Then: the run either completed or failed with one clear message naming the store (no Python
traceback); the store holds nothing half-published (_mariadb.audit); and `headrace run --resume`
completes the run. The server is restarted at the end even when the test fails.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import _mariadb
import pytest
from _reliability import record, trials

from headrace.metadata import Metadata

TRIALS = trials(20, 2)
OUTAGE_WINDOW_S = 3.0  # the store waits this long for the server before failing the run
PAUSE_S = 0.4  # each node sleeps this long, so a run lasts ~1.5 s and the outage lands inside it

PIPELINE = (
    _mariadb.PIPELINE_SOURCE
    + """
from headrace import Pipeline

make = Make(pause={pause})
one = Copy(src=make.outputs['examples'], pause={pause}).with_id('Copy1')
two = Copy(src=one.outputs['examples'], pause={pause}).with_id('Copy2')
pipeline = Pipeline('s11-outage', {root!r}, [make, one, two], enable_cache=False)
"""
)


@pytest.fixture
def mariadb_back_up():
    """MariaDB running before the test, and running again after it, whatever happened."""
    _mariadb.start()
    yield
    if not _mariadb.ping():
        _mariadb.restart_now()
    _mariadb.start()  # the project's script: users and grants as other tests expect


def _headrace(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    cli = [sys.executable, "-c", "from headrace.cli.main import main; main()", *args]
    return subprocess.Popen(cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _registered(db: str, run_id: str) -> bool:
    """Whether the run's context is in the store yet (read with the mysql client: no ML Metadata handle)."""
    query = f"SELECT COUNT(*) FROM `{db}`.Context WHERE name = '{run_id}'"
    done = subprocess.run(["mysql", *_mariadb.CLIENT, "-N", "-s", "-e", query], capture_output=True, text=True)
    return done.returncode == 0 and done.stdout.strip() not in ("", "0")


def test_store_outage(tmp_path, mariadb_back_up):
    rng = random.Random(11)
    env = {**os.environ, "HEADRACE_METADATA_OUTAGE_S": str(OUTAGE_WINDOW_S)}
    violations: list[str] = []
    outcomes = {"completed": 0, "failed_clearly": 0, "resumed": 0}
    messages: list[str] = []  # what a user saw when a run failed, for the report
    started = time.perf_counter()
    for trial in range(TRIALS):
        db = _mariadb.fresh_database(f"headrace_s11_{os.getpid()}_{trial}")
        root = tmp_path / f"t{trial}"
        pipeline = Path(tmp_path, f"outage_{trial}.py")
        pipeline.write_text(PIPELINE.format(pause=PAUSE_S, root=str(root)))
        run_id = f"outage-{trial}"
        delay = rng.uniform(0.0, 1.2)  # after the run is registered: inside one of its three nodes
        down_for = rng.uniform(0.5, 2 * OUTAGE_WINDOW_S)
        proc = _headrace("run", str(pipeline), "--metadata", _mariadb.uri(db), "--run-id", run_id, "-q", env=env)

        def outage(delay: float = delay, down_for: float = down_for, db: str = db, run_id: str = run_id) -> None:
            deadline = time.monotonic() + 60
            while not _registered(db, run_id) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(delay)
            _mariadb.stop()
            time.sleep(down_for)
            _mariadb.restart_now()

        fault = threading.Thread(target=outage)
        fault.start()
        try:
            out, err = proc.communicate(timeout=300)
        finally:
            fault.join()
        where = f"trial {trial} (outage at {delay:.1f} s for {down_for:.1f} s)"
        if proc.returncode == 0:
            outcomes["completed"] += 1
        else:
            described = f"mysql://{_mariadb.USER}@{_mariadb.HOST}:{_mariadb.PORT}/{db}"
            if described not in err or "Traceback" in err or "Traceback" in out:
                violations.append(
                    f"{where}: exit {proc.returncode}, the failure does not name the store cleanly: {err[-600:]!r}"
                )
            else:
                outcomes["failed_clearly"] += 1
                messages.append(err.strip().splitlines()[-1][:400] if err.strip() else "")
        found, _ = _mariadb.audit(Metadata(_mariadb.config(db)))
        violations += [f"{where}, after the outage: {v}" for v in found]
        if proc.returncode != 0:
            resume = _headrace("run", "--resume", run_id, "--metadata", _mariadb.uri(db), "-q", env=env)
            out, err = resume.communicate(timeout=300)
            if resume.returncode != 0:
                violations.append(f"{where}: the resume failed: {err[-600:]!r}")
            else:
                outcomes["resumed"] += 1
        found, facts = _mariadb.audit(Metadata(_mariadb.config(db)))
        violations += [f"{where}, after the resume: {v}" for v in found]
        if facts["complete_nodes"].get(run_id, set()) != {"Make", "Copy1", "Copy2"}:
            violations.append(f"{where}: the run did not end with every node COMPLETE: {facts}")
        _mariadb.sql(f"DROP DATABASE IF EXISTS `{db}`")
    seconds = time.perf_counter() - started
    record(
        11,
        "Store outage",
        trials=TRIALS,
        faults=(
            f"MariaDB shut down 0-1.2 s after a 3-node run registered, down 0.5-{2 * OUTAGE_WINDOW_S:g} s "
            f"(reconnect window {OUTAGE_WINDOW_S:g} s), then restarted"
        ),
        violations=len(violations),
        figure=(
            f"{TRIALS} outages: {outcomes['completed']} runs rode it out, {outcomes['failed_clearly']} failed naming "
            f"the store, {outcomes['resumed']} resumed to COMPLETE; {len(violations)} violations"
        ),
        details={**outcomes, "wall_s": round(seconds, 1), "examples": violations[:10], "messages": messages[:3]},
    )
    assert not violations, f"{len(violations)} store-outage violations: {violations[:5]}"
