"""StatisticsGen's Beam path at 1M rows, next to TFX's StatisticsGen and the in-process path.

    .venv/bin/python bench/bench_stats_beam.py [--rows 1000000] [--repeats 1]

The Examples come from CsvExampleGen on bench_data's synthetic CSV (6 columns: 3 numeric, 2
categorical, 1 label), once per payload (Parquet, headrace's default; tf.Example TFRecords, TFX's)
and are reused. Each figure is one fresh process computing the statistics of both splits:
  - Beam, DirectRunner in memory (`stats_beam.splits_statistics_beam`, no Beam arguments),
  - Beam, DirectRunner on two worker processes (--direct_running_mode=multi_processing
    --direct_num_workers=2; the workers import TFDV themselves),
  - in process (`stats_engine.split_statistics_in_process`), for comparison.
The budgeted figure is the whole step in a fresh process, imports included (TFDV imports
TensorFlow: ~10 s): <= 53 s, TFX 1.16's StatisticsGen on the same rows. The compute part (the
statistics call alone) and the CPU seconds of the process and its workers are printed next to it.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time

import benchlib
from benchlib import Figure

BUDGET_S = 53.0
REFERENCE = "TFX 1.16 StatisticsGen"
MODES = {
    "beam in-memory": ["beam"],
    "beam multi_processing x2": ["beam", "--direct_running_mode=multi_processing", "--direct_num_workers=2"],
    "in-process": ["in_process"],
}
PAYLOADS = {"parquet": "FORMAT_PARQUET", "tfrecord": "FORMAT_TF_EXAMPLE"}


def examples(rows: int, label: str) -> str:
    """The Examples artifact folder of bench_data's CSV in one payload (made on first use)."""
    import bench_data

    base = os.environ.get("HEADRACE_BENCH_DATA", os.path.join(tempfile.gettempdir(), "headrace-bench-data"))
    root = os.path.join(base, f"stats-beam-{rows}-{label}")
    marker = os.path.join(root, "EXAMPLES_URI")
    if not (os.path.exists(marker) and os.path.isdir(_read(marker))):
        result = benchlib.run_child("bench_stats_beam.py", ["examplegen", bench_data.data_dir(rows), root, label])
        with open(marker, "w") as f:
            f.write(result["uri"])
    return _read(marker)


def _read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def child_examplegen(input_base: str, root: str, label: str) -> None:
    from headrace import LocalDagRunner, Pipeline
    from headrace.components import CsvExampleGen

    eg = CsvExampleGen(input_base=input_base, output_data_format=label)
    result = LocalDagRunner(quiet=True).run(Pipeline("bench-stats-beam", root, [eg]))
    benchlib.emit({"uri": result.nodes["CsvExampleGen"].outputs["examples"][0]})


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def child(uri: str, payload: str, path: str, *beam_args: str) -> None:
    """One measurement: imports, then the statistics of both splits."""
    started = time.perf_counter()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow_data_validation  # noqa: F401 - timed as the step's import

    from headrace.components.statistics import beam as stats_beam
    from headrace.components.statistics import engine as stats_engine

    options = stats_engine.stats_options(None)
    imported = time.perf_counter()
    cpu = _cpu()
    splits = ["train", "eval"]
    if path == "beam":
        stats = stats_beam.splits_statistics_beam(uri, splits, payload, options, list(beam_args))
    else:
        stats = {s: stats_engine.split_statistics_in_process(uri, s, payload, options) for s in splits}
    done = time.perf_counter()
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    benchlib.emit(
        {
            "import": imported - started,
            "compute": done - imported,
            "cpu": _cpu() - cpu,
            "rows": sum(stats[s].datasets[0].num_examples for s in splits),
            "rss_gb": own.ru_maxrss / 1e6,
            "worker_rss_gb": kids.ru_maxrss / 1e6,
        }
    )


def main(rows: int = 1_000_000, repeats: int = 1) -> list[Figure]:
    print("=" * 100)
    print(f"bench_stats_beam: StatisticsGen's statistics of {rows:,} rows (2 splits) on each path")
    print(f"budget: the Beam path <= {BUDGET_S:g} s ({REFERENCE}), imports included, a fresh process per figure")
    print("=" * 100)
    figures: list[Figure] = []
    table = []
    for label, payload in PAYLOADS.items():
        uri = examples(rows, label)
        for mode, spec in MODES.items():
            args = [uri, payload, *spec]
            runs = [benchlib.run_child("bench_stats_beam.py", args, timeout=900) for _ in range(repeats)]
            if any(r["rows"] != rows for r in runs):
                raise RuntimeError(f"{mode} {label}: statistics counted {runs[0]['rows']} rows, expected {rows}")
            med = {k: benchlib.median([r[k] for r in runs]) for k in runs[0]}
            step = med["import"] + med["compute"]
            beam = spec[0] == "beam"
            name = f"stats {rows / 1e6:g}M rows, {label}, {mode}"
            note = f"compute {med['compute']:.1f} s + import {med['import']:.1f} s; CPU {med['cpu']:.1f} s"
            figures.append(Figure(name, step, "s", BUDGET_S if beam else None, counted=beam, note=note))
            table.append(
                (
                    label,
                    mode,
                    f"{step:.1f}",
                    f"{med['compute']:.1f}",
                    f"{med['import']:.1f}",
                    f"{med['cpu']:.1f}",
                    f"{med['rss_gb']:.2f} / {med['worker_rss_gb']:.2f}",
                    f"<= {BUDGET_S:g}" if beam else "-",
                    figures[-1].verdict,
                )
            )
    print(f"median of {repeats} fresh process(es) per row; CPU: user+system of the process and its workers")
    headers = ("payload", "path", "STEP s", "compute s", "import s", "CPU s", "peak RSS GB self/child", "budget", "")
    print(benchlib.table(headers, table, right=(2, 3, 4, 5)))
    print(f"reference: {REFERENCE} on the same machine: 53 s")
    banner = benchlib.over_banner(figures)
    if banner:
        print(banner)
    print()
    return figures


if __name__ == "__main__":
    if benchlib.is_child(sys.argv):
        if sys.argv[2] == "examplegen":
            child_examplegen(*sys.argv[3:6])
        else:
            child(*sys.argv[2:])
    else:
        n = int(sys.argv[sys.argv.index("--rows") + 1]) if "--rows" in sys.argv else 1_000_000
        r = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 1
        print(benchlib.figures_table(main(n, r)))
