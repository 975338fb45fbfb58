"""headrace: TFX's mental model, a fraction of the weight.

The names a pipeline author needs are here; `headrace.types.standard_artifacts`,
`headrace.metadata`, `headrace.compiler` and `headrace.orchestrators` hold the rest.
Importing headrace never imports TensorFlow, Beam, TFDV, kfp, Airflow or docker.
"""

from headrace.dsl import (
    BaseComponent,
    BaseExecutor,
    BeamExecutorSpec,
    BeamPipeline,
    Cond,
    ExecutorClassSpec,
    FinalStatusStr,
    Importer,
    InputArtifact,
    LatestArtifactStrategy,
    LatestBlessedModelStrategy,
    ModelAliasStrategy,
    OutputArtifact,
    OutputDict,
    Parameter,
    Pipeline,
    Resolver,
    RuntimeParameter,
    Secret,
    SpanRangeStrategy,
    component,
    create_container_component,
    placeholders,
)
from headrace.errors import DefinitionError, ExecutorError, HeadraceError, PipelineRunError
from headrace.types import Artifact, Channel, ChannelParameter, ComponentSpec, ExecutionParameter, standard_artifacts
from headrace.version import __version__

# Runners live in headrace.orchestrators (which builds on the framework, not the other way round);
# they are offered here too, loaded on first use, so `from headrace import LocalDagRunner` works.
_ORCHESTRATORS = ("LocalDagRunner", "InteractiveContext")


def __getattr__(name: str) -> object:
    if name in _ORCHESTRATORS:
        import importlib

        return getattr(importlib.import_module("headrace.orchestrators"), name)
    raise AttributeError(f"module 'headrace' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted({*globals(), *_ORCHESTRATORS})


__all__ = [
    "Artifact",
    "BaseComponent",
    "BaseExecutor",
    "BeamExecutorSpec",
    "BeamPipeline",
    "Channel",
    "ChannelParameter",
    "ComponentSpec",
    "Cond",
    "DefinitionError",
    "ExecutionParameter",
    "ExecutorClassSpec",
    "ExecutorError",
    "FinalStatusStr",
    "HeadraceError",
    "Importer",
    "InputArtifact",
    "InteractiveContext",
    "LatestArtifactStrategy",
    "LatestBlessedModelStrategy",
    "LocalDagRunner",
    "ModelAliasStrategy",
    "OutputArtifact",
    "OutputDict",
    "Parameter",
    "Pipeline",
    "PipelineRunError",
    "Resolver",
    "RuntimeParameter",
    "Secret",
    "SpanRangeStrategy",
    "__version__",
    "component",
    "create_container_component",
    "placeholders",
    "standard_artifacts",
]
