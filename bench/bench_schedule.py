"""`headrace schedule --on-new-data`: how soon a new span starts a run, and what the scheduler costs
while it waits.

    .venv/bin/python bench/bench_schedule.py

A light pipeline (CsvExampleGen over a landing folder of spans, then a no-op step) under `headrace
schedule --on-new-data` as a real process. Each round lands one span and times until the store records
a run started for it (the run's `started_ms` minus the moment the file was written). Then the scheduler
is left idle for 10 s: its CPU share (from /proc) and resident memory.
Budgets (issue 20): a new span starts a run within 5 s; idle, the scheduler takes <= 5 % of a core and
<= 200 MB.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import Figure

ROUNDS = 5
LATENCY_BUDGET_S, IDLE_CPU_BUDGET, MEMORY_BUDGET_MB = 5.0, 0.05, 200.0
PIPELINE = """
import os
from headrace import InputArtifact, Pipeline, component
from headrace.components import CsvExampleGen
from headrace.types import standard_artifacts


@component
def Consume(examples: InputArtifact[standard_artifacts.Examples]):
    pass


def create_pipeline():
    gen = CsvExampleGen(input_base=os.environ["BENCH_LANDING"],
                        input_config={"splits": [{"name": "all", "pattern": "span-{SPAN}/*.csv"}]})
    return Pipeline("bench_schedule", os.environ["BENCH_ROOT"], [gen, Consume(examples=gen.outputs["examples"])])
"""


def _runs(db: str) -> list:
    from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config

    return MetadataReader(Metadata(sqlite_metadata_connection_config(db))).runs() if os.path.exists(db) else []


def _land(landing: str, n: int) -> float:
    folder = os.path.join(landing, f"span-{n}")
    os.makedirs(folder)
    with open(os.path.join(folder, "data.csv"), "w") as f:
        f.write("x,y\n" + "".join(f"{i},{i * n}\n" for i in range(20)))
    return time.time()


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        line = next(x for x in f if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def _wait(db: str, count: int, timeout: float = 120) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = _runs(db)
        if len(runs) >= count and all(r.state != "RUNNING" for r in runs):
            return runs
        time.sleep(0.05)
    raise RuntimeError(f"{len(_runs(db))} runs after {timeout} s, waited for {count}")


def main() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="headrace-bench-schedule-") as tmp:
        landing, root = os.path.join(tmp, "landing"), os.path.join(tmp, "root")
        os.makedirs(landing)
        pipeline = os.path.join(tmp, "bench_schedule_pipeline.py")
        with open(pipeline, "w") as f:
            f.write(PIPELINE)
        env = {**os.environ, "BENCH_LANDING": landing, "BENCH_ROOT": root}
        db = os.path.join(root, "metadata.sqlite")
        _land(landing, 1)
        command = [
            sys.executable,
            "-m",
            "headrace.cli.main",
            "schedule",
            pipeline,
            "--on-new-data",
            "--debounce",
            "0.5",
        ]
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait(db, 1)
            latencies = []
            for n in range(2, ROUNDS + 2):
                landed = _land(landing, n)
                runs = _wait(db, n)
                latencies.append(runs[0].started_ms / 1000 - landed)
            before, t = _cpu_s(proc.pid), time.monotonic()
            time.sleep(10)
            idle = (_cpu_s(proc.pid) - before) / (time.monotonic() - t)
            rss = _rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    print(f"  latencies: {', '.join(f'{x:.2f}' for x in latencies)} s")
    return [
        Figure(
            "schedule: new span -> run started",
            statistics.median(latencies),
            "s",
            LATENCY_BUDGET_S,
            note=f"median of {ROUNDS}, debounce 0.5 s",
        ),
        Figure("schedule: slowest of the rounds", max(latencies), "s", LATENCY_BUDGET_S, False),
        Figure("schedule: idle CPU share", idle, "core", IDLE_CPU_BUDGET, note="10 s idle"),
        Figure("schedule: scheduler resident memory", rss, "MB", MEMORY_BUDGET_MB),
    ]


if __name__ == "__main__":
    import benchlib

    print(benchlib.figures_table(main()))
