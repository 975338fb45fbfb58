"""Schemas and validation: SchemaGen, ImportSchemaGen, ExampleValidator, DistributionValidator (drift)."""

from __future__ import annotations

from headrace.components.validation.distribution_validator import DataDriftError, DistributionValidator
from headrace.components.validation.example_validator import DataValidationError, ExampleValidator
from headrace.components.validation.schema_gen import ImportSchemaGen, SchemaGen

__all__ = [
    "DataDriftError",
    "DataValidationError",
    "DistributionValidator",
    "ExampleValidator",
    "ImportSchemaGen",
    "SchemaGen",
]
