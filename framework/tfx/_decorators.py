"""TFX's `@component` keyword forms over headrace's `@component`, and the functional-component types."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, Protocol

from headrace.dsl import BaseComponent
from headrace.dsl import component as _component
from headrace.errors import DefinitionError


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
        use_beam: Not supported yet (Beam-based function components come with headrace's Beam support).

    Returns:
        The component class (or, in the called form, a decorator that makes it). Its
        `test_call` is the decorated function, as in TFX.
    """
    if use_beam:
        raise DefinitionError(
            "@component(use_beam=True) comes with headrace's Beam support (not in this version yet); "
            "drop use_beam and the BeamComponentParameter argument to run the function without Beam."
        )

    def make(f: Callable[..., Any]) -> Any:
        cls = _component(f)
        cls.test_call = staticmethod(f)
        return cls

    return make if func is None else make(func)


__all__ = ["BaseFunctionalComponent", "BaseFunctionalComponentFactory", "component"]
