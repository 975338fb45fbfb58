"""The main job: the penguin pipeline (10 nodes: data validation, Trainer, Evaluator, InfraValidator,
Pusher, BulkInferrer) on LocalDagRunner, in a fresh process including every import.

    .venv/bin/python bench/bench_penguin.py

1. First run, fresh pipeline root: wall <= 60 s (TFX needs ~10 s just to import TensorFlow here).
2. Fully cached re-run in a fresh process: wall <= 2 s, importing none of TensorFlow, TFDV, Beam
   (TFX: 11-12 s for the same cached re-run, almost all of it imports).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import benchlib
from bench_data import HEAVY
from benchlib import Figure

FIRST_BUDGET_S, CACHED_BUDGET_S = 60.0, 2.0
PIPELINE = os.path.join(os.path.dirname(benchlib.BENCH_DIR), "pipelines", "penguin", "pipeline.py")


def child(root: str) -> None:
    import runpy

    from headrace import LocalDagRunner

    result = LocalDagRunner(quiet=True).run(runpy.run_path(PIPELINE)["create_pipeline"](root=root))
    loaded = sorted(h for h in HEAVY if h in sys.modules)
    benchlib.emit({"states": {n: o.state for n, o in result.nodes.items()}, "heavy": loaded})


def _measure(root: str) -> tuple[float, float, dict]:
    return benchlib.run_child_sampled("bench_penguin.py", [root])


def main() -> list[Figure]:
    root = tempfile.mkdtemp(prefix="headrace-bench-penguin-")
    try:
        wall, peak, first = _measure(root)
        if set(first["states"].values()) != {"COMPLETE"}:
            raise RuntimeError(f"first run not complete: {first['states']}")
        cached_wall, _, cached = _measure(root)
        states = {n: s for n, s in cached["states"].items() if n != "latest_blessed_model_resolver"}
        if set(states.values()) != {"CACHED"}:
            raise RuntimeError(f"re-run not cached: {cached['states']}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    heavy = ", ".join(cached["heavy"]) or "none"
    print(f"penguin: first run {wall:.1f} s ({peak:.2f} GB peak RSS), cached re-run {cached_wall:.2f} s ({heavy})")
    return [
        Figure("penguin pipeline first run", wall, "s", FIRST_BUDGET_S, note=f"10 nodes, fresh process; {peak:.2f} GB"),
        Figure("penguin pipeline cached re-run", cached_wall, "s", CACHED_BUDGET_S, note=f"imported {heavy}"),
        Figure("penguin cached re-run imports TF/TFDV/Beam", len(cached["heavy"]), "modules", 0, note=heavy),
    ]


if __name__ == "__main__":
    if benchlib.is_child(sys.argv):
        child(sys.argv[2])
    else:
        print(benchlib.figures_table(main()))
