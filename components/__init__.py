"""Standard components. Importing this package imports no TensorFlow, TFDV, Beam or pyarrow:
each executor imports what it needs when it runs."""

from headrace.components.example_gen import CsvExampleGen, FileBasedExampleGen, ImportExampleGen
from headrace.components.example_validator import DataValidationError, ExampleValidator
from headrace.components.schema_gen import ImportSchemaGen, SchemaGen
from headrace.components.statistics_gen import StatisticsGen

__all__ = [
    "CsvExampleGen",
    "DataValidationError",
    "ExampleValidator",
    "FileBasedExampleGen",
    "ImportExampleGen",
    "ImportSchemaGen",
    "SchemaGen",
    "StatisticsGen",
]
