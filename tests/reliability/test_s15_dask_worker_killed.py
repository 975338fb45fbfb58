"""Scenario 15 (issue 17): a Dask worker is SIGKILLed while it runs a node under BeamDagRunner.

BeamDagRunner with `--runner=DaskRunner` runs each node as a Dask task in a worker process of the
cluster `scripts/services.sh dask` starts (the `dask_cluster` fixture: a scheduler and two workers,
each under a nanny). A separate process SIGKILLs the worker process at a random moment of the first
attempt's 16-chunk fsynced write (as the OOM killer or a lost machine would). The nanny starts a new
worker; the scheduler gives the task to a worker again (Dask's own retry); that launch finds the killed
attempt RUNNING with its launcher dead, marks it FAILED (its outputs ABANDONED) and runs the node again.
After each trial: the run COMPLETE without a resume, the killed attempt FAILED, no LIVE artifact with
partial content (nothing of the killed attempt published), nothing left PENDING or RUNNING.
"""

from __future__ import annotations

import hashlib
import os
import random

from _kill_helpers import (
    ABANDONED,
    COMPLETE,
    FAILED,
    PENDING,
    RUNNING,
    executions,
    live_contents,
    outputs_by_state,
    start_killer,
)
from _reliability import record, trials

from headrace.orchestrators import BeamDagRunner

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
    if first:  # the killer aims at the first attempt only (the Dask worker's own pid: the step runs in it)
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
    return Pipeline('s15', root, [source, write, check], enable_cache=False)
"""


def test_dask_worker_killed_mid_node(write_module, tmp_path, dask_cluster):
    mod = write_module(PIPELINE, "s15_pipeline")
    args = ["--runner=DaskRunner", f"--dask_client_address={dask_cluster}"]
    runner = BeamDagRunner(beam_pipeline_args=args, quiet=True, raise_on_failure=False)
    expected = mod.content(7)
    n = trials(full=12, short=2)
    rng = random.Random(15)
    violations: list[str] = []
    landed = late = 0
    for trial in range(n):
        root, pidfile = tmp_path / f"t{trial}", tmp_path / f"t{trial}.pid"
        killer = start_killer(pidfile, rng.uniform(0.02, 0.3))  # the write takes ~0.35 s
        try:
            result = runner.run(mod.create_pipeline(str(root), str(pidfile)), run_id=f"s15-{trial}")
        finally:
            killer.wait(60)
        where = f"trial {trial}"
        killed = killer.returncode == 0
        landed += killed
        late += not killed
        db = root / "metadata.sqlite"
        states: dict[str, list[int]] = {}
        for _id, node, state in executions(db):
            states.setdefault(node, []).append(state)
        want = {"Source": [COMPLETE], "Write": [FAILED, COMPLETE] if killed else [COMPLETE], "Check": [COMPLETE]}
        if result.state != "COMPLETE" or states != want:
            violations.append(f"{where}: run {result.state} ({result.errors}), executions {states}, expected {want}")
        live = live_contents(db)
        if [c.get("data.bin") for c in live.get("Write/data", [])] != [expected]:
            violations.append(f"{where}: LIVE Write/data {[sorted(c) for c in live.get('Write/data', [])]}")
        digest = live.get("Check/digest", [{}])[0].get("value", b"").decode()
        if digest != hashlib.sha256(expected).hexdigest():
            violations.append(f"{where}: Check saw {digest!r}")
        if outputs_by_state(db, PENDING) or any(RUNNING in s for s in states.values()):
            violations.append(f"{where}: something left PENDING or RUNNING: {states}")
        if killed and not [o for o in outputs_by_state(db, ABANDONED) if o[0] == "Write"]:
            violations.append(f"{where}: the killed attempt's outputs are not ABANDONED")
        if killed and not os.path.exists(str(pidfile)):
            violations.append(f"{where}: the killed attempt's pid file is gone")
    record(
        15,
        "Dask worker killed while it runs a node",
        n,
        f"{landed} SIGKILLs of the Dask worker process running a BeamDagRunner node mid-write ({late} too late)",
        len(violations),
        f"{len(violations)} half-published artifacts, failed runs or wrong executions in {n} trials; every killed "
        "attempt FAILED with its outputs ABANDONED, and Dask's retry of the task completed the node and the run",
        {"killed": landed, "too_late": late, "violations": violations[:20]},
    )
    assert landed >= 1, f"no kill landed in {n} trials"
    assert not violations, "Dask worker killed:\n" + "\n".join(violations[:20])
