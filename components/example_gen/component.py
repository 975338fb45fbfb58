"""ExampleGen: files in, an `Examples` artifact out, with deterministic splits in `Split-<name>/`.

CsvExampleGen reads CSV files, ImportExampleGen Parquet files and TFRecords of tf.Example, and
FileBasedExampleGen any file through a reader function of the user (a file path in, Arrow record
batches out) or, TFX's way, a Beam executor (see `headrace.components.example_gen.beam`).
Everything streams: a file is read a block at a time, each block is hashed into its split and
appended to that split's file, so memory does not grow with the data.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from headrace.components.example_gen import config as cfg
from headrace.components.example_gen.executor import CsvExecutor, Executor, ImportExecutor
from headrace.components.io.examples import FORMAT_PARQUET
from headrace.components.proto import as_dict
from headrace.dsl.base_component import BaseComponent
from headrace.dsl.executor import ExecutorClassSpec, ExecutorSpec
from headrace.errors import DefinitionError
from headrace.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from headrace.types.standard_artifacts import Examples

if TYPE_CHECKING:
    pass

INVALID_ROW_POLICIES = ("error", "skip")


class ExampleGenSpec(ComponentSpec):
    """ExampleGen's contract (TFX's parameter names, plus headrace's reading options)."""

    PARAMETERS = {
        "input_base": ExecutionParameter(type=str, fingerprint=True),
        "input_config": ExecutionParameter(type=dict),
        "output_config": ExecutionParameter(type=dict),
        "range_config": ExecutionParameter(type=dict, optional=True),
        "custom_config": ExecutionParameter(type=dict, optional=True),
        "output_data_format": ExecutionParameter(type=str, optional=True),
        "invalid_rows": ExecutionParameter(type=str),
        "column_types": ExecutionParameter(type=dict, optional=True),
        "encoding": ExecutionParameter(type=str, optional=True),
        "reader": ExecutionParameter(type=dict, optional=True),
    }
    OUTPUTS = {"examples": ChannelParameter(type=Examples)}


class FileBasedExampleGen(BaseComponent):
    """An ExampleGen reading files of `input_base` with the user's code.

    Args:
        input_base: The folder holding the input files.
        input_config: Which files make which input split (TFX's `example_gen_pb2.Input` or its dict);
            patterns are globs relative to input_base and may hold {SPAN} / {VERSION}.
            Default: every file, one split.
        output_config: How to split (TFX's `example_gen_pb2.Output`): named splits with hash-bucket
            shares, optionally hashing one column (`partition_feature_name`). Default train:eval 2:1.
        range_config: Which span to read (a static range of one span, or the latest).
        output_data_format: FORMAT_PARQUET (the default) or FORMAT_TF_EXAMPLE (gzip TFRecords).
        reader: A function `(path) -> RecordBatch | Table | iterable of them`: the Arrow hook.
        custom_executor_spec: TFX's form: `BeamExecutorSpec(MyExecutor)` with MyExecutor a
            BaseExampleGenExecutor overriding GetInputSourceToExamplePTransform.
        invalid_rows: 'error' (the default) stops at the first malformed row with its file and line;
            'skip' skips and counts them (the count is on the artifact, samples in the log).
        column_types: Column name -> Arrow type name ('int64', 'float64', 'string', ...) to read a
            column as, instead of inferring it.
        encoding: The text encoding of CSV files (default UTF-8).
    """

    SPEC_CLASS = ExampleGenSpec
    EXECUTOR_SPEC: ExecutorSpec = ExecutorClassSpec(Executor)
    _auto_payload = False

    def __init__(
        self,
        input_base: str | os.PathLike[str],
        input_config: Any = None,
        output_config: Any = None,
        custom_config: Any = None,
        range_config: Any = None,
        output_data_format: Any = None,
        output_file_format: Any = None,
        custom_executor_spec: ExecutorSpec | None = None,
        reader: Callable[[str], Any] | None = None,
        invalid_rows: str = "error",
        column_types: dict[str, str] | None = None,
        encoding: str | None = None,
    ):
        owner = type(self).__name__
        if not isinstance(input_base, (str, os.PathLike)) or not str(input_base):
            raise DefinitionError(f"{owner}: input_base must be a folder path, got {input_base!r}.")
        base = os.path.abspath(os.fspath(input_base))
        inputs = cfg.check_input_config(owner, as_dict(owner, "input_config", input_config) or cfg.DEFAULT_INPUT)
        outputs = cfg.check_output_config(owner, as_dict(owner, "output_config", output_config) or {}, inputs)
        if invalid_rows not in INVALID_ROW_POLICIES:
            raise DefinitionError(f"{owner}: invalid_rows must be 'error' or 'skip', got {invalid_rows!r}.")
        if output_file_format not in (None, 0, 5, 16):
            raise DefinitionError(f"{owner}: output_file_format {output_file_format!r} is not supported.")
        if column_types is not None:
            _check_column_types(owner, column_types)
        if encoding is not None:
            import codecs

            try:
                codecs.lookup(encoding)
            except LookupError:
                raise DefinitionError(f"{owner}: unknown encoding {encoding!r} (e.g. 'utf-8', 'latin-1').") from None
        shipped = None
        if reader is not None:
            if not callable(reader):
                raise DefinitionError(f"{owner}: reader must be a function of a file path, got {reader!r}.")
            from headrace.dsl.user_code import ship

            shipped = ship(reader, f"{owner} reader {getattr(reader, '__name__', '')}", None)
        if custom_executor_spec is not None:
            if not isinstance(custom_executor_spec, ExecutorSpec):
                raise DefinitionError(
                    f"{owner}: custom_executor_spec must be an executor spec, e.g. BeamExecutorSpec(MyExecutor)."
                )
            self.EXECUTOR_SPEC = custom_executor_spec
        super().__init__(
            spec=ExampleGenSpec(
                input_base=base,
                input_config=inputs,
                output_config=outputs,
                range_config=cfg.check_range_config(owner, as_dict(owner, "range_config", range_config)),
                custom_config=as_dict(owner, "custom_config", custom_config),
                # None: the executor's default (TFX's tf.Example for a Beam executor, the input's
                # format for ImportExampleGen, Parquet otherwise).
                output_data_format=cfg.payload_name(owner, output_data_format)
                if output_data_format is not None
                else (None if self._auto_payload or custom_executor_spec is not None else FORMAT_PARQUET),
                invalid_rows=invalid_rows,
                column_types=column_types,
                encoding=encoding,
                reader=shipped,
            )
        )


def _check_column_types(owner: str, column_types: dict[str, str]) -> None:
    import importlib.util

    if not isinstance(column_types, dict):
        raise DefinitionError(f"{owner}: column_types must be a dict of column name -> type name.")
    if importlib.util.find_spec("pyarrow") is None:
        return
    import pyarrow as pa

    for name, alias in column_types.items():
        try:
            pa.type_for_alias(alias)
        except (ValueError, TypeError):
            raise DefinitionError(
                f"{owner}: column_types['{name}'] = {alias!r} is not a type name; use 'int64', 'float64', 'string', "
                "'bool' ..."
            ) from None


class CsvExampleGen(FileBasedExampleGen):
    """Reads CSV files (a header line, then rows) from `input_base`; see FileBasedExampleGen."""

    EXECUTOR_SPEC = ExecutorClassSpec(CsvExecutor)


class ImportExampleGen(FileBasedExampleGen):
    """Imports Parquet files and TFRecord files of tf.Example from `input_base`. The output keeps
    the input's format unless output_data_format says otherwise; see FileBasedExampleGen."""

    EXECUTOR_SPEC = ExecutorClassSpec(ImportExecutor)
    _auto_payload = True
