"""Reading Examples splits on Beam as read shards (a file, or one part of it), a record batch at a time:
a Parquet file is cut by row groups, a TFRecord file by taking every n-th chunk of records (each part
frames the whole file, which is cheap, and decodes only its chunks, which is the expensive step).
pyarrow is imported inside the functions that need it."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from headrace.components.io import (
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
    from headrace.components.io import read_records

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


__all__ = ["TFRECORD_PART_BYTES", "ReadShard", "read_shard", "read_shards"]
