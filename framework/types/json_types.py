"""Typed JSON values for function components: `Dict[str, List[int]]` and the like.

A function component's `Dict`/`List` inputs and outputs travel as JsonValue artifacts. Their
element types are checked when a channel is wired (an output of `List[int]` into an input of
`List[float]` is a TypeError, as in TFX) and when a value is returned (exact types: `True` is
not an int, `1` is not a float).
"""

from __future__ import annotations

import types
import typing
from typing import Any

_SCALARS = (int, float, str, bool, type(None))


def is_json_type(hint: Any) -> bool:
    """Whether `hint` is a parameterized JSON type: Dict[str, X] or List[X] (optionally Optional),
    X being int, float, str, bool, None, Any or another such Dict/List (or a Union of them)."""
    return _is_container(_strip_optional(hint))


def _strip_optional(hint: Any) -> Any:
    if _is_union(hint):
        arms = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(arms) == 1:
            return arms[0]
    return hint


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _is_container(hint: Any) -> bool:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is dict:
        return len(args) == 2 and args[0] is str and _is_element(args[1])
    if origin is list:
        return len(args) == 1 and _is_element(args[0])
    return False


def _is_element(hint: Any) -> bool:
    if hint is Any or hint in _SCALARS:
        return True
    if _is_union(hint):
        return all(_is_element(a) for a in typing.get_args(hint))
    return _is_container(hint)


def type_compatible(produced: Any, expected: Any) -> bool:
    """Whether values of type `produced` are always acceptable where `expected` is declared."""
    if expected is Any:
        return True
    if produced is Any:
        return False
    if _is_union(produced):
        return all(type_compatible(a, expected) for a in typing.get_args(produced))
    if _is_union(expected):
        return any(type_compatible(produced, a) for a in typing.get_args(expected))
    p_origin, e_origin = typing.get_origin(produced), typing.get_origin(expected)
    if p_origin is None or e_origin is None:
        return produced is expected
    if p_origin is not e_origin:
        return False
    return all(type_compatible(p, e) for p, e in zip(typing.get_args(produced), typing.get_args(expected), strict=True))


def value_matches(value: Any, hint: Any) -> bool:
    """Whether `value` is an instance of the JSON type `hint` (exact element types)."""
    if hint is Any:
        return True
    if _is_union(hint):
        return any(value_matches(value, a) for a in typing.get_args(hint))
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is dict:
        return isinstance(value, dict) and all(type(k) is str and value_matches(v, args[1]) for k, v in value.items())
    if origin is list:
        return isinstance(value, list) and all(value_matches(v, args[0]) for v in value)
    return type(value) is hint


def type_name(hint: Any) -> str:
    """A readable name: Dict[str, List[int]]."""
    return str(hint).replace("typing.", "")
