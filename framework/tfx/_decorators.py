"""TFX's `@component` keyword forms over headrace's `@component`, the functional-component types, and
TFX's Beam annotation `BeamComponentParameter[beam.Pipeline]` (headrace's BeamPipeline)."""

from __future__ import annotations

import abc
import inspect
import sys
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from headrace.dsl import BaseComponent, BeamPipeline
from headrace.dsl import component as _component
from headrace.dsl.function_component import arg_kinds
from headrace.errors import DefinitionError

_BEAM_ARG = "beam_pipeline: BeamComponentParameter[beam.Pipeline] = None"


class _TfxBeamPipeline(BeamPipeline):
    """headrace's BeamPipeline, spelled as TFX code spells it (for error messages)."""

    annotation_text: ClassVar[str] = "BeamComponentParameter[beam.Pipeline]"


class BeamComponentParameter:
    """TFX's `BeamComponentParameter[beam.Pipeline]`: the argument receives the Beam pipeline (headrace's
    :class:`~headrace.dsl.BeamPipeline`), in a function decorated `@component(use_beam=True)`."""

    def __init__(self, *args: Any, **kwargs: Any):
        raise DefinitionError(
            f"BeamComponentParameter is an annotation, not a value: write `{_BEAM_ARG}` in the function's arguments."
        )

    def __class_getitem__(cls, pipeline_type: Any) -> type[BeamPipeline]:
        beam = sys.modules.get("apache_beam")  # given beam.Pipeline, the caller has imported Beam already
        if beam is None or not (inspect.isclass(pipeline_type) and issubclass(pipeline_type, beam.Pipeline)):
            raise DefinitionError(
                f"BeamComponentParameter[T] takes T = beam.Pipeline (after `import apache_beam as beam`), got "
                f"{pipeline_type!r}; write `{_BEAM_ARG}`."
            )
        return _TfxBeamPipeline


class BaseFunctionalComponent(BaseComponent, metaclass=abc.ABCMeta):
    """What `@component` makes: `isinstance(node, BaseFunctionalComponent)` is True for a
    function component's instances (any headrace component class with a `FUNCTION`)."""

    @classmethod
    def __subclasshook__(cls, other: type) -> bool:
        return issubclass(other, BaseComponent) and callable(getattr(other, "FUNCTION", None))


class BaseFunctionalComponentFactory(Protocol):
    """The type of what `@component` returns: call it with keyword arguments to make a node."""

    def __call__(self, *args: Any, **kwargs: Any) -> BaseFunctionalComponent: ...

    test_call: Callable[..., Any]


def component(
    func: Callable[..., Any] | None = None,
    /,
    *,
    component_annotation: Any = None,
    use_beam: bool = False,
) -> Any:
    """TFX's `@component` (bare or called), delegating to headrace's `@component`.

    Args:
        func: The function (bare decorator form).
        component_annotation: TFX's system-execution annotation (Train, Transform, ...); accepted
            and ignored: headrace records no execution annotation.
        use_beam: The function has one argument `beam_pipeline: BeamComponentParameter[beam.Pipeline] = None`,
            which receives a Beam pipeline built from the pipeline's `beam_pipeline_args` (and the node's
            own, `with_beam_pipeline_args`), as in TFX.

    Returns:
        The component class (or, in the called form, a decorator that makes it). Its
        `test_call` is the decorated function, as in TFX.
    """

    def make(f: Callable[..., Any]) -> Any:
        _check_use_beam(f, use_beam)
        cls = _component(f)
        cls.test_call = staticmethod(f)
        return cls

    return make if func is None else make(func)


def _check_use_beam(f: Callable[..., Any], use_beam: bool) -> None:
    """TFX's rule: use_beam=True and a BeamComponentParameter argument go together."""
    if not callable(f) or not hasattr(f, "__code__"):
        return  # headrace's @component says what is wrong with it
    beam_arg = arg_kinds(f).beam_arg
    if use_beam and beam_arg is None:
        raise DefinitionError(
            f"@component(use_beam=True) {f.__name__}: The decorated function must have one and only one optional "
            "parameter of type BeamComponentParameter[beam.Pipeline] with default value None when use_beam=True. "
            f"Add `{_BEAM_ARG}` to its arguments (it receives the Beam pipeline), or drop use_beam=True."
        )
    if beam_arg is not None and not use_beam:
        raise DefinitionError(
            f"@component {f.__name__}: argument '{beam_arg}' receives a Beam pipeline only in a Beam component; "
            "decorate the function with @component(use_beam=True)."
        )


__all__ = [
    "BaseFunctionalComponent",
    "BaseFunctionalComponentFactory",
    "BeamComponentParameter",
    "component",
]
