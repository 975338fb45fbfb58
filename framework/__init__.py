"""headrace: TFX's mental model, a fraction of the weight.

The names a pipeline author needs are here; `headrace.types.standard_artifacts`,
`headrace.metadata`, `headrace.compiler` and `headrace.orchestrators` hold the rest.
Importing headrace never imports TensorFlow, Beam, TFDV, kfp, Airflow or docker.
"""

from headrace.dsl import (
    BaseComponent,
    BaseExecutor,
    ExecutorClassSpec,
    Importer,
    InputArtifact,
    LatestArtifactStrategy,
    LatestBlessedModelStrategy,
    OutputArtifact,
    OutputDict,
    Parameter,
    Pipeline,
    Resolver,
    component,
)
from headrace.errors import DefinitionError, ExecutorError, HeadraceError
from headrace.types import Artifact, Channel, ChannelParameter, ComponentSpec, ExecutionParameter, standard_artifacts
from headrace.version import __version__

__all__ = [
    "Artifact",
    "BaseComponent",
    "BaseExecutor",
    "Channel",
    "ChannelParameter",
    "ComponentSpec",
    "DefinitionError",
    "ExecutionParameter",
    "ExecutorClassSpec",
    "ExecutorError",
    "HeadraceError",
    "Importer",
    "InputArtifact",
    "LatestArtifactStrategy",
    "LatestBlessedModelStrategy",
    "OutputArtifact",
    "OutputDict",
    "Parameter",
    "Pipeline",
    "Resolver",
    "__version__",
    "component",
    "standard_artifacts",
]
