"""The four data components on 1M rows through their Beam paths, in process and on a Dask cluster.

    .venv/bin/python bench/bench_dask.py [--rows 1000000]

ExampleGen (a Beam ExampleGen executor reading the CSV in byte ranges, the TFX way: one pipeline,
hash-split into train and eval, tf.Example TFRecords) -> StatisticsGen (execution_path='beam') ->
SchemaGen -> ExampleValidator, on LocalDagRunner with the steps in one fresh process each time:
  - in process: the pipeline names no Beam runner (Beam's DirectRunner engine, in this process);
  - Dask: `--runner=DaskRunner` on the cluster `scripts/services.sh dask` starts afresh (a scheduler
    and two worker processes, which import TFDV on their first statistics task, inside the figure).
SchemaGen and ExampleValidator read only the statistics: they have no Beam path and run in process in
both. For information (no budget); the default path (Arrow, in process) is bench_data's figure.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from typing import Any

import benchlib
from benchlib import Figure

SHARD_BYTES = 4 << 20  # the CSV is read in byte ranges of this size: one Dask task each
NODES = ("ExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator")


def _csv_transform() -> Any:
    """The ExampleGen's PTransform: the split's CSV files cut into byte ranges (a range owns the lines
    that start in it), each read with pyarrow at the column types of the file's first block and turned
    into serialized tf.Examples. Its functions are local, so Beam pickles them by value: a Dask worker
    runs them without importing this file."""
    import apache_beam as beam

    @beam.ptransform_fn
    def CsvToExample(pipeline: Any, exec_properties: dict[str, Any], split_pattern: str) -> Any:
        import glob

        import pyarrow.csv as pacsv

        files = sorted(glob.glob(os.path.join(exec_properties["input_base"], split_pattern)))
        with pacsv.open_csv(files[0]) as reader:
            types = {f.name: f.type for f in reader.schema}
        shards = []
        for path in files:
            size = os.path.getsize(path)
            n = max(1, size // SHARD_BYTES)
            shards += [(path, size * k // n, size * (k + 1) // n) for k in range(n)]

        def read(shard: tuple[str, int, int]) -> Any:
            import io

            from headrace.components.example_gen.beam import dict_to_serialized_example

            path, start, end = shard
            with open(path, "rb") as f:
                header = f.readline()
                if start > len(header):
                    f.seek(start - 1)
                    f.readline()  # the line that started before this range belongs to the previous one
                begin = f.tell()
                data = f.read(max(0, end - begin)) + (f.readline() if begin < end else b"")
            if not data:
                return
            options = pacsv.ConvertOptions(column_types=types)
            table = pacsv.read_csv(io.BytesIO(header + data), convert_options=options)
            for batch in table.to_batches(65536):
                for row in batch.to_pylist():
                    yield dict_to_serialized_example(row)

        return pipeline | "Ranges" >> beam.Create(shards) | "Read" >> beam.FlatMap(read)

    return CsvToExample


def child(input_base: str, root: str, *beam_args: str) -> None:
    from headrace import LocalDagRunner, Pipeline
    from headrace.components import ExampleValidator, FileBasedExampleGen, SchemaGen, StatisticsGen
    from headrace.components.example_gen import BaseExampleGenExecutor
    from headrace.dsl.executor import BeamExecutorSpec

    transform = _csv_transform()

    class BeamCsvExecutor(BaseExampleGenExecutor):
        def GetInputSourceToExamplePTransform(self) -> Any:
            return transform

    eg = FileBasedExampleGen(
        input_base=input_base,
        custom_executor_spec=BeamExecutorSpec(BeamCsvExecutor),
        output_data_format="tfrecord",
    ).with_id("ExampleGen")
    stats = StatisticsGen(examples=eg.outputs["examples"], execution_path="beam")
    schema = SchemaGen(statistics=stats.outputs["statistics"])
    validator = ExampleValidator(statistics=stats.outputs["statistics"], schema=schema.outputs["schema"])
    pipeline = Pipeline("bench-dask", root, [eg, stats, schema, validator], beam_pipeline_args=list(beam_args))
    started = time.perf_counter()
    result = LocalDagRunner(quiet=True, executor_mode="inprocess", raise_on_failure=False).run(pipeline)
    wall = time.perf_counter() - started
    rows = 0
    if result.state == "COMPLETE":
        from headrace.components.io.artifact_files import read_statistics

        uri = result.nodes["StatisticsGen"].outputs["statistics"][0]
        rows = sum(read_statistics(uri, s).datasets[0].num_examples for s in ("train", "eval"))
    benchlib.emit(
        {
            "state": result.state,
            "errors": [str(e)[:2000] for e in result.errors],
            "wall": wall,
            "nodes": {n: o.seconds for n, o in result.nodes.items()},
            "rows": rows,
        }
    )


def main(rows: int = 1_000_000) -> list[Figure]:
    import bench_data

    print("=" * 100)
    print(f"bench_dask: ExampleGen, StatisticsGen, SchemaGen, ExampleValidator on {rows:,} rows, Beam paths")
    print("in process (Beam's DirectRunner engine) and on a 2-worker Dask cluster (scripts/services.sh dask)")
    print("=" * 100)
    input_base = bench_data.data_dir(rows)
    modes = {"in process": [], "Dask, 2 workers": ["--runner=DaskRunner"]}
    figures, table = [], []
    for mode, args in modes.items():
        if args:
            args = [*args, f"--dask_client_address={benchlib.dask_cluster()}"]
        root = tempfile.mkdtemp(prefix="headrace-bench-dask-")
        wall, peak, out = benchlib.run_child_sampled("bench_dask.py", [input_base, root, *args], timeout=1800)
        if out["state"] != "COMPLETE" or out["rows"] != rows:
            raise RuntimeError(f"{mode}: the run did not complete with {rows} rows: {out['rows']}, {out['errors']}")
        nodes = out["nodes"]
        note = ", ".join(f"{n} {nodes[n]:.1f} s" for n in NODES) + f"; {peak:.2f} GB here"
        figures.append(Figure(f"data 4 components {rows / 1e6:g}M rows, Beam paths, {mode}", wall, "s", note=note))
        table.append((mode, f"{wall:.1f}", *(f"{nodes[n]:.1f}" for n in NODES), f"{peak:.2f}"))
    headers = ("Beam paths", "wall s (fresh process)", *(f"{n} s" for n in NODES), "peak RSS GB (this side)")
    print(benchlib.table(headers, table, right=range(1, 7)))
    print()
    return figures


if __name__ == "__main__":
    if benchlib.is_child(sys.argv):
        child(*sys.argv[2:])
    else:
        n = int(sys.argv[sys.argv.index("--rows") + 1]) if "--rows" in sys.argv else 1_000_000
        print(benchlib.figures_table(main(n)))
