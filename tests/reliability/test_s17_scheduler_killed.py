"""Scenario 17, the scheduler killed and restarted at random moments: `headrace schedule --on-new-data`
on a light pipeline (CsvExampleGen over a landing folder, then a step that pauses), while spans land
one by one; at random moments the scheduler is SIGKILLed (alone, or with its run: its process group)
and started again.

Violations: two runs started for the same data (the same digest of the landing folder's files); a
span that landed and that no run saw (a lost trigger: the last run's files must hold every span); a
run left other than COMPLETE at the end; a run with more than one COMPLETE execution of a node.
"""

from __future__ import annotations

import json
import random
import signal
import time
from collections import Counter
from pathlib import Path

from _reliability import record, trials
from scheduling import Scheduling, land_span, runs_in, setup_pipeline

from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config

KILLS = trials(12, 3)


def _settle(root: Path, spans: int, timeout: float = 120) -> list:
    """The runs once one of them saw every span and none is RUNNING."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = runs_in(root)
        seen = {f for r in runs if r.state == "COMPLETE" for f in json.loads(r.trigger).get("files", [])}
        if all(r.state != "RUNNING" for r in runs) and len({f.split(":")[0] for f in seen}) >= spans:
            return runs
        time.sleep(0.3)
    return runs_in(root)


def test_the_scheduler_killed_and_restarted_at_random_moments(tmp_path: Path) -> None:
    rng = random.Random(17)
    pipeline, landing, env = setup_pipeline(tmp_path, pause=1.0)
    root = tmp_path / "root"
    spans, kills, group_kills = 0, 0, 0
    scheduling = Scheduling(pipeline, env)
    started = time.perf_counter()
    try:
        for _ in range(KILLS):
            for _ in range(rng.choice([1, 1, 2])):
                spans += 1
                land_span(landing, spans)
                time.sleep(rng.uniform(0.0, 0.3))
            time.sleep(rng.uniform(0.2, 3.0))  # before, during or after the run the span starts
            group = rng.random() < 0.5
            scheduling.stop(signal.SIGKILL, group=group)
            kills, group_kills = kills + 1, group_kills + group
            if rng.random() < 0.3:  # data lands while no scheduler runs
                spans += 1
                land_span(landing, spans)
            scheduling = Scheduling(pipeline, env)
        runs = _settle(root, spans)
    finally:
        scheduling.stop()
    seconds = time.perf_counter() - started

    violations = []
    digests = Counter(json.loads(r.trigger)["data"] for r in runs)
    violations += [f"{n} runs for the same data {d}" for d, n in digests.items() if n > 1]
    seen = {f.split(":")[0] for r in runs if r.state == "COMPLETE" for f in json.loads(r.trigger).get("files", [])}
    landed = {str(landing / f"span-{n}" / "data.csv") for n in range(1, spans + 1)}
    violations += [f"span {p} was never run on (a lost trigger)" for p in sorted(landed - seen)]
    violations += [f"run {r.run_id} ended {r.state}" for r in runs if r.state != "COMPLETE"]
    reader = MetadataReader(Metadata(sqlite_metadata_connection_config(str(root / "metadata.sqlite"))))
    for r in runs:
        complete = Counter(e.node_id for e in reader.executions(r.run_id) if e.state in ("COMPLETE", "CACHED"))
        violations += [f"run {r.run_id}: {n} ran {k} times" for n, k in complete.items() if k > 1]
    resumed = sum(1 for r in runs if r.resumed)
    record(
        17,
        "The scheduler killed and restarted at random moments",
        kills,
        f"{kills} SIGKILLs of headrace schedule --on-new-data ({group_kills} with its run) while {spans} spans "
        "landed, some while no scheduler ran",
        len(violations),
        f"{spans} spans, {len(runs)} runs ({resumed} resumed after their process died) in {seconds:.0f} s: no two "
        f"runs for the same data, every span run on, every run COMPLETE; {len(violations)} violations",
        {"violations": violations[:20], "runs": len(runs), "spans": spans},
    )
    assert not violations, violations[:20]
