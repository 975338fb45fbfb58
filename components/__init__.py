"""Standard components. Importing this package imports no TensorFlow, TFDV, Beam or pyarrow:
each executor imports what it needs when it runs."""

from headrace.components.bulk_inferrer import BulkInferrer
from headrace.components.data_accessor import DataAccessor, FnArgs
from headrace.components.distribution_validator import DataDriftError, DistributionValidator
from headrace.components.evaluator import Evaluator
from headrace.components.example_gen import CsvExampleGen, FileBasedExampleGen, ImportExampleGen
from headrace.components.example_gen_beam import BaseExampleGenExecutor
from headrace.components.example_validator import DataValidationError, ExampleValidator
from headrace.components.infra_validator import InfraValidator
from headrace.components.pusher import Pusher
from headrace.components.schema_gen import ImportSchemaGen, SchemaGen
from headrace.components.statistics_gen import StatisticsGen
from headrace.components.trainer import Trainer

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
