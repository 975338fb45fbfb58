"""Scenario 5, metadata contention: many processes publishing into one store at once.

(a) 1, 4, 8, 16 processes each publish executions into one SQLite store through headrace's own path
    (ensure_run + launch_node: run context, attempt claim, driver registration, executor, publisher,
    every store call through Metadata.call and its retries).
(b) concurrent LocalDagRunner runs of a three-node pipeline against one fresh MariaDB database.
(c) 16 processes opening (and writing to) a brand-new SQLite store at the same moment.

Every store is then audited (_mariadb.audit): no lost publish (each launch has its COMPLETE execution),
no torn one (COMPLETE means every output LIVE with its OUTPUT/INPUT events and the content the executor
wrote; nothing LIVE from an execution that is not COMPLETE), and no error reached the caller.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from pathlib import Path
from typing import Any, NamedTuple

import _mariadb
from _reliability import FULL, record, trials

from headrace import Pipeline
from headrace.compiler import compile_pipeline
from headrace.metadata import Metadata, sqlite_metadata_connection_config

WRITERS = [1, 4, 8, 16] if FULL else [1, 4]
PUBLISHES = trials(200, 20)
RUNS = trials(16, 4)
RUN_TRIALS = trials(3, 1)
OPEN_PROCS = 16
OPEN_TRIALS = trials(25, 3)
_TIMEOUT_S = 900


def _one_node_ir(write_module, root: Path) -> str:
    mod = write_module(_mariadb.PIPELINE_SOURCE, "s05_nodes")
    return compile_pipeline(Pipeline("s05-publish", str(root), [mod.Make()], enable_cache=False)).dump()


def _chain_ir(write_module, root: Path) -> str:
    mod = write_module(_mariadb.PIPELINE_SOURCE, "s05_chain")
    make = mod.Make()
    one = mod.Copy(src=make.outputs["examples"]).with_id("Copy1")
    two = mod.Copy(src=one.outputs["examples"]).with_id("Copy2")
    return compile_pipeline(Pipeline("s05-runs", str(root), [make, one, two], enable_cache=False)).dump()


def _publisher(db: str, ir_json: str, writer: int, count: int, barrier: Any, results: Any) -> None:
    """One writer process: `count` executions, each in its own run, timed one by one."""
    from headrace.compiler.ir import load
    from headrace.launcher.single import ensure_run, launch_node

    latencies: list[float] = []
    errors: list[str] = []
    began = ended = 0.0
    try:
        ir = load(ir_json)
        md = Metadata(sqlite_metadata_connection_config(db))
        barrier.wait()
        began = time.time()
        for j in range(count):
            t0 = time.perf_counter()
            try:
                outcome = launch_node(md, ensure_run(md, ir, f"w{writer}-{j}"), "Make")
                if outcome.state != "COMPLETE":
                    errors.append(f"w{writer}-{j}: {outcome.state} {outcome.error}")
            except Exception as e:  # noqa: BLE001 - counted: an error surfaced to the caller
                errors.append(f"w{writer}-{j}: {type(e).__name__}: {e}")
            latencies.append(time.perf_counter() - t0)
        ended = time.time()
    except Exception as e:  # noqa: BLE001
        errors.append(f"writer {writer}: {type(e).__name__}: {e}")
    results.put((writer, latencies, errors, began, ended))


def _runner(db: str, ir_json: str, run_id: str, barrier: Any, results: Any) -> None:
    """One pipeline run under LocalDagRunner against MariaDB."""
    from headrace.compiler.ir import load
    from headrace.orchestrators import LocalDagRunner

    errors: list[str] = []
    seconds = began = 0.0
    try:
        ir = load(ir_json)
        runner = LocalDagRunner(
            executor_mode="inprocess",
            quiet=True,
            metadata_connection_config=_mariadb.config(db),
            raise_on_failure=False,
        )
        barrier.wait()
        began = time.time()
        t0 = time.perf_counter()
        result = runner.run(ir, run_id=run_id)
        seconds = time.perf_counter() - t0
        if result.state != "COMPLETE":
            errors.append(f"{run_id}: {result.state} {[str(e) for e in result.errors]}")
    except Exception as e:  # noqa: BLE001
        errors.append(f"{run_id}: {type(e).__name__}: {e}")
    results.put((run_id, seconds, errors, began, time.time()))


def _opener(paths: list[str], barrier: Any, results: Any) -> None:
    """Opens each new store at the barrier with all the others, and writes to it."""
    from headrace.launcher.runs import start_run  # noqa: F401 - imported before the barrier

    for path in paths:
        barrier.wait()
        try:
            md = Metadata(sqlite_metadata_connection_config(path))
            md.context_type_id("pipeline")
            md.ensure_contexts([("pipeline", f"p{os.getpid()}")])
            results.put(None)
        except Exception as e:  # noqa: BLE001
            results.put(f"{path}: {type(e).__name__}: {e}")


class Publishes(NamedTuple):
    """What `publish_concurrently` saw: every publish's latency, the writers' errors, the store audit's
    torn records, the runs whose publish was lost, the audit's facts, and the wall time of the writes."""

    latencies: list[float]
    errors: list[str]
    torn: list[str]
    lost: list[str]
    facts: dict[str, Any]
    wall: float


def publish_concurrently(db: str, ir_json: str, writers: int, count: int) -> Publishes:
    """`writers` processes, started together, each publishing `count` executions (run `w{writer}-{j}`)
    into the store `db`; then the store's audit."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(writers), ctx.Queue()
    procs = [ctx.Process(target=_publisher, args=(db, ir_json, w, count, barrier, results)) for w in range(writers)]
    for p in procs:
        p.start()
    got = [results.get(timeout=_TIMEOUT_S) for _ in procs]
    for p in procs:
        p.join(60)
    torn, facts = _mariadb.audit(Metadata(sqlite_metadata_connection_config(db)))
    lost = [
        f"w{w}-{j}"
        for w in range(writers)
        for j in range(count)
        if "Make" not in facts["complete_nodes"].get(f"w{w}-{j}", set())
    ]
    return Publishes(
        latencies=[x for _, lat, _, _, _ in got for x in lat],
        errors=[e for _, _, errs, _, _ in got for e in errs],
        torn=torn,
        lost=lost,
        facts=facts,
        wall=max(g[4] for g in got) - min(g[3] for g in got),
    )


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def test_metadata_contention(write_module, tmp_path):
    ctx = multiprocessing.get_context("spawn")
    violations: list[str] = []
    figures: dict[str, Any] = {"sqlite": {}, "mariadb": [], "new_store_opens": {}}
    started = time.perf_counter()

    # (a) SQLite: N writers, each PUBLISHES executions, one store per writer count.
    for n in WRITERS:
        root = tmp_path / f"sqlite-{n}"
        db = str(root / "metadata.sqlite")
        ir_json = _one_node_ir(write_module, root)
        pub = publish_concurrently(db, ir_json, n, PUBLISHES)
        lat = pub.latencies
        violations += pub.errors + pub.torn + [f"publish of run {r} lost" for r in pub.lost]
        figures["sqlite"][n] = {
            "executions": len(lat),
            "per_s": round(len(lat) / pub.wall, 1) if pub.wall > 0 else 0.0,
            "p50_ms": round(1000 * _pct(lat, 0.5), 1),
            "p99_ms": round(1000 * _pct(lat, 0.99), 1),
            "max_ms": round(1000 * max(lat, default=0.0), 1),
            "errors": len(pub.errors),
            "lost": len(pub.lost),
            "torn": len(pub.torn),
            "states": pub.facts["states"],
        }

    # (b) MariaDB: RUNS concurrent pipeline runs, a fresh database per trial.
    _mariadb.start()
    for trial in range(RUN_TRIALS):
        db = _mariadb.fresh_database(f"headrace_s05_{os.getpid()}_{trial}")
        try:
            root = tmp_path / f"mariadb-{trial}"
            ir_json = _chain_ir(write_module, root)
            barrier, results = ctx.Barrier(RUNS), ctx.Queue()
            procs = [
                ctx.Process(target=_runner, args=(db, ir_json, f"r{trial}-{i}", barrier, results)) for i in range(RUNS)
            ]
            for p in procs:
                p.start()
            got = [results.get(timeout=_TIMEOUT_S) for _ in procs]
            for p in procs:
                p.join(60)
            wall = max(g[4] for g in got) - min(g[3] for g in got)  # from the barrier: no process start-up
            errors = [e for _, _, errs, _, _ in got for e in errs]
            found, facts = _mariadb.audit(Metadata(_mariadb.config(db)))
            lost = [
                f"r{trial}-{i}"
                for i in range(RUNS)
                if facts["complete_nodes"].get(f"r{trial}-{i}", set()) != {"Make", "Copy1", "Copy2"}
            ]
            violations += errors + found + [f"run {r} lost a publish" for r in lost]
            run_s = [g[1] for g in got]
            figures["mariadb"].append(
                {
                    "runs": RUNS,
                    "executions": 3 * RUNS,
                    "per_s": round(3 * RUNS / wall, 1),
                    "run_p50_s": round(statistics.median(run_s), 2),
                    "run_max_s": round(max(run_s), 2),
                    "errors": len(errors),
                    "lost": len(lost),
                    "torn": len(found),
                }
            )
        finally:
            _mariadb.sql(f"DROP DATABASE IF EXISTS `{db}`")

    # (c) OPEN_PROCS processes opening one brand-new SQLite store at once, OPEN_TRIALS times.
    paths = [str(tmp_path / f"new-{t}" / "metadata.sqlite") for t in range(OPEN_TRIALS)]
    barrier, results = ctx.Barrier(OPEN_PROCS), ctx.Queue()
    procs = [ctx.Process(target=_opener, args=(paths, barrier, results)) for _ in range(OPEN_PROCS)]
    for p in procs:
        p.start()
    opened = [results.get(timeout=_TIMEOUT_S) for _ in range(OPEN_PROCS * OPEN_TRIALS)]
    for p in procs:
        p.join(60)
    open_failures = [o for o in opened if o is not None]
    violations += open_failures
    figures["new_store_opens"] = {"processes": OPEN_PROCS, "trials": OPEN_TRIALS, "failures": len(open_failures)}

    s = figures["sqlite"]
    figure = "; ".join(
        f"SQLite {n} writer{'s' if n > 1 else ''}: {f['per_s']}/s, p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, "
        f"max {f['max_ms']} ms"
        for n, f in s.items()
    )
    m = figures["mariadb"]
    figure += (
        f"; MariaDB {RUNS} concurrent runs x {RUN_TRIALS}: {min(x['per_s'] for x in m)}-{max(x['per_s'] for x in m)} "
        f"executions/s, slowest run {max(x['run_max_s'] for x in m)} s; {OPEN_PROCS} processes x {OPEN_TRIALS} new "
        f"SQLite stores: {len(open_failures)} failures; lost/torn/errors: {len(violations)}"
    )
    record(
        5,
        "Metadata contention",
        trials=sum(n * PUBLISHES for n in WRITERS) + RUN_TRIALS * RUNS + OPEN_PROCS * OPEN_TRIALS,
        faults=(
            f"{'/'.join(map(str, WRITERS))} processes x {PUBLISHES} executions on one SQLite store; {RUNS} concurrent "
            f"LocalDagRunner runs on MariaDB x {RUN_TRIALS}; {OPEN_PROCS} simultaneous first opens x {OPEN_TRIALS}"
        ),
        violations=len(violations),
        figure=figure,
        details={**figures, "wall_s": round(time.perf_counter() - started, 1), "examples": violations[:10]},
    )
    assert not violations, f"{len(violations)} lost/torn publishes or surfaced errors: {violations[:10]}"
