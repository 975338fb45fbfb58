"""How the Beam ExampleGen writes its splits (see `headrace.components.example_gen.beam`): gzip
TFRecords of tf.Example through Beam's file sink, or on Dask one file per bundle; rows counted from
the pipeline's metrics or, without them, from the files; and the records turned into Parquet when
that is the payload asked for."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from headrace.components.io.examples import FORMAT_PARQUET, data_files, split_uri

if TYPE_CHECKING:
    import pyarrow as pa

METRICS_NAMESPACE = "headrace.ExampleGen"


def write_split(split_dir: str, name: str, dask: bool = False) -> Any:
    """Writes a split's records as gzip TFRecord files: Beam's sink, or on Dask one file per bundle.
    (Beam 2.72's DaskRunner runs Beam's file sink wrongly: it computes the sink's set-up step again
    in each task reading it as a side input, so bundles land in temporary folders of their own that
    the finalization never moves, and a split comes out empty or partial.)"""
    import apache_beam as beam

    @beam.ptransform_fn
    def WriteSplit(records: Any) -> Any:
        counted = records | "Count" >> beam.Map(_counted, name)
        if dask:
            return counted | "Write" >> beam.ParDo(_bundle_writer(split_dir))
        return counted | "Write" >> beam.io.WriteToTFRecord(
            os.path.join(split_dir, "data_tfrecord"), file_name_suffix=".gz"
        )

    return WriteSplit()


def _bundle_writer(split_dir: str) -> Any:
    """A DoFn writing each bundle's records to its own file `data_tfrecord-<uuid>.gz`, under a hidden
    temporary name until the bundle is whole (a worker that dies mid-bundle leaves only a hidden file,
    which readers skip; Dask gives the bundle to another worker). Yields the file's path."""
    import uuid

    import apache_beam as beam

    from headrace.components.io.tfrecord import RecordWriter

    class _WriteBundle(beam.DoFn):
        def start_bundle(self) -> None:
            self._writer: Any = None

        def process(self, record: bytes) -> None:
            if self._writer is None:
                os.makedirs(split_dir, exist_ok=True)
                self._writer = RecordWriter(os.path.join(split_dir, f".data_tfrecord-{uuid.uuid4().hex}.gz"))
            self._writer.write([record])

        def finish_bundle(self) -> Any:
            if self._writer is None:
                return
            self._writer.close()
            final = os.path.join(split_dir, os.path.basename(self._writer.path)[1:])
            os.replace(self._writer.path, final)
            from apache_beam.transforms.window import GlobalWindow
            from apache_beam.utils.windowed_value import WindowedValue

            yield WindowedValue(final, 0, (GlobalWindow(),))

    return _WriteBundle()


def _counted(record: bytes, split: str) -> bytes:
    from apache_beam.metrics import Metrics

    Metrics.counter(METRICS_NAMESPACE, f"rows[{split}]").inc()
    return record


def remove_beam_temp(split_dir: str) -> None:
    """Removes the temporary folders Beam's file sink left in a split's folder. Beam 2.72's
    DaskRunner computes the sink's set-up step again in every task that reads it as a side input,
    and each run of it makes a new temporary folder that only its own finalization removes."""
    import shutil

    for name in os.listdir(split_dir) if os.path.isdir(split_dir) else []:
        if name.startswith("beam-temp-") and os.path.isdir(os.path.join(split_dir, name)):
            shutil.rmtree(os.path.join(split_dir, name), ignore_errors=True)


def count_records(uri: str, splits: list[str]) -> dict[str, int]:
    """Rows per split, counted in the files written (for runners without metrics: DaskRunner)."""
    from headrace.components.io.tfrecord import read_records

    return {s: sum(1 for p in data_files(split_uri(uri, s)) for _ in read_records(p)) for s in splits}


def row_counts(pipeline: Any, splits: list[str]) -> dict[str, int]:
    """Rows written per split, from the pipeline's metrics ({} if the runner has none)."""
    from apache_beam.metrics.metric import MetricsFilter

    try:
        found = pipeline.result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))["counters"]
    except (AttributeError, NotImplementedError):
        return {}
    counts = {r.key.metric.name: r.committed or r.attempted or 0 for r in found}
    return {s: int(counts.get(f"rows[{s}]", 0)) for s in splits}


# -- tf.Example TFRecords -> Parquet ----------------------------------------------------------
def tfrecords_to_parquet(split_dir: str, batch_rows: int = 65536) -> int:
    """Turns the split's TFRecords of tf.Example into one Parquet file (then removes them);
    returns the row count. Two streamed passes: the first settles each column's type and whether
    it ever holds more than one value, the second writes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from headrace.components.example_gen._splits import SplitWriter

    paths = data_files(split_dir)
    types: dict[str, pa.DataType] = {}  # in order of first appearance; null until a value is seen
    multi: set[str] = set()
    not_text: set[str] = set()
    for batch in _tf_example_batches(paths, batch_rows):
        for field, col in zip(batch.schema, batch.columns, strict=True):
            if pa.types.is_null(field.type):  # no value in this batch
                types.setdefault(field.name, pa.null())
                continue
            value_type = field.type.value_type
            if pa.types.is_null(types.get(field.name, pa.null())):
                types[field.name] = value_type
            if len(col) and (pc.max(pc.list_value_length(col)).as_py() or 0) > 1:
                multi.add(field.name)
            if pa.types.is_large_binary(value_type) and field.name not in not_text:
                try:
                    col.flatten().cast(pa.large_string())
                except pa.ArrowInvalid:
                    not_text.add(field.name)
    for name, value_type in types.items():  # text columns as strings, as the CSV reader gives them
        if pa.types.is_large_binary(value_type) and name not in not_text:
            types[name] = pa.string()
    writer = SplitWriter(split_dir, FORMAT_PARQUET)
    schema = pa.schema([(n, pa.large_list(t) if n in multi else t) for n, t in types.items()])
    for batch in _tf_example_batches(paths, batch_rows):
        writer.write(_conformed(batch, schema))
    writer.close(schema)
    for path in paths:
        os.remove(path)
    return writer.rows


def _tf_example_batches(paths: list[str], batch_rows: int) -> Iterator[pa.RecordBatch]:
    from headrace.components.example_gen.readers import read_tf_examples

    for path in paths:
        yield from read_tf_examples(path, batch_rows)


def _conformed(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """The batch in `schema`'s columns: missing columns null, single values flattened, types cast."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = []
    for field in schema:
        index = batch.schema.get_field_index(field.name)
        col = batch.column(index) if index >= 0 else None
        if col is None or pa.types.is_null(col.type):
            arrays.append(pa.nulls(batch.num_rows, field.type))
            continue
        if pa.types.is_large_list(field.type):
            arrays.append(col.cast(field.type))
            continue
        lengths = pc.list_value_length(col).fill_null(0).to_numpy(zero_copy_only=False)
        values = col.flatten().cast(field.type)
        arrays.append(values.take(pa.array(np.cumsum(lengths) - 1, mask=lengths == 0)))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


__all__ = [
    "METRICS_NAMESPACE",
    "count_records",
    "remove_beam_temp",
    "row_counts",
    "tfrecords_to_parquet",
    "write_split",
]
