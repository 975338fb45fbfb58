"""`ComponentSpec`: the typed contract of a component (inputs, outputs, parameters)."""

from __future__ import annotations

import typing
from typing import Any, ClassVar

from headrace.errors import DefinitionError, did_you_mean
from headrace.types import json_types
from headrace.types.artifact import Artifact
from headrace.types.channel import Channel
from headrace.types.placeholder import Placeholder, check_parameter
from headrace.types.runtime import check_value_for

_JSON_TYPES = (int, float, str, bool, dict, list)


_builtin_type = type  # the parameters below are named `type`, as in TFX


class ChannelParameter:
    """Declares an input or output of a component.

    Args:
        type: The artifact class.
        optional: An input that may be left out.
    """

    def __init__(self, type: type[Artifact], optional: bool = False, json_type: Any = None):
        if not (isinstance(type, _builtin_type) and issubclass(type, Artifact)):
            raise DefinitionError(f"ChannelParameter type must be an Artifact subclass, got {type!r}.")
        self.type = type
        self.optional = optional
        self.json_type = json_type  # Dict[str, int] etc. for a function component's typed JSON value

    def __repr__(self) -> str:
        return f"ChannelParameter(type={self.type.__name__}, optional={self.optional})"


SECRET_KEY = "$secret_env"  # the IR form of a Secret: {"$secret_env": "<variable>"}


class Secret:
    """A str parameter's value given at run time by an environment variable, never stored: the IR,
    ML Metadata and compiled files hold only the variable's name; the executor receives its value.

    Any parameter declared `str` (`Parameter[str]` in a function component) takes one, e.g.
    `password=Secret("DB_PASSWORD")`; the variable must be set where the step runs. A step in an
    image gets the variable in its container's environment; a container command gets the value in
    its argv. Changing the value alone does not invalidate the cache.
    """

    def __init__(self, env: str):
        if not isinstance(env, str) or not env or "=" in env or "\0" in env:
            raise DefinitionError(f"Secret(env) needs the name of an environment variable, got {env!r}.")
        self.env = env

    def to_ir(self) -> dict[str, str]:
        """The IR form: the variable's name only."""
        return {SECRET_KEY: self.env}

    def __repr__(self) -> str:
        return f"Secret({self.env!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.env == self.env

    def __hash__(self) -> int:
        return hash(("Secret", self.env))


def is_secret_ir(value: Any) -> bool:
    """Whether an IR parameter value is a Secret's reference."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(SECRET_KEY), str)


class ExecutionParameter:
    """Declares an execution parameter (an `exec_properties` entry).

    Args:
        type: int, float, str, bool, dict or list (or typing forms such as Dict[str, int]).
        optional: A parameter that may be left out or None.
        fingerprint: The parameter names a file or folder whose content belongs to the cache key (a
            module file of user code, a folder of input data): when the node runs, the launcher
            fingerprints it (a Python file by its content and that of the `.py` files it imports from
            its folder; anything else by the names, sizes and times of its files), records that on the
            execution as `input_fingerprint`, and keys the cache on it, so an edited file re-runs the
            node. Only for str parameters.
    """

    def __init__(self, type: Any, optional: bool = False, fingerprint: bool = False):
        base = typing.get_origin(type) or type
        if base not in _JSON_TYPES:
            raise DefinitionError(
                f"ExecutionParameter type must be one of int, float, str, bool, dict, list; got {type!r}."
            )
        if fingerprint and base is not str:
            raise DefinitionError(
                f"ExecutionParameter(fingerprint=True) names a file or folder, so its type must be str; got {type!r}."
            )
        self.type = type
        self.base_type = base
        self.optional = optional
        self.fingerprint = fingerprint

    def check(self, owner: str, name: str, value: Any) -> Any:
        """Returns the value (ints accepted for floats) or raises a clear error. A RuntimeParameter of
        the parameter's type (or FinalStatusStr for a str) stands for a value the run gives; a placeholder
        reading an upstream output (`upstream.outputs['x'].future()[0].value`) for a value resolved when
        the node runs."""
        if isinstance(value, Placeholder):
            return check_parameter(owner, name, value, self.base_type, _type_name(self.type))
        if check_value_for(owner, name, value, self.base_type):
            return value
        if isinstance(value, Secret):
            if self.base_type is not str:
                raise DefinitionError(f"{owner}: parameter '{name}' is not a str, so it cannot take {value!r}.")
            return value
        ok = isinstance(value, self.base_type) and not (isinstance(value, bool) and self.base_type is not bool)
        if self.base_type is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not ok:
            raise DefinitionError(
                f"{owner}: parameter '{name}' expects {_type_name(self.type)}, got {value!r} ({type(value).__name__})."
            )
        return value

    def __repr__(self) -> str:
        extra = ", fingerprint=True" if self.fingerprint else ""
        return f"ExecutionParameter(type={_type_name(self.type)}, optional={self.optional}{extra})"


class ComponentSpec:
    """The typed contract of a component, checked when the component is constructed.

    Subclasses declare `PARAMETERS`, `INPUTS` and `OUTPUTS`; constructing a spec
    validates the given values eagerly.
    """

    PARAMETERS: ClassVar[dict[str, ExecutionParameter]] = {}
    INPUTS: ClassVar[dict[str, ChannelParameter]] = {}
    OUTPUTS: ClassVar[dict[str, ChannelParameter]] = {}

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        seen: dict[str, str] = {}
        for group in ("PARAMETERS", "INPUTS", "OUTPUTS"):
            expected = ExecutionParameter if group == "PARAMETERS" else ChannelParameter
            for key, decl in getattr(cls, group).items():
                if not isinstance(decl, expected):
                    raise DefinitionError(
                        f"{cls.__name__}.{group}['{key}'] must be {expected.__name__}(...), got {decl!r}."
                    )
                if key in seen:
                    raise DefinitionError(f"{cls.__name__}: '{key}' is declared in both {seen[key]} and {group}.")
                seen[key] = group

    def __init__(self, **kwargs: Any):
        name = type(self).__name__
        known = {**self.PARAMETERS, **self.INPUTS, **self.OUTPUTS}
        arguments = [*self.INPUTS, *self.PARAMETERS]  # what a user passes; outputs are made for them
        for key in kwargs:
            if key not in known:
                raise DefinitionError(
                    f"{name}: unknown argument '{key}'."
                    + (did_you_mean(key, arguments) or did_you_mean(key, self.OUTPUTS))
                    + f" Arguments: {', '.join(sorted(arguments)) or '(none)'}."
                )
        self.exec_properties: dict[str, Any] = {}
        for key, param in self.PARAMETERS.items():
            value = kwargs.get(key)
            if value is None:
                if not param.optional:
                    raise DefinitionError(
                        f"{name}: parameter '{key}' ({_type_name(param.type)}) is required; pass {key}=..."
                    )
                continue
            self.exec_properties[key] = param.check(name, key, value)
        self.inputs: dict[str, Channel] = {}
        for key, decl in self.INPUTS.items():
            value = kwargs.get(key)
            if value is None:
                if not decl.optional:
                    raise DefinitionError(
                        f"{name}: input '{key}' (a channel of {decl.type.TYPE_NAME}) is required; "
                        f"pass {key}=<component>.outputs['...']."
                    )
                continue
            self.inputs[key] = _check_channel(name, "input", key, decl, value)
        self.outputs: dict[str, Channel] = {}
        for key, decl in self.OUTPUTS.items():
            value = kwargs.get(key)
            self.outputs[key] = (
                Channel(type=decl.type) if value is None else _check_channel(name, "output", key, decl, value)
            )
            if decl.json_type is not None:
                self.outputs[key].json_type = decl.json_type


def _check_channel(owner: str, kind: str, key: str, decl: ChannelParameter, value: Any) -> Channel:
    if not isinstance(value, Channel):
        hint = ""
        if hasattr(value, "outputs") and isinstance(getattr(value, "outputs", None), dict):
            keys = list(value.outputs)
            hint = f" Pass one of its outputs, e.g. {key}=<component>.outputs['{keys[0]}']." if keys else ""
        raise DefinitionError(
            f"{owner}: {kind} '{key}' must be a Channel of {decl.type.TYPE_NAME}, got {type(value).__name__}.{hint}"
        )
    if not issubclass(value.type, decl.type):
        raise DefinitionError(
            f"{owner}: {kind} '{key}' expects a channel of {decl.type.TYPE_NAME}, but got a channel of "
            f"{value.type_name} ({value!r}). Connect an output of type {decl.type.TYPE_NAME}."
        )
    produced = getattr(value, "json_type", None)
    if kind == "input" and decl.json_type is not None and produced is not None:
        if not json_types.type_compatible(produced, decl.json_type):
            raise WiringTypeError(
                f"{owner}: input '{key}' expects {json_types.type_name(decl.json_type)}, but {value!r} carries "
                f"{json_types.type_name(produced)}. Make the producer's output type match, or widen the input "
                "(e.g. List[Any])."
            )
    return value


class WiringTypeError(DefinitionError, TypeError):
    """A channel's value type does not fit the input it is wired to (a TypeError, as in TFX)."""


def _type_name(t: Any) -> str:
    return t.__name__ if isinstance(t, _builtin_type) else str(t).replace("typing.", "")
