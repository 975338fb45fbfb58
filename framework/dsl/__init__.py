"""The authoring API: components, pipelines, system nodes."""

from headrace.dsl import placeholders
from headrace.dsl.annotations import BeamPipeline, InputArtifact, OutputArtifact, OutputDict, Parameter
from headrace.dsl.base_component import BaseComponent
from headrace.dsl.cond import Cond
from headrace.dsl.container_component import create_container_component
from headrace.dsl.executor import BaseExecutor, BeamExecutorSpec, ExecutorClassSpec
from headrace.dsl.function_component import component
from headrace.dsl.pipeline import Pipeline
from headrace.dsl.system_nodes import (
    Importer,
    LatestArtifactStrategy,
    LatestBlessedModelStrategy,
    ModelAliasStrategy,
    Resolver,
    SpanRangeStrategy,
)
from headrace.types.component_spec import Secret
from headrace.types.runtime import FinalStatusStr, RuntimeParameter

__all__ = [
    "BaseComponent",
    "BaseExecutor",
    "BeamExecutorSpec",
    "BeamPipeline",
    "Cond",
    "ExecutorClassSpec",
    "FinalStatusStr",
    "Importer",
    "InputArtifact",
    "LatestArtifactStrategy",
    "LatestBlessedModelStrategy",
    "ModelAliasStrategy",
    "OutputArtifact",
    "OutputDict",
    "Parameter",
    "Pipeline",
    "Resolver",
    "RuntimeParameter",
    "Secret",
    "SpanRangeStrategy",
    "component",
    "create_container_component",
    "placeholders",
]
