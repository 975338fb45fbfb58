"""Compiling a 1000-node pipeline of function components.

    .venv/bin/python bench/bench_compile.py
    .venv/bin/python bench/bench_compile.py --profile chain   # cProfile of construction + compile

Two shapes, each in fresh processes (median of REPEATS): a chain (n0 -> n1 -> ... -> n999) and a
wide fan (one source feeding 999 nodes). Timed separately:
  - components: instantiating the 1000 components (Noop(...).with_id(...)),
  - Pipeline(...): constructing the Pipeline object (closure, duplicate-id and cycle checks, sort),
  - compile: headrace.compiler.compile_pipeline(pipeline). Budget: compile <= 1 s.
"""

from __future__ import annotations

import sys
import time

import benchlib
from benchlib import Figure

NODES = 1000
SHAPES = ("chain", "fan")
REPEATS = 3
COMPILE_BUDGET_S = 1.0


def make_components(shape: str, n: int) -> list:
    from bench_components import Noop

    first = Noop().with_id("n0")
    nodes = [first]
    for i in range(1, n):
        upstream = nodes[-1] if shape == "chain" else first
        nodes.append(Noop(x=upstream.outputs["y"]).with_id(f"n{i}"))
    return nodes


def child(shape: str) -> None:
    import bench_components  # noqa: F401

    import headrace
    from headrace.compiler import compile_pipeline

    t = time.perf_counter()
    nodes = make_components(shape, NODES)
    t_components = time.perf_counter() - t
    t = time.perf_counter()
    pipeline = headrace.Pipeline(f"{shape}{NODES}", "/tmp/headrace-bench-unused", nodes, enable_cache=True)
    t_pipeline = time.perf_counter() - t
    t = time.perf_counter()
    ir = compile_pipeline(pipeline)
    t_compile = time.perf_counter() - t
    if len(ir.nodes) != NODES:
        sys.exit(f"compiled {len(ir.nodes)} nodes, expected {NODES}")
    benchlib.emit({"components": t_components, "pipeline": t_pipeline, "compile": t_compile})


def child_profile(shape: str) -> None:
    import cProfile
    import pstats

    import bench_components  # noqa: F401

    import headrace
    from headrace.compiler import compile_pipeline

    nodes = make_components(shape, NODES)
    for label, fn in (
        ("Pipeline(...)", lambda: headrace.Pipeline("p", "/tmp/headrace-bench-unused", nodes)),
        ("compile_pipeline", lambda: compile_pipeline(headrace.Pipeline("p", "/tmp/headrace-bench-unused", nodes))),
    ):
        prof = cProfile.Profile()
        prof.runcall(fn)
        print(f"\n##### {shape} {NODES}: {label}")
        pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(15)


def main() -> list[Figure]:
    print("=" * 100)
    print(f"bench_compile: {NODES}-node pipelines of function components, headrace.compiler.compile_pipeline")
    print("=" * 100)
    print(benchlib.bytecode_note())
    figures: list[Figure] = []
    rows = []
    for shape in SHAPES:
        runs = benchlib.run_children("bench_compile.py", [shape], REPEATS)
        med = {k: benchlib.median([r[k] for r in runs]) for k in runs[0]}
        fig = Figure(f"compile {NODES} nodes ({shape})", med["compile"], "s", COMPILE_BUDGET_S)
        figures.append(fig)
        figures.append(
            Figure(f"Pipeline(...) {NODES} nodes ({shape})", med["pipeline"], "s", note="construction, no budget")
        )
        rows.append(
            (
                shape,
                f"{med['components'] * 1000:.1f}",
                f"{med['pipeline'] * 1000:.1f}",
                f"{med['compile'] * 1000:.1f}",
                benchlib.spread([r["compile"] for r in runs], 1000),
                f"<= {COMPILE_BUDGET_S * 1000:g}",
                fig.verdict,
            )
        )
    print(
        f"median of {REPEATS} fresh processes per shape; chain: n0 -> ... -> n{NODES - 1}; fan: n0 -> each other node"
    )
    print(
        benchlib.table(
            (
                "shape",
                "components ms",
                "Pipeline(...) ms",
                "COMPILE ms",
                "compile min-max ms",
                "budget (compile) ms",
                "verdict",
            ),
            rows,
            right=(1, 2, 3, 4),
        )
    )
    banner = benchlib.over_banner(figures)
    if banner:
        print(banner)
    print()
    return figures


if __name__ == "__main__":
    if benchlib.is_child(sys.argv):
        {"profile": lambda: child_profile(sys.argv[3])}.get(sys.argv[2], lambda: child(sys.argv[2]))()
    elif len(sys.argv) > 1 and sys.argv[1] == "--profile":
        import subprocess

        shape = sys.argv[2] if len(sys.argv) > 2 else "chain"
        subprocess.run([sys.executable, __file__, "--child", "profile", shape], check=True)
    else:
        main()
