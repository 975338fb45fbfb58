"""TFX's file-based ExampleGens write TFX's payload: gzip TFRecords of tf.Example.

headrace's own CsvExampleGen writes Parquet by default (columnar, typed, much faster to read). Code
ported from TFX may read the files itself (`tf.data.TFRecordDataset(..., compression_type='GZIP')`
on `Split-train/*`), so under `headrace.tfx` the default is TFX's. Everything else is headrace's
component; `output_data_format=example_gen_pb2.FORMAT_PARQUET` asks for Parquet.
"""

from __future__ import annotations

from typing import Any

from headrace import components as _components

FORMAT_TF_EXAMPLE = 6  # example_gen_pb2.FORMAT_TF_EXAMPLE


class CsvExampleGen(_components.CsvExampleGen):
    """headrace's CsvExampleGen writing TFX's tf.Example TFRecords unless told otherwise."""

    def __init__(self, *args: Any, output_data_format: Any = FORMAT_TF_EXAMPLE, **kwargs: Any):
        super().__init__(*args, output_data_format=output_data_format, **kwargs)


class FileBasedExampleGen(_components.FileBasedExampleGen):
    """headrace's FileBasedExampleGen writing TFX's tf.Example TFRecords unless told otherwise."""

    def __init__(self, *args: Any, output_data_format: Any = FORMAT_TF_EXAMPLE, **kwargs: Any):
        super().__init__(*args, output_data_format=output_data_format, **kwargs)


__all__ = ["CsvExampleGen", "FileBasedExampleGen"]
