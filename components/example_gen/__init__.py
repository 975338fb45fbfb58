"""ExampleGen: files (CSV, Parquet, TFRecords, your own reader) into Examples, in process or on Beam.

Modules: `component` (the spec and the components), `executor` (the in-process executors), `beam` (the Beam executor and
`BaseExampleGenExecutor` for your own Beam reader), `config` (input/output configs, spans and versions),
`readers` (the file readers), `utils` (TFX's example_gen utils)."""

from __future__ import annotations

from headrace.components.example_gen.beam import BaseExampleGenExecutor
from headrace.components.example_gen.component import CsvExampleGen, FileBasedExampleGen, ImportExampleGen
from headrace.components.example_gen.executor import CsvExecutor, Executor, ImportExecutor

__all__ = [
    "BaseExampleGenExecutor",
    "CsvExampleGen",
    "CsvExecutor",
    "Executor",
    "FileBasedExampleGen",
    "ImportExampleGen",
    "ImportExecutor",
]
