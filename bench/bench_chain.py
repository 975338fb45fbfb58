"""LocalDagRunner per-node overhead: a chain of N no-op function components, uncached then cached.

    .venv/bin/python bench/bench_chain.py              # the benchmark
    .venv/bin/python bench/bench_chain.py --profile 100  # cProfile of the runner process, N=100

In each fresh process (median of REPEATS per N): import headrace; import ml_metadata explicitly
and time that import (the one-off ~0.2 s every first run in a process pays); build the chain
`Noop(x=prev.outputs['y']).with_id(f'n{i}')` in a Pipeline with enable_cache=True and a fresh temp
pipeline_root; run it with LocalDagRunner(quiet=True) (uncached, every node COMPLETE), then again
(every node must be CACHED).

The figure the budget is about: run() wall / N, where run() does not include the ml_metadata import
(it was done just before, in the same process). The raw (import + run() wall) / N is printed too.
Budgets: <= 5 ms/node uncached, <= 2 ms/node cached.

A separate fresh process measures the N-independent start-up pieces: the ml_metadata import,
opening (creating) a new SQLite store, booting an executor worker up to its first result, and a
warm worker's round trip per task.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import benchlib
from benchlib import Figure

SIZES = (20, 100)
REPEATS = 7
FIXED_REPEATS = 3
UNCACHED_BUDGET_MS = 5.0
CACHED_BUDGET_MS = 2.0
TMPFS = "/dev/shm"
_SYNC_NAMES = {-1: "FULL (SQLite's default)", 0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
REFERENCE = "TFX 1.16 LocalDagRunner on this machine kind: 26-49 ms/node uncached, 16-23 ms/node cached"


# -- child side -----------------------------------------------------------------------------------
def build_chain(n: int, root: str):
    from bench_components import Noop

    from headrace import Pipeline

    prev = Noop().with_id("n0")
    nodes = [prev]
    for i in range(1, n):
        prev = Noop(x=prev.outputs["y"]).with_id(f"n{i}")
        nodes.append(prev)
    return Pipeline(f"chain{n}", root, nodes, enable_cache=True)


def _import_all() -> float:
    t = time.perf_counter()
    import bench_components  # noqa: F401

    import headrace
    import headrace.orchestrators  # noqa: F401

    return time.perf_counter() - t


def _import_mlmd() -> float:
    t = time.perf_counter()
    import ml_metadata.metadata_store.metadata_store  # noqa: F401

    return time.perf_counter() - t


def _synchronous() -> int:
    """PRAGMA synchronous of ML Metadata's last SQLite connection in this process (-1: not set by headrace)."""
    from headrace.metadata import sqlite_sync

    level = sqlite_sync.last_synchronous
    return -1 if level is None else level


def child_chain(n: int) -> None:

    t_headrace = _import_all()
    t_mlmd = _import_mlmd()
    from headrace.orchestrators import LocalDagRunner

    with tempfile.TemporaryDirectory(prefix="headrace-bench-") as tmp:
        t = time.perf_counter()
        pipeline = build_chain(n, os.path.join(tmp, "root"))
        t_build = time.perf_counter() - t
        walls, states = [], []
        for _ in range(2):
            t = time.perf_counter()
            result = LocalDagRunner(quiet=True).run(pipeline)
            walls.append(time.perf_counter() - t)
            states.append(result.node_states)
    for run, expected in zip(states, ("COMPLETE", "CACHED"), strict=True):
        wrong = {k: v for k, v in run.items() if v != expected}
        if len(run) != n or wrong:
            sys.exit(f"expected {n} nodes all {expected}, got {len(run)} nodes; not {expected}: {wrong}")
    benchlib.emit(
        {
            "n": n,
            "import_headrace": t_headrace,
            "import_mlmd": t_mlmd,
            "build": t_build,
            "uncached": walls[0],
            "cached": walls[1],
            "synchronous": _synchronous(),
        }
    )


def child_fixed() -> None:
    import statistics

    _import_all()
    t_mlmd = _import_mlmd()
    from headrace.launcher.task import ExecutionTask
    from headrace.launcher.worker import Worker
    from headrace.metadata.config import sqlite_metadata_connection_config
    from headrace.metadata.store import Metadata
    from headrace.types import standard_artifacts

    with tempfile.TemporaryDirectory(prefix="headrace-bench-") as tmp:
        t = time.perf_counter()
        md = Metadata(sqlite_metadata_connection_config(os.path.join(tmp, "metadata.sqlite")))
        t_open = time.perf_counter() - t
        writes = []
        type_id = md.execution_type_id("probe")
        for _ in range(20):
            ex = md.pb.Execution(type_id=type_id, last_known_state=md.pb.Execution.RUNNING)
            t = time.perf_counter()
            md.call(md.store.put_execution, ex, [], [])
            writes.append(time.perf_counter() - t)

        def task(i: int) -> ExecutionTask:
            out = standard_artifacts.Integer()
            out.uri = os.path.join(tmp, f"y{i}")
            return ExecutionTask(
                node_id=f"n{i}",
                executor={"kind": "python_function", "module": "bench_components", "qualname": "Noop", "file": ""},
                input_dict={},
                output_dict={"y": [out.to_dict()]},
                exec_properties={},
                pipeline_name="probe",
                pipeline_root=tmp,
                run_id="probe",
                execution_id=i,
                tmp_dir=tmp,
            )

        t = time.perf_counter()
        worker = Worker()
        first = worker.run(task(0))
        t_boot = time.perf_counter() - t
        trips = []
        for i in range(1, 21):
            t = time.perf_counter()
            res = worker.run(task(i))
            trips.append(time.perf_counter() - t)
        worker.close()
    if not (first.ok and res.ok):
        sys.exit(f"worker probe failed: {first.message or res.message}\n{first.traceback or res.traceback}")
    benchlib.emit(
        {
            "import_mlmd": t_mlmd,
            "open_store": t_open,
            "store_write": statistics.median(writes),
            "synchronous": _synchronous(),
            "worker_boot": t_boot,
            "worker_trip": statistics.median(trips),
        }
    )


def child_profile(n: int) -> None:
    import cProfile
    import pstats

    _import_all()
    t_mlmd = _import_mlmd()
    from headrace.orchestrators import LocalDagRunner

    with tempfile.TemporaryDirectory(prefix="headrace-bench-") as tmp:
        pipeline = build_chain(n, os.path.join(tmp, "root"))
        for label in ("uncached", "cached"):
            prof = cProfile.Profile()
            t = time.perf_counter()
            prof.enable()
            LocalDagRunner(quiet=True).run(pipeline)
            prof.disable()
            wall = time.perf_counter() - t
            print(f"\n##### N={n} {label}: run() wall {wall * 1000:.1f} ms (ml_metadata import before: {t_mlmd:.3f} s)")
            print("##### runner process, main thread (the executor runs in a worker process: see worker round trip)")
            stats = pstats.Stats(prof, stream=sys.stdout)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(30)


# -- driver side ----------------------------------------------------------------------------------
def main() -> list[Figure]:
    print("=" * 100)
    print(
        f"bench_chain: chain of N no-op function components, LocalDagRunner(quiet=True), enable_cache=True, N={SIZES}"
    )
    print("=" * 100)
    print(benchlib.bytecode_note())
    tmp = tempfile.gettempdir()
    print(f"pipeline_root (and its SQLite store) under {tmp}, on {benchlib.filesystem(tmp)}; set TMPDIR to move it")
    # Interleaved (20, 100, 20, 100, ...) so that drifting machine load hits both sizes alike.
    res: dict[int, list[dict]] = {n: [] for n in SIZES}
    for _ in range(REPEATS):
        for n in SIZES:
            res[n].append(benchlib.run_child("bench_chain.py", ["chain", str(n)]))
    fixed = benchlib.run_children("bench_chain.py", ["fixed"], FIXED_REPEATS)
    med = {n: {k: benchlib.median([r[k] for r in runs]) for k in runs[0]} for n, runs in res.items()}

    figures: list[Figure] = []
    rows = []
    for n in SIZES:
        m = med[n]
        for kind, budget in (("uncached", UNCACHED_BUDGET_MS), ("cached", CACHED_BUDGET_MS)):
            walls = [r[kind] for r in res[n]]
            per_node = m[kind] / n * 1000
            if kind == "uncached":
                raw = benchlib.median([(r[kind] + r["import_mlmd"]) for r in res[n]]) / n * 1000
                raw_text = f"{raw:.2f}"
            else:
                raw_text = f"{per_node:.2f} (import paid by run 1)"
            fig = Figure(f"chain N={n} {kind}", per_node, "ms/node", budget, note="run() wall / N, excl. mlmd import")
            figures.append(fig)
            rows.append(
                (
                    n,
                    kind,
                    f"{m[kind] * 1000:.1f}",
                    benchlib.spread(walls, 1000),
                    f"{per_node:.2f}",
                    raw_text,
                    f"<= {budget:g}",
                    fig.verdict,
                )
            )
    headers = (
        "N",
        "run",
        "run() wall ms",
        "min-max ms",
        "BUDGET FIGURE ms/node",
        "raw (mlmd import + wall)/N ms/node",
        "budget ms/node",
        "verdict",
    )
    print(f"median of {REPEATS} fresh processes per N; each process: the uncached run, then the cached run")
    print(
        f"ML Metadata's SQLite in WAL mode, synchronous={_sync_name(res[SIZES[-1]][0])} "
        f"({'NORMAL: no fsync per commit' if res[SIZES[-1]][0]['synchronous'] == 1 else 'an fsync per commit'}; "
        "HEADRACE_SQLITE_SYNCHRONOUS=FULL for one)"
    )
    print("BUDGET FIGURE = run() wall / N; ml_metadata was imported (and timed) in the same process before run()")
    print(benchlib.table(headers, rows, right=(0, 2, 3, 4)))
    print()

    lo, hi = SIZES[0], SIZES[-1]
    print(f"marginal per node = (T({hi}) - T({lo})) / {hi - lo}, T = median run() wall; the start-up cancels out:")
    marg_rows = []
    for kind, budget in (("uncached", UNCACHED_BUDGET_MS), ("cached", CACHED_BUDGET_MS)):
        marginal = (med[hi][kind] - med[lo][kind]) / (hi - lo) * 1000
        intercept = med[lo][kind] * 1000 - lo * marginal
        fig = Figure(
            f"chain marginal {kind}",
            marginal,
            "ms/node",
            budget,
            counted=False,
            note=f"(T({hi})-T({lo}))/{hi - lo}; fixed part {intercept:.0f} ms",
        )
        figures.append(fig)
        marg_rows.append((kind, f"{marginal:.2f}", f"<= {budget:g}", fig.verdict, f"{intercept:.0f}"))
    print(
        benchlib.table(
            (
                "run",
                "marginal ms/node",
                "budget ms/node",
                "verdict (reference)",
                "fixed part ms = T(20) - 20 x marginal",
            ),
            marg_rows,
            right=(1, 4),
        )
    )
    print()

    f = {k: benchlib.median([r[k] for r in fixed]) for k in fixed[0]}
    t_mlmd_chain = benchlib.median([r["import_mlmd"] for runs in res.values() for r in runs])
    print(f"N-independent start-up pieces (median of {FIXED_REPEATS} fresh processes unless noted):")
    print(
        benchlib.table(
            ("piece", "ms", "note"),
            [
                (
                    "import ml_metadata",
                    f"{t_mlmd_chain * 1000:.1f}",
                    f"in the chain processes ({REPEATS * len(SIZES)}), before run(): excluded from the budget figure",
                ),
                ("import ml_metadata", f"{f['import_mlmd'] * 1000:.1f}", "in the start-up probe processes"),
                ("open a new SQLite store", f"{f['open_store'] * 1000:.1f}", "Metadata(config): WAL + schema creation"),
                (
                    "one store write",
                    f"{f['store_write'] * 1000:.2f}",
                    f"put_execution, median of 20 (2 per uncached node), SQLite synchronous={_sync_name(f)}",
                ),
                (
                    "boot executor worker",
                    f"{f['worker_boot'] * 1000:.1f}",
                    "Worker() to the first Noop result (overlaps the store opening in run())",
                ),
                (
                    "warm worker round trip",
                    f"{f['worker_trip'] * 1000:.2f}",
                    "per uncached node, median of 20 Noop tasks (writes the value file)",
                ),
            ],
            right=(1,),
        )
    )
    figures.append(
        Figure("import ml_metadata (one-off)", t_mlmd_chain * 1000, "ms", note="excluded from chain figures")
    )
    print()
    tmpfs_section(figures)
    print(f"reference: {REFERENCE}")
    banner = benchlib.over_banner(figures)
    if banner:
        print(banner)
    print()
    return figures


def _sync_name(child: dict) -> str:
    return _SYNC_NAMES.get(int(child["synchronous"]), "?")


def tmpfs_section(figures: list[Figure]) -> None:
    """The same chain with pipeline_root on tmpfs: how much of the per-node time is storage latency
    (SQLite commits, mkdir) rather than CPU. For information; skipped when TMPDIR is tmpfs already."""
    if not os.path.isdir(TMPFS) or "tmpfs" not in benchlib.filesystem(TMPFS):
        return
    if "tmpfs" in benchlib.filesystem(tempfile.gettempdir()):
        return
    n = SIZES[-1]
    runs = [benchlib.run_child("bench_chain.py", ["chain", str(n)], extra_env={"TMPDIR": TMPFS}) for _ in range(3)]
    parts = []
    for kind in ("uncached", "cached"):
        per_node = benchlib.median([r[kind] for r in runs]) / n * 1000
        figures.append(Figure(f"chain N={n} {kind}, root on tmpfs", per_node, "ms/node", note="info: no disk latency"))
        parts.append(f"{kind} {per_node:.2f} ms/node")
    print(f"for comparison, N={n} with pipeline_root on tmpfs (TMPDIR={TMPFS}, median of 3): {', '.join(parts)}")
    print("  (the difference to the table above is storage latency: SQLite WAL commits, mkdir of output dirs)")
    print()


def profile(n: int) -> None:
    """Prints a cProfile of the runner process for N (uncached, then cached)."""
    import subprocess

    subprocess.run([sys.executable, os.path.abspath(__file__), "--child", "profile", str(n)], check=True)


if __name__ == "__main__":
    if benchlib.is_child(sys.argv):
        mode = sys.argv[2]
        if mode == "chain":
            child_chain(int(sys.argv[3]))
        elif mode == "fixed":
            child_fixed()
        elif mode == "profile":
            child_profile(int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--profile":
        profile(int(sys.argv[2]) if len(sys.argv) > 2 else 100)
    else:
        main()
