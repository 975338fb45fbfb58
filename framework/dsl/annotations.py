"""Annotations for `@component` functions: InputArtifact, OutputArtifact, Parameter, BeamPipeline, OutputDict."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from headrace.errors import DefinitionError
from headrace.types.artifact import Artifact


class _ArtifactAnnotation:
    def __init__(self, kind: str, artifact_type: type[Artifact]):
        if not (inspect.isclass(artifact_type) and issubclass(artifact_type, Artifact)):
            raise DefinitionError(
                f"{kind}[...] needs an artifact class such as standard_artifacts.Examples, got {artifact_type!r}."
            )
        self.kind = kind
        self.type = artifact_type

    def __repr__(self) -> str:
        return f"{self.kind}[{self.type.__name__}]"


class InputArtifact:
    """`InputArtifact[Examples]`: the argument receives the input artifact."""

    def __class_getitem__(cls, artifact_type: type[Artifact]) -> _ArtifactAnnotation:
        return _ArtifactAnnotation("InputArtifact", artifact_type)


class OutputArtifact:
    """`OutputArtifact[Model]`: the argument receives the output artifact to fill."""

    def __class_getitem__(cls, artifact_type: type[Artifact]) -> _ArtifactAnnotation:
        return _ArtifactAnnotation("OutputArtifact", artifact_type)


class _ParameterAnnotation:
    def __init__(self, value_type: Any):
        self.type = value_type

    def __repr__(self) -> str:
        return f"Parameter[{getattr(self.type, '__name__', self.type)}]"


class Parameter:
    """`Parameter[int]`: an execution parameter, fixed when the pipeline is defined."""

    def __class_getitem__(cls, value_type: Any) -> _ParameterAnnotation:
        return _ParameterAnnotation(value_type)


class BeamPipeline:
    """`pipeline: BeamPipeline = None`: the argument receives an Apache Beam pipeline (a `beam.Pipeline`)::

        @component
        def CountWords(text: InputArtifact[Dataset], counts: OutputArtifact[Dataset], pipeline: BeamPipeline = None):
            import apache_beam as beam

            with pipeline as p:
                p | beam.io.ReadFromText(text.uri + "/*") | ... | beam.io.WriteToText(counts.uri + "/part")

    The pipeline is built when the step runs, from the pipeline's `beam_pipeline_args` followed by the
    node's own (`component.with_beam_pipeline_args([...])`): later flags win, and they pick the runner
    (the DirectRunner when none is named; `--runner=DaskRunner` with `--dask_client_address`). It runs
    when the `with` block ends; an error inside the block fails the step. A function has at most one such
    argument, and it may only default to None. Beam is imported when the step runs, not when the
    function is decorated.
    """

    annotation_text: ClassVar[str] = "BeamPipeline"  # how errors spell the annotation


class _OutputDictAnnotation:
    def __init__(self, fields: dict[str, Any]):
        self.fields = fields

    def __repr__(self) -> str:
        return "OutputDict(" + ", ".join(f"{k}={getattr(v, '__name__', v)}" for k, v in self.fields.items()) + ")"


def OutputDict(**fields: Any) -> _OutputDictAnnotation:
    """The return annotation of a function component returning value artifacts::

    def f(...) -> OutputDict(accuracy=float, label=str): ...
    """
    return _OutputDictAnnotation(fields)
