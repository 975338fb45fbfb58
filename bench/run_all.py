"""Runs every benchmark and prints one summary of all figures against their budgets.

    .venv/bin/python bench/run_all.py      (or: make bench)
    .venv/bin/python bench/run_all.py --warm-pycache   # children use a warm .pyc cache outside the tree

Without --warm-pycache the children run in this environment as it is; where PYTHONDONTWRITEBYTECODE is
set and the sources have no __pycache__, every fresh process compiles headrace and ml_metadata from
source, which roughly doubles import and worker start-up times (the header line says which applies).

Benchmarks report, they do not gate: the exit code is 0 even when a figure is OVER budget
(1 only if a benchmark itself could not run), but OVER figures are listed loudly at the end.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
import traceback

import bench_airflow
import bench_chain
import bench_compile
import bench_dask
import bench_data
import bench_evaluator
import bench_import
import bench_penguin
import bench_schedule
import bench_stats_beam
import bench_ui
import benchlib
from benchlib import Figure

BENCHMARKS = (
    ("bench_import", bench_import.main),
    ("bench_chain", bench_chain.main),
    ("bench_compile", bench_compile.main),
    ("bench_data", bench_data.main),
    ("bench_stats_beam", bench_stats_beam.main),
    ("bench_dask", bench_dask.main),
    ("bench_penguin", bench_penguin.main),
    ("bench_airflow", bench_airflow.main),
    ("bench_evaluator", bench_evaluator.main),
    ("bench_ui", bench_ui.main),
    ("bench_schedule", bench_schedule.main),
)


def main() -> int:
    started = time.perf_counter()
    if "--warm-pycache" in sys.argv[1:]:
        print(f"--warm-pycache: children use a bytecode cache in {benchlib.warm_pycache()} (filled before measuring)")
    print(
        f"headrace benchmarks: python {platform.python_version()} ({sys.executable}), "
        f"{os.cpu_count()} CPUs, {platform.platform()}"
    )
    print()
    figures: list[Figure] = []
    failed: list[str] = []
    for name, run in BENCHMARKS:
        try:
            figures += run()
        except (RuntimeError, OSError, ValueError, KeyError, subprocess.SubprocessError):
            failed.append(name)
            print(f"!!! {name} FAILED to run:")
            traceback.print_exc(file=sys.stdout)
            print()

    print("=" * 100)
    print(f"SUMMARY (every figure from fresh processes, medians; total {time.perf_counter() - started:.1f} s)")
    print("=" * 100)
    print(benchlib.bytecode_note())
    print(benchlib.figures_table(figures))
    print()
    print("verdict in parentheses: shown against the budget for reference, not the budgeted figure; '-': no budget")
    print(f"reference: {bench_chain.REFERENCE}")
    banner = benchlib.over_banner(figures)
    if banner:
        print(banner)
    else:
        print("ALL BUDGETS PASS" if not failed else "")
    if failed:
        print(f"!!! benchmarks that failed to run: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
