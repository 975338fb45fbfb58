"""TFX's bases of Beam components and executors: `BaseBeamComponent` (over headrace's BaseComponent, whose
`with_beam_pipeline_args` it uses) and `BaseBeamExecutor` (`self._make_beam_pipeline()` from the
context's Beam arguments: the pipeline's, then the component's)."""

from __future__ import annotations

import abc
from typing import Any

from headrace import beam_runners
from headrace.dsl import BaseComponent, BaseExecutor
from headrace.dsl.executor import beam_capable
from headrace.errors import DefinitionError


class BaseBeamComponent(BaseComponent, metaclass=abc.ABCMeta):
    """TFX's base of Beam components: `isinstance(node, BaseBeamComponent)` is True for a node whose
    executor builds Beam pipelines (a `BeamExecutorSpec`, or `@component(use_beam=True)`); a subclass must
    have such an executor spec. `with_beam_pipeline_args` is headrace's BaseComponent's."""

    @classmethod
    def __subclasshook__(cls, other: type) -> bool:
        return issubclass(other, BaseComponent) and beam_capable(getattr(other, "EXECUTOR_SPEC", None))

    def __init__(self, spec: Any):
        if not beam_capable(getattr(self, "EXECUTOR_SPEC", None)):
            raise DefinitionError(
                f"{type(self).__name__} is a BaseBeamComponent, so its EXECUTOR_SPEC must be a BeamExecutorSpec, "
                f"got {type(getattr(self, 'EXECUTOR_SPEC', None)).__name__}."
            )
        super().__init__(spec)


class BaseBeamExecutor(BaseExecutor):
    """TFX's base of executors that build Beam pipelines: `self._make_beam_pipeline()` gives a pipeline for
    `self._beam_pipeline_args` (the pipeline's `beam_pipeline_args`, then the component's: later flags win).
    Run it with a `BeamExecutorSpec`."""

    @property
    def _beam_pipeline_args(self) -> list[str]:
        return list(self.context.beam_pipeline_args)

    def _make_beam_pipeline(self) -> Any:
        """A `beam.Pipeline` for this executor's Beam arguments (run it with `with ... as p:`)."""
        return beam_runners.make_pipeline(self._beam_pipeline_args, f"{type(self).__name__}._make_beam_pipeline")


__all__ = ["BaseBeamComponent", "BaseBeamExecutor"]
