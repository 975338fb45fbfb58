"""ExampleGen's in-process executors: each input file read a block at a time, each block hashed into
its split and appended to that split's file (Parquet), the Examples artifact's properties recorded."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from headrace.components.example_gen import config as cfg
from headrace.components.example_gen.readers import InputDataError, ReadStats, WidenColumnError
from headrace.components.io.examples import BATCH_ROWS, FORMAT_PARQUET, split_uri
from headrace.dsl.executor import BaseExecutor
from headrace.errors import DefinitionError
from headrace.types.artifact import Artifact

if TYPE_CHECKING:
    import pyarrow as pa


class Executor(BaseExecutor):
    """The Arrow path of every file-based ExampleGen: resolve files, stream record batches from
    `read_file`, hash rows into splits, append each split's rows to its file."""

    def read_file(self, path: str, exec_properties: dict[str, Any], stats: ReadStats) -> Iterable[pa.RecordBatch]:
        """Record batches of one input file. The base class calls the user's `reader` function."""
        spec = exec_properties.get("reader")
        if not spec:
            raise DefinitionError(
                "FileBasedExampleGen needs a reader: pass reader=<function of a file path returning Arrow record "
                "batches>, or custom_executor_spec=BeamExecutorSpec(<your BaseExampleGenExecutor>)."
            )
        from headrace.dsl.user_code import load

        return _batches_of(load(spec)(path), path)

    def Do(
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        examples = output_dict["examples"][0]
        input_base = exec_properties["input_base"]
        span, version, files = cfg.resolve_files(
            input_base, exec_properties["input_config"], exec_properties.get("range_config")
        )
        column_types = dict(exec_properties.get("column_types") or {})
        for _ in range(64):  # each retry widens one column (int -> float); a file has finitely many
            try:
                result = self._generate(files, exec_properties, examples.uri, column_types)
                break
            except WidenColumnError as w:
                if column_types.get(w.column) == w.to_type:
                    raise InputDataError(f"Column '{w.column}' cannot be read as {w.to_type}.") from None
                column_types[w.column] = w.to_type
                for name in os.listdir(examples.uri):
                    shutil.rmtree(os.path.join(examples.uri, name), ignore_errors=True)
        else:  # pragma: no cover - guarded by the column count
            raise InputDataError("Column types did not settle while reading the input files.")
        rows, payload, stats, read_files = result
        record_output(examples, list(rows), span, version, payload, files, input_base, rows)
        if stats.skipped_rows:
            examples.set_custom_property("skipped_rows", stats.skipped_rows)
        summary = ", ".join(f"{n} {c:,}" for n, c in rows.items())
        examples.set_custom_property("summary", f"{sum(rows.values()):,} rows: {summary}")
        skipped = f"; skipped {stats.skipped_rows:,} invalid rows" if stats.skipped_rows else ""
        print(f"{sum(rows.values()):,} rows from {read_files} file(s) -> {summary} ({payload}){skipped}")
        for sample in stats.skipped_samples:
            print(f"  skipped: {sample!r}")

    def _generate(
        self, files: dict[str, list[str]], props: dict[str, Any], uri: str, column_types: dict[str, str]
    ) -> tuple[dict[str, int], str, ReadStats, int]:
        from headrace.components.example_gen._splits import SplitWriter, partition

        split_config = (props.get("output_config") or {}).get("split_config") or {}
        buckets = [(s["name"], int(s["hash_buckets"])) for s in split_config.get("splits", [])]
        hashed = len(files) == 1 and bool(buckets)
        out_names = [n for n, _ in buckets] if hashed else list(files)
        payload = props.get("output_data_format") or ""
        column = split_config.get("partition_feature_name") or None
        props = {**props, "column_types": column_types}
        stats = ReadStats()
        writers: dict[str, SplitWriter] = {}
        reference: pa.Schema | None = None
        read = 0
        for in_split, paths in files.items():
            for path in paths:
                read += 1
                for batch in self.read_file(path, props, stats):
                    if batch.num_rows == 0:
                        continue
                    batch, reference = _conform(_declared(batch, column_types, path), reference, path)
                    if not payload:
                        payload = self.default_payload(path)
                    if not writers:
                        writers = {n: SplitWriter(split_uri(uri, n), payload) for n in out_names}
                        if column is not None and column not in reference.names:
                            raise InputDataError(
                                f"partition_feature_name {column!r} is not a column of the data; columns: "
                                f"{', '.join(reference.names)}."
                            )
                    parts = partition(batch, buckets, column) if hashed else {in_split: batch}
                    for name, part in parts.items():
                        writers[name].write(part)
        if not writers:
            raise InputDataError(f"The input files hold no rows: {_names(files)}. Add data rows to them.")
        for w in writers.values():
            w.close(reference)
        rows = {n: w.rows for n, w in writers.items()}
        if not sum(rows.values()):
            raise InputDataError(f"The input files hold no rows (only headers?): {_names(files)}. Add data rows.")
        return rows, payload, stats, read

    def default_payload(self, path: str) -> str:
        """The output payload when the user did not choose one."""
        return FORMAT_PARQUET


def record_output(
    examples: Artifact,
    splits: list[str],
    span: int,
    version: int | None,
    payload: str,
    files: dict[str, list[str]],
    input_base: str,
    rows: dict[str, int],
) -> None:
    """Sets what every ExampleGen records on its Examples (Arrow or Beam path): split names, span,
    version, payload format, the input base and fingerprint, and the row count of each split."""
    examples.split_names = json.dumps(splits)
    examples.span = span
    if version is not None:
        examples.version = version
    examples.payload_format = payload
    examples.set_custom_property("payload_format", payload)
    examples.set_custom_property("input_base", input_base)
    examples.set_custom_property("input_fingerprint", _fingerprint(files))
    if rows:
        examples.set_custom_property("split_rows", json.dumps(rows))


def _fingerprint(files: dict[str, list[str]]) -> str:
    """TFX's form of an input fingerprint: per split, file count, bytes, and checksums of the
    files' modification times."""
    parts = []
    for split, paths in files.items():
        stats = [os.stat(p) for p in paths]
        mtimes = [int(st.st_mtime) for st in stats]
        xor = 0
        for m in mtimes:
            xor ^= m
        parts.append(
            f"split:{split},num_files:{len(paths)},total_bytes:{sum(st.st_size for st in stats)},"
            f"xor_checksum:{xor},sum_checksum:{sum(mtimes)}"
        )
    return "\n".join(parts)


def _names(files: dict[str, list[str]]) -> str:
    paths = [p for ps in files.values() for p in ps]
    return ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def _batches_of(result: Any, path: str) -> Iterator[pa.RecordBatch]:
    """A reader's result (a RecordBatch, a Table, or an iterable of them) as record batches."""
    import pyarrow as pa

    items = [result] if isinstance(result, (pa.RecordBatch, pa.Table)) else result
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise InputDataError(
            f"The reader returned {type(result).__name__} for {path}; it must return an Arrow RecordBatch, a "
            "Table, or an iterable of them."
        )
    for item in items:
        if isinstance(item, pa.Table):
            yield from item.to_batches(max_chunksize=BATCH_ROWS)
        elif isinstance(item, pa.RecordBatch):
            yield item
        else:
            raise InputDataError(
                f"The reader yielded {type(item).__name__} for {path}; yield Arrow RecordBatches or Tables."
            )


def _declared(batch: pa.RecordBatch, column_types: dict[str, str], path: str) -> pa.RecordBatch:
    """The batch with the columns the user (or a widening) declared cast to their types."""
    if not column_types:
        return batch
    import pyarrow as pa

    arrays = list(batch.columns)
    changed = False
    for i, field in enumerate(batch.schema):
        wanted = column_types.get(field.name)
        if wanted is None or field.type == pa.type_for_alias(wanted):
            continue
        try:
            arrays[i] = arrays[i].cast(pa.type_for_alias(wanted))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            raise InputDataError(f"Input file {path}: column '{field.name}' cannot be read as {wanted}: {e}") from None
        changed = True
    return pa.RecordBatch.from_arrays(arrays, batch.schema.names) if changed else batch


def _conform(batch: pa.RecordBatch, reference: pa.Schema | None, path: str) -> tuple[pa.RecordBatch, pa.Schema]:
    """Checks a batch against the columns of the first one; casts types the files disagree on
    where that loses nothing (an all-null column, int into float)."""
    import pyarrow as pa

    if reference is None:
        return batch, batch.schema
    if batch.schema.names != reference.names:
        missing = [n for n in reference.names if n not in batch.schema.names]
        extra = [n for n in batch.schema.names if n not in reference.names]
        what = "; ".join(x for x in (f"missing {missing}" if missing else "", f"extra {extra}" if extra else "") if x)
        raise InputDataError(
            f"Input file {path} has different columns from the files before it ({what or 'another order'}). "
            f"Every file of an ExampleGen must have the columns {reference.names}."
        )
    if batch.schema == reference:
        return batch, reference
    arrays, fields = [], []
    for col, field, ref in zip(batch.columns, batch.schema, reference, strict=True):
        if field.type == ref.type:
            arrays.append(col)
            fields.append(ref)
        elif pa.types.is_null(field.type):
            arrays.append(pa.nulls(len(col), ref.type))
            fields.append(ref)
        elif pa.types.is_null(ref.type) or (pa.types.is_integer(ref.type) and pa.types.is_floating(field.type)):
            raise WidenColumnError(field.name, str(field.type) if pa.types.is_null(ref.type) else "float64")
        else:
            try:
                arrays.append(col.cast(ref.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise InputDataError(
                    f"Input file {path}: column '{field.name}' is {field.type} here but {ref.type} in the files "
                    f"before it. Make the types agree, or declare it: column_types={{'{field.name}': 'string'}}."
                ) from None
            fields.append(ref)
    schema = pa.schema(fields)
    return pa.RecordBatch.from_arrays(arrays, schema=schema), schema


class CsvExecutor(Executor):
    """Reads CSV files with a header line (pyarrow's streaming reader)."""

    def read_file(self, path: str, exec_properties: dict[str, Any], stats: ReadStats) -> Iterable[pa.RecordBatch]:
        import pyarrow as pa

        from headrace.components.example_gen.readers import read_csv

        types = {k: pa.type_for_alias(v) for k, v in (exec_properties.get("column_types") or {}).items()}
        return read_csv(
            path, types, exec_properties.get("invalid_rows", "error"), exec_properties.get("encoding"), stats
        )


class ImportExecutor(Executor):
    """Reads Parquet files and TFRecord files of tf.Example (gzip or not), told apart by content."""

    def read_file(self, path: str, exec_properties: dict[str, Any], stats: ReadStats) -> Iterable[pa.RecordBatch]:
        from headrace.components.example_gen.readers import file_kind, read_parquet, read_tf_examples

        if file_kind(path) == "parquet":
            return read_parquet(path, BATCH_ROWS)
        return _flatten_single_values(read_tf_examples(path, BATCH_ROWS))

    def default_payload(self, path: str) -> str:
        from headrace.components.example_gen.readers import file_kind
        from headrace.components.io.examples import FORMAT_TF_EXAMPLE

        return FORMAT_PARQUET if file_kind(path) == "parquet" else FORMAT_TF_EXAMPLE


def _flatten_single_values(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """tf.Example features come as lists; a feature with at most one value per row becomes a typed
    scalar column (as CSV gives them), an empty or missing list a null."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    for batch in batches:
        arrays = []
        for col in batch.columns:
            if not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type)):
                arrays.append(col)
                continue
            lengths = pc.list_value_length(col).fill_null(0).to_numpy(zero_copy_only=False)
            if len(lengths) and lengths.max() > 1:
                arrays.append(col)
                continue
            index = np.cumsum(lengths) - 1
            arrays.append(col.flatten().take(pa.array(index, mask=lengths == 0)))
        yield pa.RecordBatch.from_arrays(arrays, batch.schema.names)


__all__ = ["CsvExecutor", "Executor", "ImportExecutor", "record_output"]
