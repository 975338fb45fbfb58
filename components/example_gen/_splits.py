"""Deterministic hash splitting of record batches, and the per-split writers of ExampleGen.

A row's bucket is a 64-bit hash of its values (or of one partition column, so related rows stay
together) modulo the total number of hash buckets. The hash depends on values only: not on the
file, the batch boundaries, the machine or the run, so splits are the same on every run.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from headrace.components.io.examples import FORMAT_PARQUET, data_file

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

_MIX = 0x100000001B3  # FNV-style multiplier combining column hashes
_NULL = 0x9E3779B97F4A7C15  # the hash of a missing value


def _hash_flat(col: pa.Array) -> np.ndarray:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
        encoded = pc.dictionary_encode(col)
        words = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
        table = np.append(pd.util.hash_array(words, categorize=False), np.uint64(_NULL))
        indices = encoded.indices.fill_null(len(words)).to_numpy(zero_copy_only=False)
        return table[indices]
    if pa.types.is_boolean(t):
        col = col.cast(pa.int8())
    elif pa.types.is_temporal(t) or pa.types.is_decimal(t):
        col = col.cast(pa.string())
        return _hash_flat(col)
    values = col.fill_null(0).to_numpy(zero_copy_only=False)
    hashed = pd.util.hash_array(values, categorize=False)
    if col.null_count:
        hashed[~col.is_valid().to_numpy(zero_copy_only=False)] = np.uint64(_NULL)
    return hashed


def _hash_column(col: pa.Array) -> np.ndarray:
    import numpy as np
    import pyarrow as pa

    if not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type)):
        return _hash_flat(col)
    # A list: the wrapping sum of its values' hashes, each mixed with its position, plus its length.
    offsets = col.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    values = col.values
    base = offsets[0]
    flat = _hash_flat(values.slice(base, offsets[-1] - base)) if len(values) else np.zeros(0, np.uint64)
    positions = np.arange(len(flat), dtype=np.uint64) - np.repeat(
        (offsets[:-1] - base).astype(np.uint64), np.diff(offsets)
    )
    with np.errstate(over="ignore"):
        flat = flat * (positions * np.uint64(2) + np.uint64(1))
        sums = np.concatenate([np.zeros(1, np.uint64), np.cumsum(flat, dtype=np.uint64)])
        hashed = sums[offsets[1:] - base] - sums[offsets[:-1] - base] + np.diff(offsets).astype(np.uint64)
    if col.null_count:
        hashed[~col.is_valid().to_numpy(zero_copy_only=False)] = np.uint64(_NULL)
    return hashed


def row_buckets(batch: pa.RecordBatch, total: int, partition_column: str | None) -> np.ndarray:
    """Each row's bucket in [0, total)."""
    import numpy as np

    if partition_column is not None:
        columns = [batch.column(batch.schema.get_field_index(partition_column))]
    else:
        columns = list(batch.columns)
    h = np.zeros(batch.num_rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in columns:
            h = (h * np.uint64(_MIX)) ^ _hash_column(col)
    return h % np.uint64(total)


def partition(batch: pa.RecordBatch, buckets: list[tuple[str, int]], partition_column: str | None) -> dict[str, Any]:
    """Splits a batch by hash: {split name: record batch}, in `buckets` order (name, buckets)."""
    import numpy as np
    import pyarrow as pa

    total = sum(n for _, n in buckets)
    b = row_buckets(batch, total, partition_column)
    out, low = {}, 0
    for name, count in buckets:
        mask = (b >= np.uint64(low)) & (b < np.uint64(low + count))
        out[name] = batch.filter(pa.array(mask))
        low += count
    return out


class SplitWriter:
    """Writes one split's rows to `<split_dir>/data_*-00000-of-00001.*`, as they come."""

    def __init__(self, split_dir: str, payload: str):
        os.makedirs(split_dir, exist_ok=True)
        self.path = data_file(split_dir, payload)
        self.payload = payload
        self.rows = 0
        self.schema: pa.Schema | None = None
        self._writer: Any = None

    def write(self, batch: pa.RecordBatch) -> None:
        """Appends rows (a batch with no rows still fixes the schema)."""
        if self._writer is None:
            self._open(batch.schema)
        if batch.num_rows == 0:
            return
        if self.payload == FORMAT_PARQUET:
            import pyarrow as pa

            self._writer.write_table(pa.Table.from_batches([batch], schema=self.schema))
        else:
            from headrace.components.io.examples import serialize_examples

            self._writer.write(serialize_examples(batch))
        self.rows += batch.num_rows

    def _open(self, schema: pa.Schema) -> None:
        self.schema = schema
        if self.payload == FORMAT_PARQUET:
            import pyarrow.parquet as pq

            self._writer = pq.ParquetWriter(self.path, schema, compression="snappy")
        else:
            from headrace.components.io.tfrecord import RecordWriter

            self._writer = RecordWriter(self.path)

    def close(self, schema: pa.Schema | None) -> None:
        """Closes the file; a split that got no batch at all still gets a file with `schema`."""
        if self._writer is None and schema is not None:
            self._open(schema)
        if self._writer is not None:
            self._writer.close()
