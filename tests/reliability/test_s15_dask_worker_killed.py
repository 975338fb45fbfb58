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

import random

from _kill_helpers import ABANDONED, RETRIED_WRITE, outputs_by_state, retried_write_violations, start_killer
from _reliability import record, trials

from headrace.orchestrators import BeamDagRunner


def test_dask_worker_killed_mid_node(write_module, tmp_path, dask_cluster):
    mod = write_module(RETRIED_WRITE, "s15_pipeline")
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
            result = runner.run(mod.create_pipeline(str(root), str(pidfile), "s15"), run_id=f"s15-{trial}")
        finally:
            killer.wait(60)
        where = f"trial {trial}"
        killed = killer.returncode == 0
        landed += killed
        late += not killed
        db = root / "metadata.sqlite"
        if result.state != "COMPLETE":
            violations.append(f"{where}: run {result.state}: {result.errors}")
        violations += retried_write_violations(db, killed, expected, pidfile, where)
        if killed and not [o for o in outputs_by_state(db, ABANDONED) if o[0] == "Write"]:
            violations.append(f"{where}: the killed attempt's outputs are not ABANDONED")
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
