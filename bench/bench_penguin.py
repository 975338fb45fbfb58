"""The main job: the penguin pipeline (10 nodes: data validation, Trainer, Evaluator, InfraValidator,
Pusher, BulkInferrer) on LocalDagRunner, in a fresh process including every import.

    .venv/bin/python bench/bench_penguin.py

1. First run, fresh pipeline root: wall <= 60 s (TFX needs ~10 s just to import TensorFlow here).
2. Fully cached re-run in a fresh process: wall <= 2 s, importing none of TensorFlow, TFDV, Beam
   (TFX: 11-12 s for the same cached re-run, almost all of it imports).
3. The first run on the other runners that run here, next to LocalDagRunner's (for information):
   BeamDagRunner in process (Beam's DirectRunner, one thread per core) and BeamDagRunner on the Dask
   cluster `scripts/services.sh dask` starts afresh (two worker processes: every node runs in one of
   them, StatisticsGen and BulkInferrer on their Beam paths there; the workers' imports count).
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


def child(root: str, runner: str = "local", *beam_args: str) -> None:
    import runpy

    from headrace import LocalDagRunner
    from headrace.orchestrators import BeamDagRunner

    chosen = LocalDagRunner(quiet=True) if runner == "local" else BeamDagRunner(list(beam_args), quiet=True)
    result = chosen.run(runpy.run_path(PIPELINE)["create_pipeline"](root=root))
    loaded = sorted(h for h in HEAVY if h in sys.modules)
    benchlib.emit({"states": {n: o.state for n, o in result.nodes.items()}, "heavy": loaded})


def _measure(root: str, *runner: str) -> tuple[float, float, dict]:
    return benchlib.run_child_sampled("bench_penguin.py", [root, *runner])


def _other_runners(local_wall: float) -> list[Figure]:
    """The first run under BeamDagRunner, in process and on the Dask cluster."""
    figures = []
    for name, runner in (
        ("BeamDagRunner in process", ["beam"]),
        ("BeamDagRunner on Dask (2 workers)", ["beam", "--runner=DaskRunner"]),
    ):
        if "--runner=DaskRunner" in runner:
            runner.append(f"--dask_client_address={benchlib.dask_cluster()}")
        root = tempfile.mkdtemp(prefix="headrace-bench-penguin-")
        try:
            wall, peak, out = _measure(root, *runner)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        if set(out["states"].values()) != {"COMPLETE"}:
            raise RuntimeError(f"{name}: first run not complete: {out['states']}")
        print(f"penguin on {name}: first run {wall:.1f} s (LocalDagRunner {local_wall:.1f} s)")
        note = f"LocalDagRunner: {local_wall:.1f} s; {peak:.2f} GB peak RSS on this side"
        figures.append(Figure(f"penguin first run, {name}", wall, "s", note=note))
    return figures


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
        *_other_runners(wall),
    ]


if __name__ == "__main__":
    if benchlib.is_child(sys.argv):
        child(*sys.argv[2:])
    else:
        print(benchlib.figures_table(main()))
