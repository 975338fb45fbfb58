"""Placeholders: values known only when a node runs. One expression model serves conditions, parameters
and container command lines.

- A channel future, `channel.future()[0].value` (`headrace.types.channel.ChannelFuture`), reads an
  upstream output of the same run: `.value` (value artifacts), `.uri`, `.property(k)`, `.custom_property(k)`.
- Futures joined with strings by `+` (`"gs://" + ch.future()[0].value`) and `.b64encode()` make a text
  expression (:class:`TextExpression`).
- A comparison of a future with a constant is a `Predicate` (`headrace.types.channel.Predicate`);
  predicates combine with `&`, `|`, `~`, or `logical_and`, `logical_or`, `logical_not`. `Cond` takes one.
- A parameter given a future or a text expression is a *dynamic parameter*: the launcher resolves it from
  the upstream output when the node runs, and the node's cache key holds the resolved value.
- The command-line placeholders of container components (`headrace.dsl.placeholders`: `exec_property`,
  `input`, `output` ...) are placeholders too.

Every placeholder is plain data; `to_ir()` is its IR form, and none has a truth value, an iteration or
a string formatting when the pipeline is defined (each raises, saying what to write instead).

Their IR, and how it is evaluated when a node runs: `headrace.types.placeholder_ir`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from headrace.errors import DefinitionError
from headrace.types.placeholder_ir import PLACEHOLDER_KEY, RUN_KEYS, expression_text

if TYPE_CHECKING:
    from headrace.types.channel import ChannelFuture

ANY = object  # the value type of an expression whose type is known only at run time


class Placeholder:
    """Base class of every value known only when a node runs (TFX's `Placeholder`).

    `isinstance(x, Placeholder)` holds for channel futures, predicates, text expressions and the
    command-line placeholders of container components.
    """

    def to_ir(self) -> dict[str, Any]:
        """The placeholder as IR (see the module docstring)."""
        raise NotImplementedError

    def encode(self) -> dict[str, Any]:
        """The placeholder's encoded form: its IR (TFX's `Placeholder.encode()` gives its proto)."""
        return self.to_ir()

    def futures(self) -> list[ChannelFuture]:
        """The channel futures this placeholder reads (their producers must run first)."""
        return []

    def __deepcopy__(self, memo: dict[int, Any]) -> Placeholder:
        return self  # immutable, and a copy must keep pointing at the same channels (as TFX's do)

    def __add__(self, other: Any) -> Placeholder:
        return TextExpression.concat(self, other)

    def __radd__(self, other: Any) -> Placeholder:
        return TextExpression.concat(other, self)

    def b64encode(self, url_safe: bool = True) -> TextExpression:
        """The value as Base64 text (URL-safe alphabet by default, as in TFX)."""
        if not _is_value(self):
            raise DefinitionError(f"b64encode() encodes a value (e.g. ch.future()[0].value), not {self!r}.")
        return TextExpression("b64encode", (self,), url_safe=bool(url_safe))

    def __bool__(self) -> bool:
        raise DefinitionError(
            f"{self!r} has no truth value when the pipeline is defined: its value is known only when the node "
            "runs. Compare it inside Cond(...), e.g. Cond(ch.future()[0].value == 1), and combine predicates with "
            "&, |, ~ (or logical_and, logical_or, logical_not), not `and`, `or`, `not`."
        )

    def __iter__(self) -> Iterator[Any]:
        raise PlaceholderUseError(
            f"Iterating over a placeholder is not supported. Did you miss the ending `,` in your tuple? ({self!r} "
            "has a value only when the node runs.)"
        )

    def __format__(self, format_spec: str) -> str:
        raise PlaceholderUseError(
            f"Formatting a placeholder is not supported: {self!r} has a value only when the node runs, so it cannot "
            "go into an f-string or .format(). Join it with strings by +, e.g. 'gs://bucket/' + ch.future()[0].value."
        )


class PlaceholderUseError(DefinitionError, RuntimeError):
    """A placeholder used as if its value were known when the pipeline is defined (iterated, formatted into
    a string); a RuntimeError too, as TFX raises it."""


class TextExpression(Placeholder):
    """Text made at run time from futures and strings: `a + b` (concatenation) or `x.b64encode()`."""

    def __init__(self, op: str, operands: tuple[Any, ...], url_safe: bool = True):
        self.op = op
        self.operands = operands
        self.url_safe = url_safe

    @staticmethod
    def concat(left: Any, right: Any) -> TextExpression:
        """`left + right`, flattened; each side a string or a placeholder that yields text."""
        parts: list[Any] = []
        for side in (left, right):
            if isinstance(side, TextExpression) and side.op == "concat":
                parts.extend(side.operands)
            elif isinstance(side, str) or _is_value(side):
                parts.append(side)
            else:
                raise DefinitionError(
                    f"'+' joins strings and placeholders that yield a value (e.g. ch.future()[0].value), got "
                    f"{side!r} ({type(side).__name__}). Convert a number to text in the component that produces it."
                )
        return TextExpression("concat", tuple(parts))

    def futures(self) -> list[ChannelFuture]:
        return [f for part in self.operands if isinstance(part, Placeholder) for f in part.futures()]

    def to_ir(self) -> dict[str, Any]:
        operands = [p if isinstance(p, str) else expression_ir(p) for p in self.operands]
        if self.op == "b64encode":
            return {"op": self.op, "operands": operands, "url_safe": self.url_safe}
        return {"op": self.op, "operands": operands}

    def __repr__(self) -> str:
        return f"TextExpression({expression_text(self.to_ir())})"


class RunValue(Placeholder):
    """A fact about the run the node runs in: `execution_invocation().pipeline_run_id` (the run id)."""

    KEYS = RUN_KEYS

    def __init__(self, key: str):
        if key not in self.KEYS:
            raise DefinitionError(
                f"execution_invocation().{key} is not available here; what is: {', '.join(self.KEYS)}."
            )
        self.key = key

    def to_ir(self) -> dict[str, Any]:
        return {"op": "run", "key": self.key}

    def __repr__(self) -> str:
        return f"execution_invocation().{self.key}"


class ExecutionInvocation:
    """`execution_invocation()`: the facts about the run a parameter can take (TFX's
    `ph.execution_invocation()`; here its `pipeline_run_id`)."""

    def __getattr__(self, name: str) -> RunValue:
        if name.startswith("__"):
            raise AttributeError(name)
        return RunValue(name)

    def __repr__(self) -> str:
        return "execution_invocation()"


def execution_invocation() -> ExecutionInvocation:
    """The run a node runs in: `execution_invocation().pipeline_run_id` is its run id."""
    return ExecutionInvocation()


def _is_value(x: Any) -> bool:
    """Whether `x` is a placeholder whose value can be joined as text (a future reading something, or text)."""
    from headrace.types.channel import ChannelFuture

    return isinstance(x, (TextExpression, RunValue)) or (isinstance(x, ChannelFuture) and bool(x.attribute))


def expression_ir(value: Placeholder) -> dict[str, Any]:
    """A value expression's IR (a future as `{"op": "future", ...}`)."""
    from headrace.types.channel import ChannelFuture

    return value.expression_ir() if isinstance(value, ChannelFuture) else value.to_ir()


def parameter_ir(value: Placeholder, ptype: str) -> dict[str, Any]:
    """A dynamic parameter's IR value: `{"$placeholder": EXPR, "ptype": TYPE}`, TYPE the parameter's type
    ('int', 'float', 'str', 'bool', 'dict', 'list') the resolved value is checked against."""
    return {PLACEHOLDER_KEY: expression_ir(value), "ptype": ptype}


# -- logical operators over predicates (TFX's ph.logical_and / logical_or / logical_not) ----------------
def logical_and(left: Any, right: Any) -> Any:
    """Both predicates hold (the same as `left & right`)."""
    return _predicate(left, "logical_and") & _predicate(right, "logical_and")


def logical_or(left: Any, right: Any) -> Any:
    """Either predicate holds (the same as `left | right`)."""
    return _predicate(left, "logical_or") | _predicate(right, "logical_or")


def logical_not(predicate: Any) -> Any:
    """The predicate does not hold (the same as `~predicate`)."""
    return ~_predicate(predicate, "logical_not")


def _predicate(value: Any, what: str) -> Any:
    from headrace.types.channel import Predicate

    if not isinstance(value, Predicate):
        raise DefinitionError(
            f"{what} takes predicates (comparisons such as ch.future()[0].value == 1), got {value!r} "
            f"({type(value).__name__})."
        )
    return value


def join(parts: Any, separator: str = "") -> Any:
    """Strings and value placeholders joined with `separator` (TFX's `ph.join`): text at run time, or a
    plain string when no part is a placeholder ('' for no parts)."""
    if isinstance(parts, (str, bytes)) or not isinstance(parts, (list, tuple)):
        raise DefinitionError(f"join takes a list of strings and placeholders, got {parts!r}.")
    if not isinstance(separator, str):
        raise DefinitionError(f"join's separator must be a str, got {separator!r}.")
    result: Any = ""
    for i, part in enumerate(parts):
        result = part if i == 0 else result + separator + part
    return result


# -- types --------------------------------------------------------------------------------------------
def value_type_of(artifact_class: type) -> type | None:
    """The Python type of a value artifact class's value (int for Integer ...), `ANY` for a value artifact
    whose type is open (JsonValue, a custom one), None for an artifact that holds no value."""
    from headrace.types import standard_artifacts as sa
    from headrace.types.artifact import ValueArtifact

    if not (isinstance(artifact_class, type) and issubclass(artifact_class, ValueArtifact)):
        return None
    known: list[tuple[type, type]] = [
        (sa.Integer, int),
        (sa.Float, float),
        (sa.String, str),
        (sa.Boolean, bool),
        (sa.Bytes, bytes),
    ]
    for cls, value_type in known:
        if issubclass(artifact_class, cls):
            return value_type
    return ANY


def expression_type(expr: Placeholder) -> type:
    """The Python type a value expression yields: text for `+` and b64encode, a URI is text, a value
    artifact's value type, a declared property's type; `ANY` when only the run knows."""
    from headrace.types.channel import ChannelFuture

    if isinstance(expr, (TextExpression, RunValue)):
        return str
    if isinstance(expr, ChannelFuture):
        what, *key = expr.attribute
        if what == "uri":
            return str
        if what == "value":
            return value_type_of(expr.channel.type) or ANY
        if what == "property":
            prop = expr.channel.type.PROPERTIES.get(key[0])
            if prop is not None:
                return {"INT": int, "DOUBLE": float, "STRING": str}.get(prop.type.value, ANY)
    return ANY


def check_parameter(owner: str, key: str, value: Placeholder, base_type: type, type_label: str) -> Placeholder:
    """A placeholder given to parameter `key` of `owner`, checked when the component is defined: it must
    read upstream outputs (`ch.future()[0].value`, `.uri`, a property; `+` and `.b64encode()` of those),
    at index [0], `.value` only of a value artifact, and yield what the parameter's type can hold.

    Raises:
        DefinitionError: naming the component, the parameter and the expression, and what to write instead.
    """
    from headrace.types.channel import ChannelFuture, Predicate

    where = f"{owner}: parameter '{key}'"
    if isinstance(value, Predicate):
        raise DefinitionError(
            f"{where} was given the predicate {value}; a predicate is the condition of a Cond(...) block. Pass a "
            "value, e.g. upstream.outputs['x'].future()[0].value."
        )
    if not isinstance(value, (ChannelFuture, TextExpression, RunValue)):
        raise DefinitionError(
            f"{where} was given {value!r}, which places a value in a container command line. A parameter takes an "
            "upstream output resolved when the node runs: upstream.outputs['x'].future()[0].value."
        )
    if isinstance(value, ChannelFuture) and not value.attribute:
        raise DefinitionError(
            f"{where} was given the artifact {value!r} itself; pass what it holds: .value (a value artifact), "
            ".uri, .property('name') or .custom_property('name')."
        )
    for future in value.futures():
        if future.index != 0:
            raise DefinitionError(
                f"{where} reads artifact [{future.index}] of {future.channel!r}; a parameter reads the first "
                "artifact only: use .future()[0]."
            )
        if future.attribute[:1] == ("value",) and value_type_of(future.channel.type) is None:
            raise DefinitionError(
                f"{where} reads .value of {future.channel!r}, a {future.channel.type_name}, which holds no value: "
                ".value reads a value artifact (String, Integer, Float, Boolean, Bytes, JsonValue). Read "
                ".uri, .property('name') or .custom_property('name') instead."
            )
    produced = expression_type(value)
    if produced is ANY or _fits(produced, base_type):
        return value
    raise DefinitionError(
        f"{where} expects {type_label}, but {expression_text(expression_ir(value))} yields "
        f"{produced.__name__}. Give the parameter the type of the value (e.g. Parameter[{produced.__name__}]), or "
        "connect an upstream output of the parameter's type."
    )


def _fits(produced: type, base_type: type) -> bool:
    if base_type is float:
        return produced in (int, float)
    if base_type in (dict, list):
        return produced is str  # JSON text, parsed when the node runs
    return produced is base_type


__all__ = [
    "PLACEHOLDER_KEY",
    "Placeholder",
    "PlaceholderUseError",
    "TextExpression",
    "execution_invocation",
    "expression_type",
    "join",
    "logical_and",
    "logical_not",
    "logical_or",
    "value_type_of",
]
