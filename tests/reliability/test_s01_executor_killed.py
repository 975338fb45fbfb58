"""Scenario 1 (issue 11): the executor worker is SIGKILLed mid-write at random points.

A step writes a known content in fsynced chunks; a separate process SIGKILLs the worker running it
after a random delay (drawn over the step's whole duration, so some kills land before the first
byte, most mid-write, some after the last one while the result travels back, a few too late).
After each trial no LIVE artifact holds missing or partial content, no ABANDONED output (a value file
included) is left on disk, the killed execution is FAILED, and resuming the run re-executes exactly the
killed node and its descendants.
"""

from __future__ import annotations

import os
import random

from _kill_helpers import (
    ABANDONED,
    COMPLETE,
    FAILED,
    LIVE,
    PENDING,
    RUNNING,
    executions,
    live_contents,
    outputs_by_state,
    start_killer,
)
from _reliability import record, trials

from headrace import Pipeline
from headrace.orchestrators import LocalDagRunner

PIPELINE = """
import hashlib, os, time
from headrace import component, InputArtifact, OutputArtifact, OutputDict, Parameter
from headrace.types import standard_artifacts

CHUNKS, CHUNK = 16, 4096

def content(seed):
    return b''.join((f'{seed}:{i}:'.encode() * CHUNK)[:CHUNK] for i in range(CHUNKS))

@component
def Source(start: Parameter[int] = 7) -> OutputDict(seed=int):
    return {'seed': start}

@component
def Write(
    seed: int, data: OutputArtifact[standard_artifacts.Examples], pidfile: Parameter[str] = ''
) -> OutputDict(size=int):
    if pidfile:
        with open(pidfile + '.tmp', 'w') as f:
            f.write(str(os.getpid()))
        os.rename(pidfile + '.tmp', pidfile)  # the killer starts its clock now
    body = content(seed)
    with open(os.path.join(data.uri, 'data.bin'), 'wb') as f:
        for i in range(CHUNKS):
            f.write(body[i * CHUNK:(i + 1) * CHUNK])
            f.flush()
            os.fsync(f.fileno())
            time.sleep(0.01)  # a window of ~0.2 s: on a loaded 2-core machine the killer still lands in it
    if pidfile:
        os.rename(pidfile, pidfile + '.done')  # a killer that wakes up later finds nothing to kill
    return {'size': len(body)}

@component
def Check(data: InputArtifact[standard_artifacts.Examples], size: int) -> OutputDict(digest=str):
    with open(os.path.join(data.uri, 'data.bin'), 'rb') as f:
        body = f.read()
    if len(body) != size:
        raise ValueError(f'partial input: {len(body)} of {size} bytes')
    return {'digest': hashlib.sha256(body).hexdigest()}

@component
def Side(seed: int) -> OutputDict(twice=int):
    return {'twice': 2 * seed}
"""


def _pipeline(mod, root, pidfile: str = "") -> Pipeline:
    source = mod.Source()
    write = mod.Write(seed=source.outputs["seed"], pidfile=pidfile)
    check = mod.Check(data=write.outputs["data"], size=write.outputs["size"])
    side = mod.Side(seed=source.outputs["seed"])
    return Pipeline("s01", str(root), [source, write, check, side], enable_cache=False)


def test_executor_killed_mid_write(write_module, tmp_path):
    mod = write_module(PIPELINE, "s01_pipeline")
    runner = LocalDagRunner(quiet=True, max_workers=2, raise_on_failure=False)
    clean_root = tmp_path / "clean"
    clean = runner.run(_pipeline(mod, clean_root, str(tmp_path / "clean.pid")), run_id="clean")
    assert clean.succeeded, clean.errors
    reference = live_contents(clean_root / "metadata.sqlite")
    # The window to aim at: from the pid file (written as the step starts) to its last write, on a clean run.
    [(_node, uri)] = [
        o for o in outputs_by_state(clean_root / "metadata.sqlite", LIVE) if o[0] == "Write" and "data" in o[1]
    ]
    began = os.stat(tmp_path / "clean.pid.done").st_mtime
    window_s = max(0.01, os.stat(os.path.join(uri, "data.bin")).st_mtime - began) * 1.2
    assert reference["Write/data"][0]["data.bin"] == mod.content(7)

    n = trials(full=150, short=6)
    rng = random.Random(11)
    violations: list[str] = []
    landed = late = 0
    resume_states: dict[str, int] = {}
    for trial in range(n):
        root = tmp_path / f"t{trial}"
        db = root / "metadata.sqlite"
        pidfile = tmp_path / f"t{trial}.pid"
        killer = start_killer(pidfile, rng.uniform(0, window_s))
        try:
            first = runner.run(_pipeline(mod, root, str(pidfile)), run_id="victim")
        finally:
            killer.wait(30)
        where = f"trial {trial}"
        killed = first.node_states["Write"] == "FAILED"
        if not killed:
            late += 1  # the kill came after the step had finished: the run must be whole
            if not first.succeeded or live_contents(db) != reference:
                violations.append(f"{where}: a run the kill missed did not complete with the clean outputs")
            continue
        landed += 1
        if "ExecutorProcessDied" not in " ".join(str(e) for e in first.errors):
            violations.append(f"{where}: the killed step's error does not say its process died: {first.errors}")
        if first.node_states != {"Source": "COMPLETE", "Write": "FAILED", "Check": "SKIPPED", "Side": "COMPLETE"}:
            violations.append(f"{where}: states after the kill {first.node_states}")
        violations += _check_store(db, reference, where, after_resume=False)
        second = runner.run(_pipeline(mod, root), resume="victim")
        for node, state in second.node_states.items():
            resume_states[f"{node}:{state}"] = resume_states.get(f"{node}:{state}", 0) + 1
        if second.node_states != {"Source": "REUSED", "Write": "COMPLETE", "Check": "COMPLETE", "Side": "REUSED"}:
            violations.append(f"{where}: the resume ran {second.node_states} (errors {second.errors})")
        violations += _check_store(db, reference, where, after_resume=True)
    record(
        1,
        "Executor killed (SIGKILL) mid-write",
        n,
        f"{landed} SIGKILLs of the executor worker at random points of a 16-chunk fsynced write "
        f"({late} more landed after the step had finished)",
        len(violations),
        f"{len(violations)} LIVE artifacts with missing or partial content or wrong re-executions in {n} trials; "
        "every killed execution FAILED, every resume re-ran exactly the killed node and its descendant",
        {"killed": landed, "too_late": late, "resume_states": resume_states, "violations": violations[:20]},
    )
    assert landed >= max(1, n // 3), f"only {landed} of {n} kills landed while the step ran"
    assert not violations, "executor killed mid-write:\n" + "\n".join(violations[:20])


def _check_store(db, reference, where: str, after_resume: bool) -> list[str]:
    """No LIVE output differs from the clean run's; nothing PENDING or RUNNING is left; the killed
    attempt is FAILED; the executions per node are the ones expected."""
    found = []
    live = live_contents(db)
    for key, contents in live.items():
        for content in contents:
            if content not in reference.get(key, []):
                found.append(f"{where}: LIVE {key} holds {sorted(content)} ({sum(map(len, content.values()))} bytes)")
    if after_resume and set(live) != set(reference):
        found.append(f"{where}: LIVE outputs after resume {sorted(live)}, expected {sorted(reference)}")
    if outputs_by_state(db, PENDING):
        found.append(f"{where}: outputs left PENDING {outputs_by_state(db, PENDING)}")
    # A killed attempt's outputs are gone from disk, value files (`size`, written before the result travels
    # back) included, so no later attempt or reader can take them for published ones.
    left = [uri for _node, uri in outputs_by_state(db, ABANDONED) if os.path.lexists(uri)]
    if left:
        found.append(f"{where}: ABANDONED outputs left on disk {left}")
    states: dict[str, list[int]] = {}
    for _id, node, state in executions(db):
        states.setdefault(node, []).append(state)
    expected = {"Source": [COMPLETE], "Write": [FAILED], "Side": [COMPLETE]}
    if after_resume:
        expected = {**expected, "Write": [FAILED, COMPLETE], "Check": [COMPLETE]}
    if states != expected:
        found.append(f"{where}: executions {states}, expected {expected}")
    if any(RUNNING in s for s in states.values()):
        found.append(f"{where}: an execution is still RUNNING")
    return found
