"""What a Trainer module file's `run_fn` receives: :class:`FnArgs` and its :class:`DataAccessor`.

The names and fields are TFX's (`tfx.components.trainer.fn_args_utils`), so TFX module files run
unchanged. The data accessor reads an Examples artifact in either payload: gzip TFRecords of
tf.Example or Parquet. Both are read as Arrow record batches and turned into tensors by tfx_bsl's
`TensorAdapter` from the schema's tensor representations, so one schema gives the same tensors
(dtypes and shapes) whatever the payload. TensorFlow, pyarrow and tfx_bsl are imported when a
factory runs, never when this module is imported.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from headrace.components.io.examples import FORMAT_PARQUET, FORMAT_TF_EXAMPLE, PAYLOAD_FORMATS, as_list_batch
from headrace.errors import HeadraceError

_CHUNK_ROWS = 1024  # rows per Arrow batch turned into tensors before shuffling and batching


class DataAccessError(HeadraceError):
    """The data accessor cannot read the files it was given or fit them to the schema."""


class DataAccessor(NamedTuple):
    """Factories reading the Trainer's examples, whatever their payload (TFX's `DataAccessor`).

    Attributes:
        tf_dataset_factory: `(file_pattern, dataset_options, schema) -> tf.data.Dataset` of
            feature dicts, or of `(features, label)` pairs when `dataset_options.label_key` is set.
        record_batch_factory: `(file_pattern, record_batches_options, schema) -> Iterator[pa.RecordBatch]`.
        data_view_decode_fn: Always None (headrace has no TFX data views).
    """

    tf_dataset_factory: Callable[..., Any]
    record_batch_factory: Callable[..., Iterator[Any]]
    data_view_decode_fn: Callable[..., Any] | None = None


@dataclass
class FnArgs:
    """The arguments of a module file's `run_fn` (TFX's `FnArgs`, field for field).

    Attributes:
        working_dir: A scratch folder for this execution.
        train_files: Glob patterns of the training files, one per train split (`<uri>/Split-train/*`).
        eval_files: Glob patterns of the evaluation files.
        train_steps: `train_args.num_steps`, None when 0 or unset.
        eval_steps: `eval_args.num_steps`, None when 0 or unset.
        schema_path: The schema file (`schema.pbtxt`) when a schema is given, else None.
        schema_file: The same as `schema_path` (TFX's deprecated name).
        transform_graph_path: Always None (headrace has no Transform yet).
        transform_output: Always None (TFX's deprecated name).
        data_accessor: Reads the examples as `tf.data.Dataset`s or Arrow record batches.
        serving_model_dir: Where `run_fn` must save the SavedModel: `<model uri>/Format-Serving`.
        eval_model_dir: `<model uri>/Format-TFMA` (TFX's Estimator-only folder; Keras needs none).
        model_run_dir: Where TensorBoard logs go: the ModelRun artifact's folder.
        base_model: Always None (no base model input yet).
        hyperparameters: A dict of hyperparameters, or None.
        custom_config: The component's `custom_config` dict, or None.
    """

    working_dir: str | None = None
    train_files: list[str] | None = None
    eval_files: list[str] | None = None
    train_steps: int | None = None
    eval_steps: int | None = None
    schema_path: str | None = None
    schema_file: str | None = None
    transform_graph_path: str | None = None
    transform_output: str | None = None
    data_accessor: DataAccessor | None = None
    serving_model_dir: str | None = None
    eval_model_dir: str | None = None
    model_run_dir: str | None = None
    base_model: str | None = None
    hyperparameters: dict[str, Any] | None = None
    custom_config: dict[str, Any] | None = None


def data_accessor(payload: str) -> DataAccessor:
    """A DataAccessor reading files of one payload format (an Examples artifact's `payload_format`)."""
    if payload not in PAYLOAD_FORMATS:
        raise DataAccessError(f"Unsupported payload format {payload!r}; Trainer reads {', '.join(PAYLOAD_FORMATS)}.")

    def tf_dataset_factory(file_pattern: Any, dataset_options: Any, schema: Any = None) -> Any:
        return tf_dataset(file_pattern, dataset_options, schema, payload)

    def record_batch_factory(file_pattern: Any, record_batches_options: Any, schema: Any = None) -> Iterator[Any]:
        return record_batches(file_pattern, record_batches_options, schema, payload)

    return DataAccessor(tf_dataset_factory, record_batch_factory, None)


# -- reading -------------------------------------------------------------------------------------
def matching_files(file_pattern: str | list[str]) -> list[str]:
    """The data files a pattern (or list of patterns) names, sorted; hidden and `_` files left out."""
    patterns = [file_pattern] if isinstance(file_pattern, str) else list(file_pattern)
    files: list[str] = []
    for pattern in patterns:
        found = sorted(glob.glob(os.fspath(pattern)))
        files += [f for f in found if os.path.isfile(f) and not os.path.basename(f).startswith((".", "_"))]
    if not files:
        raise DataAccessError(f"No data files match {patterns}.")
    return files


def _raw_batches(files: list[str], payload: str) -> Iterator[Any]:
    """Arrow record batches of the files, every column a list column (tf.Example's form)."""
    if payload == FORMAT_PARQUET:
        import pyarrow.parquet as pq

        for path in files:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=_CHUNK_ROWS):
                yield as_list_batch(batch)
    else:
        from tfx_bsl.coders import example_coder

        from headrace.components.io.tfrecord import read_records

        decoder = example_coder.ExamplesToRecordBatchDecoder()
        for path in files:
            chunk: list[bytes] = []
            for record in read_records(path):
                chunk.append(record)
                if len(chunk) >= _CHUNK_ROWS:
                    yield decoder.DecodeBatch(chunk)
                    chunk = []
            if chunk:
                yield decoder.DecodeBatch(chunk)


def _schema_types(schema: Any) -> dict[str, Any]:
    """The Arrow list type each schema feature is read as (tf.Example's three types)."""
    import pyarrow as pa
    from tensorflow_metadata.proto.v0 import schema_pb2

    kinds = {schema_pb2.INT: pa.int64(), schema_pb2.FLOAT: pa.float32(), schema_pb2.BYTES: pa.large_binary()}
    return {f.name: pa.large_list(kinds[f.type]) for f in schema.feature if f.type in kinds}


def _infer_schema(batch: Any) -> Any:
    """A schema for data given without one: each column's type, and shape [1] where every row has
    exactly one value (TFX needs a schema; this lets a module file pass `schema=None` on simple data)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from tensorflow_metadata.proto.v0 import schema_pb2

    schema = schema_pb2.Schema()
    for name, col in zip(batch.schema.names, batch.columns, strict=True):
        value_type = col.type.value_type
        feature = schema.feature.add(name=name)
        if pa.types.is_integer(value_type) or pa.types.is_boolean(value_type):
            feature.type = schema_pb2.INT
        elif pa.types.is_floating(value_type):
            feature.type = schema_pb2.FLOAT
        else:
            feature.type = schema_pb2.BYTES
        lengths = pc.list_value_length(col)
        if col.null_count == 0 and len(col) and pc.min(lengths).as_py() == 1 and pc.max(lengths).as_py() == 1:
            feature.shape.dim.add(size=1)
            feature.presence.min_fraction = 1
    return schema


def _typed(batch: Any, types: dict[str, Any], owner: str) -> Any:
    """The batch's schema columns, cast to the schema's types (Parquet's float64 -> float32...)."""
    import pyarrow as pa

    names, arrays = [], []
    for name, want in types.items():
        index = batch.schema.get_field_index(name)
        if index < 0:
            raise DataAccessError(
                f"{owner}: the schema's feature '{name}' is not in the data (columns: {batch.schema.names})."
            )
        col = batch.column(index)
        if pa.types.is_string(col.type.value_type) or pa.types.is_large_string(col.type.value_type):
            col = col.cast(pa.large_list(pa.large_string())).cast(pa.large_list(pa.large_binary()))
        try:
            col = col.cast(want)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            raise DataAccessError(f"{owner}: feature '{name}' ({col.type}) does not fit the schema: {e}") from None
        names.append(name)
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, names)


def record_batches(file_pattern: Any, options: Any, schema: Any, payload: str) -> Iterator[Any]:
    """Arrow record batches of the files (TFX's `record_batch_factory`): list columns, typed from
    the schema when given; `options` is a `tfxio.RecordBatchesOptions` (batch size, epochs,
    shuffling of rows within a shuffle buffer)."""
    import random

    import pyarrow as pa

    files = matching_files(file_pattern)
    batch_size = int(getattr(options, "batch_size", _CHUNK_ROWS) or _CHUNK_ROWS)
    epochs = getattr(options, "num_epochs", None)
    shuffle = bool(getattr(options, "shuffle", False))
    rng = random.Random(getattr(options, "shuffle_seed", None))
    epoch = 0
    while epochs is None or epoch < epochs:
        epoch += 1
        tables = []
        for batch in _raw_batches(files, payload):
            if schema is not None:
                batch = _typed(batch, _schema_types(schema), "record_batch_factory")
            tables.append(pa.Table.from_batches([batch]))
        if not tables:
            return
        table = pa.concat_tables(tables, promote=True)
        if shuffle:
            order = list(range(table.num_rows))
            rng.shuffle(order)
            table = table.take(order)
        for b in table.to_batches(max_chunksize=batch_size):
            if getattr(options, "drop_final_batch", False) and b.num_rows < batch_size:
                continue
            yield b


def _in_memory_bytes() -> int:
    """Data files up to this size (HEADRACE_DATASET_IN_MEMORY_BYTES, default 256 MiB) are read into
    tensors at once; larger ones stream through a generator."""
    return int(os.environ.get("HEADRACE_DATASET_IN_MEMORY_BYTES", str(256 << 20)))


def tf_dataset(file_pattern: Any, options: Any, schema: Any, payload: str) -> Any:
    """A `tf.data.Dataset` of the files (TFX's `tf_dataset_factory`): feature dicts typed and shaped
    from the schema's tensor representations (a feature with a shape is dense, one without is a
    SparseTensor), batched, shuffled and repeated as `options` (a `tfxio.TensorFlowDatasetOptions`)
    says, and split into `(features, label)` when `options.label_key` is set."""
    import tensorflow as tf
    from tfx_bsl.tfxio import tensor_adapter, tensor_representation_util

    files = matching_files(file_pattern)
    first = next(_raw_batches(files[:1], payload), None)
    if first is None:
        raise DataAccessError(f"tf_dataset_factory: the files {files[:3]} hold no rows.")
    if schema is None:
        schema = _infer_schema(first)
    types = _schema_types(schema)
    representations = tensor_representation_util.GetTensorRepresentationsFromSchema(schema)
    if representations is None:
        representations = tensor_representation_util.InferTensorRepresentationsFromSchema(schema)
    representations = {k: v for k, v in representations.items() if k in types}
    label_key = getattr(options, "label_key", None)
    if label_key is not None and label_key not in representations:
        raise DataAccessError(
            f"tf_dataset_factory: label_key '{label_key}' is not a feature of the schema ({sorted(representations)})."
        )
    arrow_schema = _typed(first, types, "tf_dataset_factory").schema
    adapter = tensor_adapter.TensorAdapter(tensor_adapter.TensorAdapterConfig(arrow_schema, representations))

    if sum(os.path.getsize(f) for f in files) <= _in_memory_bytes():
        # Small data: decoded once into tensors. No Python generator runs inside the pipeline, so
        # nothing waits on the interpreter (a from_generator dataset can stall a process's exit).
        import pyarrow as pa

        table = pa.Table.from_batches([_typed(b, types, "tf_dataset_factory") for b in _raw_batches(files, payload)])
        whole = table.combine_chunks().to_batches()
        tensors = adapter.ToBatchTensors(whole[0] if whole else _typed(first.slice(0, 0), types, ""))
        dataset = tf.data.Dataset.from_tensor_slices(tensors)
    else:

        def chunks() -> Iterator[dict[str, Any]]:
            for batch in _raw_batches(files, payload):
                yield adapter.ToBatchTensors(_typed(batch, types, "tf_dataset_factory"))

        dataset = tf.data.Dataset.from_generator(chunks, output_signature=adapter.TypeSpecs()).unbatch()
    if options.shuffle:
        dataset = dataset.shuffle(options.shuffle_buffer_size, seed=options.shuffle_seed)
    dataset = dataset.repeat(options.num_epochs)
    dataset = dataset.batch(options.batch_size, drop_remainder=bool(options.drop_final_batch))
    if label_key is not None:
        dataset = dataset.map(lambda f: ({k: v for k, v in f.items() if k != label_key}, f[label_key]))
    prefetch = options.prefetch_buffer_size
    return dataset.prefetch(tf.data.AUTOTUNE if prefetch is None or prefetch < 0 else prefetch)


__all__ = ["FORMAT_PARQUET", "FORMAT_TF_EXAMPLE", "DataAccessError", "DataAccessor", "FnArgs", "data_accessor"]
