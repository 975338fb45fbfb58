"""Standard components, grouped by capability in subpackages (example_gen, statistics, validation,
training, evaluation, serving) over shared ones (io, reports, proto, common). Importing this package
imports no TensorFlow, TFDV, Beam or pyarrow: each executor imports what it needs when it runs."""

from headrace.components.evaluation import Evaluator
from headrace.components.example_gen import BaseExampleGenExecutor, CsvExampleGen, FileBasedExampleGen, ImportExampleGen
from headrace.components.serving import BulkInferrer, InfraValidator, Pusher
from headrace.components.statistics import StatisticsGen
from headrace.components.training import DataAccessor, FnArgs, Trainer
from headrace.components.validation import (
    DataDriftError,
    DataValidationError,
    DistributionValidator,
    ExampleValidator,
    ImportSchemaGen,
    SchemaGen,
)

__all__ = [
    "BaseExampleGenExecutor",
    "BulkInferrer",
    "CsvExampleGen",
    "DataAccessor",
    "DataDriftError",
    "DataValidationError",
    "DistributionValidator",
    "Evaluator",
    "ExampleValidator",
    "FileBasedExampleGen",
    "FnArgs",
    "ImportExampleGen",
    "ImportSchemaGen",
    "InfraValidator",
    "Pusher",
    "SchemaGen",
    "StatisticsGen",
    "Trainer",
]
