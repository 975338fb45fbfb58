"""Reading and writing `Examples` artifacts: splits in `Split-<name>/` folders, as Parquet
(columnar, typed: headrace's default) or as gzip TFRecords of tf.Example (TFX's format).

Downstream components read either through `iter_batches`, which streams Arrow record batches,
so memory stays bounded whatever the size of a split. pyarrow and tfx_bsl are imported when a
function here runs, never when the module is imported.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from headrace.errors import HeadraceError

if TYPE_CHECKING:
    import pyarrow as pa

FORMAT_PARQUET = "FORMAT_PARQUET"
FORMAT_TF_EXAMPLE = "FORMAT_TF_EXAMPLE"
PAYLOAD_FORMATS = (FORMAT_PARQUET, FORMAT_TF_EXAMPLE)
_FILE_NAMES = {
    FORMAT_PARQUET: "data_parquet-{:05d}-of-{:05d}.parquet",
    FORMAT_TF_EXAMPLE: "data_tfrecord-{:05d}-of-{:05d}.gz",
}
BATCH_ROWS = 65536


class ExamplesReadError(HeadraceError):
    """An Examples artifact's files cannot be read."""


def split_uri(uri: str, split: str) -> str:
    """The folder of one split of an artifact: `<uri>/Split-<split>` (TFX's layout)."""
    return os.path.join(uri, f"Split-{split}")


def split_names(artifact: Any) -> list[str]:
    """The split names recorded on an artifact (its `split_names` JSON list)."""
    raw = getattr(artifact, "split_names", "") or "[]"
    try:
        names = json.loads(raw) if isinstance(raw, str) else list(raw)
        if not isinstance(names, list):
            raise TypeError(type(names).__name__)
    except (ValueError, TypeError):
        raise ExamplesReadError(
            f"{getattr(artifact, 'uri', 'the artifact')}: split_names {raw!r} is not a JSON list of split names "
            """such as '["train", "eval"]'; fix the property where the artifact was made (e.g. the Importer)."""
        ) from None
    return [str(n) for n in names]


def payload_format(artifact: Any) -> str:
    """The artifact's payload format; TFX's default (tf.Example) when it does not say."""
    found = ""
    if artifact.has_property("payload_format"):
        found = artifact.payload_format or ""
    if not found and artifact.has_custom_property("payload_format"):
        found = artifact.get_string_custom_property("payload_format")
    return found or FORMAT_TF_EXAMPLE


def data_file(split_dir: str, payload: str, shard: int = 0, shards: int = 1) -> str:
    """The path of one data file of a split, named as TFX names them."""
    return os.path.join(split_dir, _FILE_NAMES[payload].format(shard, shards))


def data_files(split_dir: str) -> list[str]:
    """The data files of a split folder, in order (hidden and `_`-prefixed files left out)."""
    try:
        names = sorted(os.listdir(split_dir))
    except FileNotFoundError:
        raise ExamplesReadError(f"Split folder {split_dir} does not exist.") from None
    return [os.path.join(split_dir, n) for n in names if not n.startswith((".", "_"))]


def iter_batches(
    uri: str,
    split: str,
    payload: str,
    columns: list[str] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """Streams one split as Arrow record batches of at most `batch_rows` rows.

    Parquet gives flat typed columns; tf.Example gives list columns (one list per feature, as
    tfx_bsl decodes them). `as_list_batch` turns either into TFDV's form.
    """
    files = data_files(split_uri(uri, split))
    if payload == FORMAT_PARQUET:
        import pyarrow.parquet as pq

        for path in files:
            try:
                yield from pq.ParquetFile(path).iter_batches(batch_size=batch_rows, columns=columns)
            except OSError as e:
                raise ExamplesReadError(f"Cannot read Parquet file {path}: {e}") from None
    elif payload == FORMAT_TF_EXAMPLE:
        from headrace.components.io.tfrecord import read_records

        for path in files:
            chunk: list[bytes] = []
            for record in read_records(path):
                chunk.append(record)
                if len(chunk) >= batch_rows:
                    yield decode_examples(chunk, columns)
                    chunk = []
            if chunk:
                yield decode_examples(chunk, columns)
    else:
        raise ExamplesReadError(f"Unsupported payload format {payload!r}; headrace reads {', '.join(PAYLOAD_FORMATS)}.")


def decode_examples(records: list[bytes], columns: list[str] | None) -> pa.RecordBatch:
    from tfx_bsl.coders import example_coder

    batch = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(records)
    if columns is not None:
        import pyarrow as pa

        names = [c for c in columns if c in batch.schema.names]
        batch = pa.RecordBatch.from_arrays([batch.column(batch.schema.get_field_index(c)) for c in names], names)
    return batch


def as_list_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch with every column a list array (a null value becomes a null list): the form
    TFDV and tfx_bsl expect. List columns are kept as they are."""
    import numpy as np
    import pyarrow as pa

    arrays = []
    for col in batch.columns:
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            arrays.append(col)
            continue
        if pa.types.is_temporal(col.type) or pa.types.is_decimal(col.type) or pa.types.is_dictionary(col.type):
            col = col.cast(pa.string()) if not pa.types.is_dictionary(col.type) else col.cast(col.type.value_type)
        if col.null_count == 0:
            offsets = pa.array(np.arange(len(col) + 1, dtype=np.int32))
            arrays.append(pa.ListArray.from_arrays(offsets, col))
            continue
        valid = col.is_valid().to_numpy(zero_copy_only=False)
        offsets_np = np.zeros(len(col) + 1, dtype=np.int32)
        np.cumsum(valid, out=offsets_np[1:])
        arrays.append(pa.ListArray.from_arrays(pa.array(offsets_np), col.drop_null(), mask=pa.array(~valid)))
    return pa.RecordBatch.from_arrays(arrays, batch.schema.names)


def _tf_example_types(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Casts columns to the three types a tf.Example holds: int64, float32 and bytes."""
    import pyarrow as pa

    arrays = []
    for col in batch.columns:
        t = col.type
        if pa.types.is_floating(t) and t != pa.float32():
            col = col.cast(pa.float32())
        elif (pa.types.is_integer(t) and t != pa.int64()) or pa.types.is_boolean(t):
            col = col.cast(pa.int64())
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            col = col.cast(pa.binary())
        elif pa.types.is_temporal(t) or pa.types.is_decimal(t):
            col = col.cast(pa.string()).cast(pa.binary())
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, batch.schema.names)


@functools.cache
def _encoder() -> Any:
    from tfx_bsl.coders import example_coder

    return example_coder.RecordBatchToExamplesEncoder(None)


def serialize_examples(batch: pa.RecordBatch) -> list[bytes]:
    """The rows of a batch as serialized tf.Example protos (columns cast to tf.Example's types)."""
    return list(_encoder().encode(as_list_batch(_tf_example_types(batch))))


def scalar(value: Any) -> Any:
    """A one-value list (how tf.Example payloads hold a single value) as that value."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def feature_values(batch: pa.RecordBatch) -> dict[str, list[Any]]:
    """Each column's values as Python objects, single-value lists unwrapped."""
    return {n: [scalar(v) for v in c.to_pylist()] for n, c in zip(batch.schema.names, batch.columns, strict=True)}


def write_tf_examples(path: str, batches: Iterable[pa.RecordBatch]) -> int:
    """Writes record batches as a gzip TFRecord file of tf.Example; returns the row count."""
    from headrace.components.io.tfrecord import write_records

    return write_records(path, (record for batch in batches for record in serialize_examples(batch)))
