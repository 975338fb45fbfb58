"""Beam helpers shared by the components that run on Apache Beam (ExampleGen, StatisticsGen, BulkInferrer):
which runner the arguments name and how parallel it is, the runner to build, and reading Examples splits as
read shards (a file, or one part of it) a record batch at a time. Apache Beam and pyarrow are imported
inside the functions that need them."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from headrace import beam_runners
from headrace.components.io.examples import (
    FORMAT_PARQUET,
    FORMAT_TF_EXAMPLE,
    ExamplesReadError,
    as_list_batch,
    data_files,
    decode_examples,
    split_uri,
)

if TYPE_CHECKING:
    import pyarrow as pa

TFRECORD_PART_BYTES = 8 << 20  # a TFRecord file is cut into parts of at least this size (compressed)
DASK_RUNNER = f"--runner={beam_runners.DASK_RUNNER_PATH}"
_DIRECT = beam_runners.DIRECT_NAMES
beam_runner = beam_runners.beam_runner  # the FnApiRunner for the DirectRunner (no download of Beam's Prism)


@dataclasses.dataclass(frozen=True)
class ReadShard:
    """One unit of reading: a data file, or part `part` of `parts` of it.

    Parquet parts are sets of row groups (`row_groups`); TFRecord parts are every `parts`-th
    chunk of `batch_rows` records, starting at chunk `part`.
    """

    path: str
    payload: str
    part: int = 0
    parts: int = 1
    row_groups: tuple[int, ...] | None = None


def parallelism(beam_pipeline_args: Sequence[str]) -> int:
    """How many workers the runner the args describe runs at once (1: in this process); on Dask,
    the cluster's worker threads."""
    from apache_beam.options.pipeline_options import PipelineOptions

    if beam_runners.is_dask(beam_pipeline_args):
        return beam_runners.dask_threads(beam_pipeline_args)

    opts = PipelineOptions(list(beam_pipeline_args)).get_all_options(retain_unknown_options=True)
    runner = str(opts.get("runner") or "DirectRunner").rsplit(".", 1)[-1]
    if runner in _DIRECT:
        if (opts.get("direct_running_mode") or "in_memory") == "in_memory":
            return 1
        return int(opts.get("direct_num_workers") or 0) or os.cpu_count() or 1
    for key in ("parallelism", "max_num_workers", "num_workers", "direct_num_workers"):
        value = opts.get(key)
        if isinstance(value, (int, str)) and str(value).isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def read_shards(
    uri: str, split: str, payload: str, parts: int, min_part_bytes: int = TFRECORD_PART_BYTES
) -> list[ReadShard]:
    """The read shards of one split: each file cut into at most `parts` parts (a Parquet file
    into at most one part per row group, a TFRecord file into parts of `min_part_bytes` or more)."""
    if payload not in (FORMAT_PARQUET, FORMAT_TF_EXAMPLE):
        raise ExamplesReadError(f"Unsupported payload format {payload!r}; the Beam path reads Parquet and tf.Example.")
    shards: list[ReadShard] = []
    for path in data_files(split_uri(uri, split)):
        if payload == FORMAT_PARQUET:
            import pyarrow.parquet as pq

            groups = pq.ParquetFile(path).metadata.num_row_groups
            n = max(1, min(parts, groups))
            shards += [ReadShard(path, payload, k, n, tuple(range(k, groups, n))) for k in range(n)]
        else:
            n = max(1, min(parts, os.path.getsize(path) // max(1, min_part_bytes)))
            shards += [ReadShard(path, payload, k, n) for k in range(n)]
    return shards


def read_shard(
    shard: ReadShard, columns: list[str] | None, batch_rows: int, lists: bool = True
) -> Iterator[pa.RecordBatch]:
    """Streams one shard as record batches of list columns (TFDV's form), or with `lists=False`
    as `examples_io.iter_batches` gives them (Parquet's flat typed columns)."""
    if shard.payload == FORMAT_PARQUET:
        import pyarrow.parquet as pq

        try:
            batches = pq.ParquetFile(shard.path).iter_batches(
                batch_size=batch_rows, row_groups=list(shard.row_groups or ()), columns=columns
            )
            for batch in batches:
                yield as_list_batch(batch) if lists else batch
        except OSError as e:
            raise ExamplesReadError(f"Cannot read Parquet file {shard.path}: {e}") from None
        return
    from headrace.components.io.tfrecord import read_records

    chunk: list[bytes] = []
    chunk_index, in_chunk = 0, 0
    for record in read_records(shard.path):
        if chunk_index % shard.parts == shard.part:  # keep (and decode) only this part's chunks
            chunk.append(record)
        in_chunk += 1
        if in_chunk == batch_rows:
            if chunk:
                yield decode_examples(chunk, columns)
                chunk = []
            chunk_index, in_chunk = chunk_index + 1, 0
    if chunk:
        yield decode_examples(chunk, columns)


def runner_name(args: Sequence[str]) -> str:
    """The short name of the runner `args` select (DirectRunner when they name none)."""
    return beam_runners.runner_name(args)


def lines_writer(out_dir: str) -> Any:
    """A DoFn writing each bundle's lines to its own file `<out_dir>/part-<id>.txt` (under a hidden
    name until whole). On Dask it stands in for Beam's text sink, whose finalization reads side
    inputs: Beam 2.72's DaskRunner computes a side input inside the task reading it, a task that
    holds a worker thread while it waits for others."""
    import uuid

    import apache_beam as beam
    from apache_beam.io.filesystems import FileSystems

    class _WriteLines(beam.DoFn):
        def start_bundle(self) -> None:
            self._lines: list[str] = []

        def process(self, line: str) -> None:
            self._lines.append(line)

        def finish_bundle(self) -> None:
            if not self._lines:
                return
            name = f"part-{uuid.uuid4().hex}.txt"
            tmp, final = FileSystems.join(out_dir, f".{name}"), FileSystems.join(out_dir, name)
            with FileSystems.create(tmp) as f:
                f.write("".join(f"{line}\n" for line in self._lines).encode())
            FileSystems.rename([tmp], [final])

    return _WriteLines()


def runner_args(args: Sequence[str]) -> list[str]:
    """The Beam arguments, made runnable (`headrace.beam_runners.resolve`: `--runner=DaskRunner`
    spelled as Beam finds it, the cluster checked); on Dask, one read shard per Dask partition
    unless the args say otherwise: the DaskRunner holds a partition's whole output in memory and
    runs a partition as one task (its default of 128 elements a partition would read every shard
    of a split in one task)."""
    out = beam_runners.resolve(args)
    partitions = ("--dask_npartitions", "--dask_partition_size")
    if beam_runners.is_dask(out) and not any(a.startswith(partitions) for a in out):
        out.append("--dask_partition_size=1")
    return out


__all__ = [
    "DASK_RUNNER",
    "TFRECORD_PART_BYTES",
    "ReadShard",
    "beam_runner",
    "lines_writer",
    "parallelism",
    "read_shard",
    "read_shards",
    "runner_args",
    "runner_name",
]
