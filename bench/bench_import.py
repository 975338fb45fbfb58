"""`import headrace` wall time, and that authoring + compiling a pipeline imports nothing heavy.

    .venv/bin/python bench/bench_import.py

1. `import headrace`, timed with time.perf_counter inside a fresh `python -c` process, before any
   other import (median of 5).
   Budget: <= 0.3 s.
2. In a fresh process: import headrace, define a pipeline (a function component and a custom
   ComponentSpec/BaseExecutor component, bench/bench_components.py) and compile it; then list
   which of tensorflow, apache_beam, tensorflow_data_validation, kfp, airflow, docker are in
   sys.modules. Budget: none of them (OVER if any).
"""

from __future__ import annotations

import sys
import time

import benchlib
from benchlib import Figure

IMPORT_BUDGET_S = 0.3
REPEATS = 5
HEAVY = ("tensorflow", "apache_beam", "tensorflow_data_validation", "kfp", "airflow", "docker")


# `python -c` so that nothing (not even the benchmark's own helpers) is imported before the timer starts.
IMPORT_CODE = f"""
import time
t = time.perf_counter()
import headrace
seconds = time.perf_counter() - t
import json, sys
print({benchlib.MARKER!r} + json.dumps({{"seconds": seconds, "modules": len(sys.modules)}}))
"""


def child_heavy() -> None:
    import importlib.util
    import tempfile

    from bench_components import Noop, Touch  # a custom ComponentSpec/BaseExecutor component, a function one

    import headrace
    from headrace.compiler import compile_pipeline

    t = time.perf_counter()
    first = Touch(label="start").with_id("touch")
    a = Noop(x=first.outputs["y"]).with_id("a")
    b = Noop(x=a.outputs["y"]).with_id("b")
    last = Touch(x=b.outputs["y"]).with_id("touch_end")
    pipeline = headrace.Pipeline("imports", tempfile.gettempdir(), [last], enable_cache=True)
    ir = compile_pipeline(pipeline)
    seconds = time.perf_counter() - t
    loaded = {name for name in HEAVY if any(m == name or m.startswith(name + ".") for m in sys.modules)}
    # find_spec of a top-level name looks on sys.path without importing anything.
    installed = [name for name in HEAVY if importlib.util.find_spec(name) is not None]
    benchlib.emit(
        {
            "loaded": sorted(loaded),
            "installed": installed,
            "nodes": len(ir.nodes),
            "define_compile_seconds": seconds,
            "modules": len(sys.modules),
        }
    )


def main() -> list[Figure]:
    print("=" * 100)
    print("bench_import: `import headrace` in a fresh process; heavy imports of defining + compiling a pipeline")
    print("=" * 100)
    print(benchlib.bytecode_note())
    runs = [benchlib.run_code(IMPORT_CODE) for _ in range(REPEATS)]
    seconds = [r["seconds"] for r in runs]
    t = benchlib.median(seconds)
    heavy = benchlib.run_child("bench_import.py", ["heavy"])
    loaded = heavy["loaded"]
    installed = heavy["installed"]
    figures = [
        Figure(
            "import headrace",
            t,
            "s",
            IMPORT_BUDGET_S,
            note=f"median of {REPEATS} fresh processes (min-max {benchlib.spread(seconds, 1000)} ms), "
            f"{runs[0]['modules']} modules in sys.modules after",
        ),
        Figure(
            "heavy modules imported",
            len(loaded),
            "modules",
            0,
            note=f"import + define ({heavy['nodes']} nodes, function + ComponentSpec/BaseExecutor) + compile",
        ),
    ]
    print(benchlib.figures_table(figures))
    print()
    print(f"heavy modules checked: {', '.join(HEAVY)}")
    print(f"  in sys.modules after import + define + compile: {', '.join(loaded) if loaded else 'none'}")
    print(f"  installed in this environment (so the check means something): {', '.join(installed) or 'none'}")
    print(f"  define + compile of the {heavy['nodes']}-node pipeline: {heavy['define_compile_seconds'] * 1000:.1f} ms")
    banner = benchlib.over_banner(figures)
    if banner:
        print(banner)
    print()
    return figures


if __name__ == "__main__":
    if benchlib.is_child(sys.argv):
        child_heavy()
    else:
        main()
