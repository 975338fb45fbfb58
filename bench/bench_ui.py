"""`headrace ui` on a big store: 10,000 runs of a 10-node pipeline in one SQLite store.

    .venv/bin/python bench/bench_ui.py                 # builds the store (about a minute), measures
    .venv/bin/python bench/bench_ui.py --runs 2000     # a smaller store

A child process writes the store through headrace's own launcher API (start_run, one lineage write
per run: ten executions with an output each, their node associations, the final state), one run in
ten FAILED at a node. Then `headrace ui` starts as a real process on it and is asked, over HTTP:
the runs page (newest page, a page deep in the store, filtered by state), a run page and the run's
JSON status, the metrics page (the pipeline's numbers over its latest 50 runs) and the compare page
(two runs side by side), each many times (the first answer of each kind is reported apart: it fills the
per-run caches). Figures: the median answer of each, and the server's peak resident memory (VmHWM).
Budgets (issue 19): runs page <= 300 ms, run page <= 200 ms, <= 300 MB. The issue names none for the
metrics and compare pages: each reads many runs as the runs page does, so each is held to its 300 ms.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import benchlib
from benchlib import Figure

RUNS, NODES, FAIL_EVERY = 10_000, 10, 10
REQUESTS = 30
RUNS_PAGE_BUDGET_MS, RUN_PAGE_BUDGET_MS, MEMORY_BUDGET_MB = 300.0, 200.0, 300.0


# -- child side: the store ------------------------------------------------------------------------
def child_build(db: str, runs: int) -> None:
    from bench_chain import build_chain

    from headrace.compiler import compile_pipeline
    from headrace.launcher.runs import node_context_name, set_run_state, start_run
    from headrace.metadata import Metadata, sqlite_metadata_connection_config
    from headrace.metadata.store import NODE
    from headrace.metadata.values import event, set_value

    t = time.perf_counter()
    root = os.path.dirname(db)
    ir = compile_pipeline(build_chain(NODES, root))
    md = Metadata(sqlite_metadata_connection_config(db))
    type_ids = {n.id: md.execution_type_id(n.component_type) for n in ir.nodes}
    integer = md.artifact_type_id("Integer", {})
    start = int(time.time() * 1000) - runs * 60_000
    for r in range(runs):
        run_id = f"bench-{r:06d}"
        handle = start_run(md, ir, run_id=run_id, started_ms=start + r * 60_000)
        failed_at = (r // FAIL_EVERY) % NODES if r % FAIL_EVERY == FAIL_EVERY - 1 else None
        executions, artifacts, edges = [], [], []
        for i, node in enumerate(ir.nodes):
            if failed_at is not None and i > failed_at:
                break
            state = md.pb.Execution.FAILED if i == failed_at else md.pb.Execution.COMPLETE
            ex = md.pb.Execution(type_id=type_ids[node.id], last_known_state=state)
            for key, value in {"node_id": node.id, "run_id": run_id, "pipeline_name": ir.pipeline_name}.items():
                set_value(ex.custom_properties[key], value)
            if state == md.pb.Execution.FAILED:
                set_value(ex.custom_properties["error"], "ValueError: a failure the benchmark planted")
            executions.append(ex)
            if state == md.pb.Execution.COMPLETE:
                art = md.pb.Artifact(type_id=integer, uri=f"{root}/{node.id}/y/{r}", state=md.pb.Artifact.LIVE)
                set_value(art.custom_properties["value"], r)
                artifacts.append(art)
                edges.append((len(executions) - 1, len(artifacts) - 1, event(md, md.pb.Event.OUTPUT, "y", 0)))
        ex_ids, _, _ = md.call(
            md.store.put_lineage_subgraph, executions, artifacts, [handle.pipeline_context, handle.run_context], edges
        )
        nodes = [md.get_context(NODE, node_context_name(ir.pipeline_name, n.id)) for n in ir.nodes]
        associations = [md.pb.Association(execution_id=e, context_id=nodes[i].id) for i, e in enumerate(ex_ids)]
        md.call(md.store.put_attributions_and_associations, [], associations)
        set_run_state(md, handle, "FAILED" if failed_at is not None else "COMPLETE")
    benchlib.emit({"seconds": time.perf_counter() - t, "bytes": os.path.getsize(db)})


# -- driver side ----------------------------------------------------------------------------------
def _get(url: str) -> tuple[float, str]:
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        body = response.read().decode()
    return (time.perf_counter() - t) * 1000, body


def _peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        found = re.search(r"VmHWM:\s+(\d+) kB", f.read())
    return int(found.group(1)) / 1024 if found else 0.0


def measure(db: str, runs: int) -> dict[str, float]:
    server = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "headrace"), "ui", "--metadata", db, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        found = re.match(r"headrace ui: (http://\S+)/", line)
        if not found:
            raise RuntimeError(f"headrace ui did not start: {line}{server.stderr.read() if server.stderr else ''}")
        base = found.group(1)
        figures: dict[str, float] = {}
        first, body = _get(f"{base}/runs")
        figures["runs_first_ms"] = first
        older = re.search(r'href="/runs\?before=(\d+)"', body)
        if older is None:
            raise RuntimeError("the runs page has no link to older runs")
        asked = f"bench-{runs // 2:06d}"
        targets = {
            "runs": "/runs",
            "runs_deep": f"/runs?before={int(older.group(1)) // 2}",  # halfway down the store
            "runs_failed": "/runs?state=FAILED",
            "run": f"/runs/{asked}",
            "status": f"/api/status/{asked}",
            "metrics": f"/metrics?pipeline=chain{NODES}&limit=50",
            "compare": f"/compare?run={asked}&run=bench-{runs // 2 + 1:06d}",
        }
        # What the pages must show, so that a page that lost its content does not pass as fast.
        shows = {
            "run": asked,
            "status": '"nodes"',
            "metrics": '<svg class="chart"',
            "compare": '<table class="compare">',
        }
        for name, path in targets.items():
            first, body = _get(base + path)
            expected = shows.get(name, "</html>")
            if expected not in body:
                raise RuntimeError(f"{path} does not show {expected!r}: {body[:500]}")
            figures[f"{name}_first_ms"] = figures.get(f"{name}_first_ms") or first
            figures[f"{name}_ms"] = statistics.median(_get(base + path)[0] for _ in range(REQUESTS))
        figures["peak_mb"] = _peak_mb(server.pid)
        return figures
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(runs: int = RUNS) -> list[Figure]:
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(prefix="headrace-bench-ui-", dir=base) as tmp:
        db = os.path.join(tmp, "root", "metadata.sqlite")
        os.makedirs(os.path.dirname(db))
        print(f"bench_ui: writing {runs} runs of a {NODES}-node pipeline into {db} ...", flush=True)
        built = benchlib.run_child("bench_ui.py", ["build", db, str(runs)], timeout=3600)
        print(f"  written in {built['seconds']:.0f} s, {built['bytes'] / 1e6:.0f} MB", flush=True)
        got = measure(db, runs)
    for key, value in got.items():
        print(f"  {key}: {value:.1f}")
    note = f"{runs} runs x {NODES} nodes, median of {REQUESTS}"
    return [
        Figure("ui: runs page (newest 50)", got["runs_ms"] / 1000, "s", RUNS_PAGE_BUDGET_MS / 1000, note=note),
        Figure("ui: runs page deep in the store", got["runs_deep_ms"] / 1000, "s", RUNS_PAGE_BUDGET_MS / 1000),
        Figure("ui: runs page, state=FAILED", got["runs_failed_ms"] / 1000, "s", RUNS_PAGE_BUDGET_MS / 1000),
        Figure("ui: runs page, first answer", got["runs_first_ms"] / 1000, "s", RUNS_PAGE_BUDGET_MS / 1000, False),
        Figure("ui: run page", got["run_ms"] / 1000, "s", RUN_PAGE_BUDGET_MS / 1000, note=note),
        Figure("ui: run page, first answer", got["run_first_ms"] / 1000, "s", RUN_PAGE_BUDGET_MS / 1000, False),
        Figure("ui: run status (JSON)", got["status_ms"] / 1000, "s", RUN_PAGE_BUDGET_MS / 1000, False),
        Figure("ui: metrics page (50 runs)", got["metrics_ms"] / 1000, "s", RUNS_PAGE_BUDGET_MS / 1000, note=note),
        Figure("ui: compare page (2 runs)", got["compare_ms"] / 1000, "s", RUNS_PAGE_BUDGET_MS / 1000),
        Figure("ui: server peak memory", got["peak_mb"], "MB", MEMORY_BUDGET_MB),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child_build(sys.argv[3], int(sys.argv[4]))
    else:
        count = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else RUNS
        figures = main(count)
        print(benchlib.figures_table(figures))
