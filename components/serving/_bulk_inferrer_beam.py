"""BulkInferrer's Beam path: the same predictions as the in-process path, in one Beam pipeline.

The pipeline is built from the pipeline's `beam_pipeline_args` as StatisticsGen's is
(`stats_beam`: DirectRunner's engine when they name no runner, else the runner they name). Per
split: the split's read shards (Parquet row groups or TFRecord chunks, `stats_beam.read_shards`)
are read a record batch at a time and cut into elements of 256 rows; `beam.BatchElements` groups
them again (counting rows, up to the in-process path's 8192 a batch), and a DoFn that loads the
SavedModel once per worker (`setup`) predicts each batch with the in-process path's own code
(`bulk_inferrer.predict_batch` and `prediction_table`), so the columns, their names, order and
types are the same. Each bundle writes its tables to a part file under the split's output folder
(`_beam_parts/`, which must be reachable from the runner's workers: true for local runners); the
parts are then merged into the split's one Parquet file and removed.

Row order: one row per input row, but in the order the runner processed the batches, not the
input's order (the in-process path keeps the input's order).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from headrace import beam_runners
from headrace.components import common as _common
from headrace.components.beam import beam_runner, parallelism, read_shard, read_shards, runner_args
from headrace.components.serving.bulk_inferrer import (
    BATCH_ROWS,
    PREDICTIONS_FILE,
    predict_batch,
    prediction_table,
    write_tables,
)

PARTS_DIR = "_beam_parts"  # `_`-prefixed: examples_io.data_files leaves it out
ROWS_PER_ELEMENT = 256  # Beam's per-element cost is paid per slice of rows, not per row


def _rows(shard: Any, batch_rows: int) -> Iterator[Any]:
    """Slices (zero-copy) of ROWS_PER_ELEMENT rows of a shard's record batches, as the in-process
    path reads them."""
    for batch in read_shard(shard, None, batch_rows, lists=False):
        for start in range(0, batch.num_rows, ROWS_PER_ELEMENT):
            yield batch.slice(start, ROWS_PER_ELEMENT)


def _shard_batches(shard: Any, batch_rows: int) -> Iterator[list[Any]]:
    """A shard's record batches (up to `batch_rows` rows each), each as a one-slice list."""
    for batch in read_shard(shard, None, batch_rows, lists=False):
        yield [batch]


def _num_rows(rows: Any) -> int:
    return int(rows.num_rows)


def _concat(rows: list[Any]) -> Any:
    """One record batch of row slices (a tf.Example chunk's all-missing feature may decode
    as a null column: `promote` unifies it with the other chunks' type)."""
    import pyarrow as pa

    table = pa.concat_tables([pa.Table.from_batches([r]) for r in rows], promote=True).combine_chunks()
    return table.to_batches()[0]


def _predict_fn(split: str, model_dir: str, tags: list[str] | None, signature: str, columns: Any) -> Any:
    """A DoFn that loads the model once per instance (`setup`) and predicts a list of rows at a time."""
    import apache_beam as beam

    class _Predict(beam.DoFn):
        def __init__(self) -> None:
            self._signature: Any = None

        def setup(self) -> None:
            _common.quiet_tensorflow()

            model = _common.load_saved_model("BulkInferrer", model_dir, tags)
            if signature not in model.signatures:
                raise _common.ModelLoadError(
                    f"the model has no signature '{signature}' (it has {sorted(model.signatures)})."
                )
            self._model = model  # the signature's functions hold only weak references to the model
            self._signature = model.signatures[signature]

        def process(self, rows: list[Any]) -> Iterator[tuple[str, Any]]:
            batch = _concat(rows)
            yield split, prediction_table(batch, predict_batch(self._signature, batch), columns)

    return _Predict()


def _write_parts_fn(parts_dirs: dict[str, str]) -> Any:
    """A DoFn writing a bundle's tables to one Parquet part file per split."""
    import apache_beam as beam

    class _WriteParts(beam.DoFn):
        def start_bundle(self) -> None:
            self._writers: dict[str, Any] = {}

        def process(self, element: tuple[str, Any]) -> None:
            import pyarrow.parquet as pq

            split, table = element
            if split not in self._writers:  # written under a temporary name, renamed when whole
                path = os.path.join(parts_dirs[split], f"part-{uuid.uuid4().hex}.parquet.tmp")
                self._writers[split] = pq.ParquetWriter(path, table.schema)
            writer = self._writers[split]
            writer.write_table(table.cast(writer.schema))

        def finish_bundle(self) -> None:
            for writer in self._writers.values():
                writer.close()
                os.replace(writer.where, writer.where.removesuffix(".tmp"))

    return _WriteParts()


def _merge(parts_dir: str, out_path: str) -> int:
    """Streams the part files into one Parquet file; returns its row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Whole parts only: a bundle whose worker died mid-write left a .tmp file (its retry wrote its own).
    parts = sorted(os.path.join(parts_dir, n) for n in os.listdir(parts_dir) if n.endswith(".parquet"))
    tables = (pa.Table.from_batches([b]) for p in parts for b in pq.ParquetFile(p).iter_batches(BATCH_ROWS))
    return write_tables(out_path, tables)


def predict_splits_beam(
    model_dir: str,
    tags: list[str] | None,
    signature: str,
    examples_uri: str,
    payload: str,
    out_dirs: dict[str, str],
    columns: dict[str, str] | None,
    beam_pipeline_args: Sequence[str],
    batch_rows: int = BATCH_ROWS,
) -> dict[str, int]:
    """Predicts every split of `out_dirs` ({split: output folder}) in one Beam pipeline and writes
    each as `<folder>/predictions-00000-of-00001.parquet`; returns {split: rows}."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    args = runner_args(beam_pipeline_args)
    parts = parallelism(args)
    parts_dirs = {s: os.path.join(d, PARTS_DIR) for s, d in out_dirs.items()}
    for d in parts_dirs.values():
        os.makedirs(d, exist_ok=True)
    try:
        pipeline = beam.Pipeline(runner=beam_runner(args), options=PipelineOptions(args))
        with beam_runners.waiting_on_cluster(args), pipeline:
            predicted = []
            for s in out_dirs:
                shards = pipeline | f"Shards[{s}]" >> beam.Create(read_shards(examples_uri, s, payload, parts))
                if beam_runners.is_dask(args):
                    # Beam 2.72's DaskRunner drops what a DoFn emits in finish_bundle, which is where
                    # BatchElements emits a bundle's last batch: batches as the shards are read instead.
                    batches = shards | f"Batches[{s}]" >> beam.FlatMap(_shard_batches, batch_rows)
                else:
                    batches = (
                        shards
                        | f"Rows[{s}]" >> beam.FlatMap(_rows, batch_rows)
                        | f"Batch[{s}]"
                        >> beam.BatchElements(
                            min_batch_size=ROWS_PER_ELEMENT, max_batch_size=batch_rows, element_size_fn=_num_rows
                        )
                    )
                predict = _predict_fn(s, model_dir, tags, signature, columns)
                predicted.append(batches | f"Predict[{s}]" >> beam.ParDo(predict))
            # One sink for all splits: DaskRunner computes only the last sink of a pipeline.
            _ = predicted | "Flatten" >> beam.Flatten() | "Write" >> beam.ParDo(_write_parts_fn(parts_dirs))
        beam_runners.close_dask_client(pipeline)
        return {s: _merge(parts_dirs[s], os.path.join(d, PREDICTIONS_FILE)) for s, d in out_dirs.items()}
    finally:
        for d in parts_dirs.values():
            shutil.rmtree(d, ignore_errors=True)


__all__ = ["predict_splits_beam"]
