"""The data components end to end: CsvExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator
on LocalDagRunner, in a fresh process including every import.

    .venv/bin/python bench/bench_data.py [--rows 1000000,10000000]

1. 1M rows (~32 MB CSV, 6 columns: 3 numeric, 2 categorical, 1 label): wall <= 15 s and peak RSS
   of the whole process tree (runner + workers, sampled every 50 ms) <= 1.5 GB. TFX 1.16 on this
   machine: 299 s and 1.9 GB for the same four components.
2. 10M rows (~320 MB CSV): wall <= 120 s and peak RSS <= 2 GB (memory must not grow with the data).
3. A fully cached re-run of the four components in a fresh process: wall <= 1 s, importing none of
   TensorFlow, TFDV, Beam.

The synthetic CSVs are generated once (numpy, fixed seed) under $HEADRACE_BENCH_DATA
(default /tmp/headrace-bench-data) and reused.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import benchlib
from benchlib import Figure

BUDGETS = {1_000_000: (15.0, 1.5), 10_000_000: (120.0, 2.0)}  # rows: (seconds, GB)
CACHED_BUDGET_S = 1.0
HEAVY = ("tensorflow", "tensorflow_data_validation", "apache_beam")
CITIES = ["paris", "lyon", "nice", "lille", "rennes", "nantes", "brest"]
PLANS = ["free", "pro", "team"]


def data_dir(rows: int) -> str:
    """A folder holding one synthetic CSV of `rows` rows (made on first use)."""
    base = os.environ.get("HEADRACE_BENCH_DATA", os.path.join(tempfile.gettempdir(), "headrace-bench-data"))
    folder = os.path.join(base, f"rows-{rows}")
    path = os.path.join(folder, "data.csv")
    if not os.path.exists(path):
        os.makedirs(folder, exist_ok=True)
        generate(path, rows)
    return folder


def generate(path: str, rows: int, chunk: int = 1_000_000) -> None:
    """Writes the synthetic CSV a chunk at a time (bounded memory), atomically."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(2026)
    tmp = path + ".tmp"
    with pacsv.CSVWriter(tmp, _schema(pa)) as writer:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            writer.write_table(
                pa.table(
                    {
                        "age": rng.integers(18, 90, n),
                        "income": np.round(rng.lognormal(10, 1, n), 2),
                        "score": np.round(rng.normal(0, 1, n), 4),
                        "city": pa.array(np.array(CITIES)[rng.integers(0, len(CITIES), n)]),
                        "plan": pa.array(np.array(PLANS)[rng.choice(3, n, p=[0.7, 0.2, 0.1])]),
                        "label": rng.integers(0, 2, n),
                    },
                    schema=_schema(pa),
                )
            )
    os.replace(tmp, path)


def _schema(pa):  # type: ignore[no-untyped-def]
    return pa.schema(
        [
            ("age", pa.int64()),
            ("income", pa.float64()),
            ("score", pa.float64()),
            ("city", pa.string()),
            ("plan", pa.string()),
            ("label", pa.int64()),
        ]
    )


def child(input_base: str, root: str) -> None:
    """Runs the four components (imports included in the parent's wall time)."""
    from headrace import LocalDagRunner, Pipeline
    from headrace.components import CsvExampleGen, ExampleValidator, SchemaGen, StatisticsGen

    eg = CsvExampleGen(input_base=input_base)
    st = StatisticsGen(examples=eg.outputs["examples"])
    sg = SchemaGen(statistics=st.outputs["statistics"])
    ev = ExampleValidator(statistics=st.outputs["statistics"], schema=sg.outputs["schema"])
    result = LocalDagRunner(quiet=True).run(Pipeline("bench-data", root, [eg, st, sg, ev]))
    loaded = sorted(h for h in HEAVY if h in sys.modules)  # before the row count below imports pyarrow
    import glob

    import pyarrow.parquet as pq

    uri = result.nodes["CsvExampleGen"].outputs["examples"][0]
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in glob.glob(f"{uri}/Split-*/*.parquet"))
    benchlib.emit({"states": {n: o.state for n, o in result.nodes.items()}, "heavy": loaded, "rows": rows})


def measure(input_base: str, root: str) -> tuple[float, float, dict]:
    """(wall seconds, peak tree RSS in GB, the child's report) of one fresh-process run."""
    return benchlib.run_child_sampled("bench_data.py", [input_base, root])


def main(rows_list: tuple[int, ...] = (1_000_000, 10_000_000)) -> list[Figure]:
    figures = []
    for rows in rows_list:
        folder = data_dir(rows)
        size_mb = os.path.getsize(os.path.join(folder, "data.csv")) / 1e6
        root = tempfile.mkdtemp(prefix=f"headrace-bench-data-{rows}-")
        try:
            wall, peak, report = measure(folder, root)
            if set(report["states"].values()) != {"COMPLETE"}:
                raise RuntimeError(f"run not complete: {report['states']}")
            if report["rows"] != rows:
                raise RuntimeError(f"the Examples hold {report['rows']} rows, not {rows}")
            seconds, gb = BUDGETS.get(rows, (None, None))
            label = f"{rows / 1e6:g}M rows"
            note = f"{size_mb:.0f} MB CSV, fresh process, 4 components"
            print(f"data pipeline {label}: {wall:.1f} s wall, {peak:.2f} GB peak RSS ({note})")
            figures.append(Figure(f"data 4 components {label}: wall", wall, "s", seconds, note=note))
            figures.append(Figure(f"data 4 components {label}: peak RSS", peak, "GB", gb, note="runner + workers"))
            if rows == rows_list[0]:
                cached_wall, _, cached = measure(folder, root)
                if set(cached["states"].values()) != {"CACHED"}:
                    raise RuntimeError(f"re-run not cached: {cached['states']}")
                heavy = ", ".join(cached["heavy"]) or "none"
                print(f"cached re-run: {cached_wall:.2f} s wall, heavy imports: {heavy}")
                figures.append(
                    Figure(
                        "data 4 components cached re-run", cached_wall, "s", CACHED_BUDGET_S, note=f"imported {heavy}"
                    )
                )
                figures.append(
                    Figure("cached re-run imports TF/TFDV/Beam", len(cached["heavy"]), "modules", 0, note=heavy)
                )
        finally:
            shutil.rmtree(root, ignore_errors=True)
    return figures


if __name__ == "__main__":
    if benchlib.is_child(sys.argv):
        child(sys.argv[2], sys.argv[3])
    else:
        rows = (1_000_000, 10_000_000)
        if "--rows" in sys.argv:
            rows = tuple(int(r) for r in sys.argv[sys.argv.index("--rows") + 1].split(","))
        print(benchlib.figures_table(main(rows)))
