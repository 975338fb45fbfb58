"""Ctrl-C during a run: the running step is CANCELED, its outputs ABANDONED and removed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from conftest import sql

PIPELINE = """
import os, sys, time
from headrace import component, OutputArtifact, OutputDict, Pipeline
from headrace.types import standard_artifacts
from headrace.orchestrators import LocalDagRunner

@component
def Slow(out: OutputArtifact[standard_artifacts.Examples]):
    with open(os.path.join(out.uri, 'partial'), 'w') as f:
        f.write('x')
    print('started', flush=True)
    time.sleep(60)

@component
def After() -> OutputDict(x=int):
    return {'x': 1}

if __name__ == '__main__':
    slow = Slow()
    after = After().add_upstream_node(slow)
    LocalDagRunner(quiet=True).run(Pipeline('interrupted', sys.argv[1], [after]), run_id='ctrl-c')
"""


def test_interrupt_cancels_the_running_step(tmp_path):
    path = tmp_path / "slow_pipeline.py"
    path.write_text(textwrap.dedent(PIPELINE))
    root = tmp_path / "root"
    proc = subprocess.Popen([sys.executable, str(path), str(root)])
    # What the step prints goes to its log (not the runner's terminal): wait for its line there.
    deadline = time.monotonic() + 60
    while not any("started" in log.read_text() for log in root.glob("Slow/.system/logs/*.log")):
        assert proc.poll() is None and time.monotonic() < deadline, "the step did not start"
        time.sleep(0.05)
    started = time.monotonic()
    os.kill(proc.pid, signal.SIGINT)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    assert time.monotonic() - started < 10  # it did not wait for the 60 s step
    db = root / "metadata.sqlite"
    assert [s for (s,) in sql(db, "SELECT last_known_state FROM Execution")] == [6]  # CANCELED
    outputs = sql(db, "SELECT state, uri FROM Artifact")
    assert [s for s, _ in outputs] == [5]  # ABANDONED
    assert not os.path.exists(outputs[0][1])
    [(state,)] = sql(db, "SELECT string_value FROM ContextProperty WHERE name = 'state'")
    assert state == "CANCELED"
