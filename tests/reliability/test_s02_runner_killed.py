"""Scenario 2 (issue 11): the runner process is SIGKILLed at random points, then the run is resumed.

A python script runs a five-node pipeline (a diamond plus a tail, each step writing fsynced chunks)
with LocalDagRunner; a separate process SIGKILLs the script at a random moment of its run (drawn
over a clean run's duration, from just before `run()` to its end). The run is then resumed (or
started, if the kill came before it was registered). Per trial: at most one COMPLETE execution per
node in the run, no node that had completed runs again, nothing left RUNNING or PENDING, and the
LIVE outputs are identical to a clean run's.
"""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from _kill_helpers import COMPLETE, PENDING, RUNNING, executions, live_contents, outputs_by_state, start_killer
from _reliability import record, trials

from headrace.cli.loader import load_file_as_module
from headrace.errors import MetadataError
from headrace.orchestrators import LocalDagRunner

PIPELINE = """
import os, sys, time
from headrace import component, InputArtifact, OutputArtifact, OutputDict, Pipeline
from headrace.types import standard_artifacts

def _write(uri, text):
    with open(os.path.join(uri, 'data.txt'), 'w') as f:
        for i in range(8):
            f.write(f'{text}:{i};')
            f.flush()
            os.fsync(f.fileno())
            time.sleep(0.002)

def _read(art):
    with open(os.path.join(art.uri, 'data.txt')) as f:
        return f.read()

@component
def A(out: OutputArtifact[standard_artifacts.Examples]) -> OutputDict(n=int):
    _write(out.uri, 'a')
    return {'n': 1}

@component
def B(src: InputArtifact[standard_artifacts.Examples], out: OutputArtifact[standard_artifacts.Examples]):
    _write(out.uri, 'b<' + _read(src) + '>')

@component
def C(src: InputArtifact[standard_artifacts.Examples], out: OutputArtifact[standard_artifacts.Examples]):
    _write(out.uri, 'c<' + _read(src) + '>')

@component
def D(n: int, out: OutputArtifact[standard_artifacts.Examples]):
    _write(out.uri, f'd{n}')

@component
def E(left: InputArtifact[standard_artifacts.Examples], right: InputArtifact[standard_artifacts.Examples],
      out: OutputArtifact[standard_artifacts.Examples]) -> OutputDict(size=int):
    text = _read(left) + '|' + _read(right)
    _write(out.uri, text)
    return {'size': len(text)}

def create_pipeline(root):
    a = A()
    b = B(src=a.outputs['out'])
    c = C(src=b.outputs['out'])
    d = D(n=a.outputs['n'])
    e = E(left=c.outputs['out'], right=d.outputs['out'])
    return Pipeline('s02', root, [a, b, c, d, e], enable_cache=False)

if __name__ == '__main__':
    from headrace.orchestrators import LocalDagRunner
    root, pidfile = sys.argv[1], sys.argv[2]
    pipeline = create_pipeline(root)
    runner = LocalDagRunner(quiet=True, max_workers=2)
    with open(pidfile + '.tmp', 'w') as f:
        f.write(str(os.getpid()))
    os.rename(pidfile + '.tmp', pidfile)  # the killer's clock starts here, just before run()
    started = time.perf_counter()
    runner.run(pipeline, run_id='victim')
    print(time.perf_counter() - started)
"""
NODES = ("A", "B", "C", "D", "E")


def _script(path: Path, root: Path, pidfile: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(path), str(root), str(pidfile)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_runner_killed_then_resumed(tmp_path):
    path = tmp_path / "s02_pipeline.py"
    path.write_text(textwrap.dedent(PIPELINE))
    mod = load_file_as_module(str(path))
    clean = _script(path, tmp_path / "clean", tmp_path / "clean.pid")
    out, err = clean.communicate(timeout=120)
    assert clean.returncode == 0, err
    run_s = float(out.split()[-1])
    reference = live_contents(tmp_path / "clean" / "metadata.sqlite")
    assert len(reference) == 7, reference  # five data outputs, A's n and E's size

    n = trials(full=60, short=4)
    rng = random.Random(2)
    violations: list[str] = []
    completed_at_kill: dict[str, int] = {}
    survived = 0
    started = time.perf_counter()
    for trial in range(n):
        root = tmp_path / f"t{trial}"
        db = root / "metadata.sqlite"
        pidfile = tmp_path / f"t{trial}.pid"
        killer = start_killer(pidfile, rng.uniform(0, run_s * 1.05))
        proc = _script(path, root, pidfile)
        proc.communicate(timeout=120)
        killer.wait(30)
        where = f"trial {trial}"
        if proc.returncode == 0:
            survived += 1  # the kill came after the run ended
        elif proc.returncode != -9:
            violations.append(f"{where}: the runner exited with {proc.returncode}, not by the SIGKILL")
            continue
        before = executions(db)
        done_before = {node for _id, node, state in before if state == COMPLETE}
        completed_at_kill[str(len(done_before))] = completed_at_kill.get(str(len(done_before)), 0) + 1
        try:
            result = LocalDagRunner(quiet=True, raise_on_failure=False).run(
                mod.create_pipeline(str(root)), resume="victim"
            )
        except MetadataError as e:
            if "No run 'victim'" not in str(e):
                violations.append(f"{where}: the resume failed: {e}")
                continue
            result = LocalDagRunner(quiet=True, raise_on_failure=False).run(
                mod.create_pipeline(str(root)), run_id="victim"
            )  # killed before the run was registered: run it
        if not result.succeeded:
            violations.append(f"{where}: the resumed run ended {result.state}: {result.errors}")
        after = executions(db)
        new = [(node, state) for ex_id, node, state in after if ex_id not in {b[0] for b in before}]
        rerun = sorted({node for node, _state in new} & done_before)
        if rerun:
            violations.append(f"{where}: nodes that had completed ran again: {rerun}")
        for node in NODES:
            complete = sum(1 for _id, n_id, state in after if n_id == node and state == COMPLETE)
            if complete != 1:
                violations.append(f"{where}: {complete} COMPLETE executions of {node}")
        if any(state == RUNNING for _id, _node, state in after):
            violations.append(f"{where}: an execution is still RUNNING")
        if outputs_by_state(db, PENDING):
            violations.append(f"{where}: outputs left PENDING")
        if live_contents(db) != reference:
            violations.append(f"{where}: the LIVE outputs differ from a clean run's")
    seconds = time.perf_counter() - started
    kills = n - survived
    record(
        2,
        "Runner killed (SIGKILL), then resumed",
        n,
        f"{kills} SIGKILLs of the runner process (a script running LocalDagRunner) at random moments of a "
        f"five-node run ({survived} more came after it ended)",
        len(violations),
        f"{len(violations)} violations in {n} kill-and-resume trials: at most one COMPLETE execution per node, "
        "no completed node re-run, outputs identical to a clean run",
        {
            "nodes_complete_at_kill": completed_at_kill,
            "clean_run_s": round(run_s, 3),
            "trials_s": round(seconds, 1),
            "violations": violations[:20],
        },
    )
    assert kills >= max(1, n // 2), f"only {kills} of {n} kills landed during the run"
    assert not violations, "runner killed:\n" + "\n".join(violations[:20])
