"""Channels: typed edges between components."""

from __future__ import annotations

import contextvars
import weakref
from typing import TYPE_CHECKING, Any

from headrace.errors import DefinitionError
from headrace.types.artifact import Artifact
from headrace.types.placeholder import Placeholder

if TYPE_CHECKING:
    from headrace.dsl.base_component import BaseComponent


_builtin_type = type  # the parameters below are named `type`, as in TFX


class Channel:
    """A typed stream of artifacts, usually one component's output.

    Args:
        type: The artifact class the channel carries.
    """

    def __init__(self, type: type[Artifact]):
        if not (isinstance(type, _builtin_type) and issubclass(type, Artifact)):
            raise DefinitionError(
                f"Channel type must be an Artifact subclass (e.g. standard_artifacts.Examples), got {type!r}."
            )
        self.type = type
        self._producer: BaseComponent | None = None
        self._output_key: str | None = None
        self._artifacts: list[Artifact] | None = None  # None until set_artifacts (a run, or a test)
        self._placeholder: Artifact | None = None
        self.json_type: Any = None  # the typed JSON value a function component's output carries

    @property
    def type_name(self) -> str:
        """The artifact type name."""
        return self.type.TYPE_NAME

    @property
    def producer(self) -> BaseComponent | None:
        """The component producing this channel, or None for a channel that queries the store."""
        return self._producer

    @property
    def producer_component_id(self) -> str | None:
        """The producing component's id (follows `.with_id()` renames)."""
        return self._producer.id if self._producer is not None else None

    @property
    def output_key(self) -> str | None:
        """The producer's output key."""
        return self._output_key

    def get(self) -> list[Artifact]:
        """The artifacts this channel holds: what its producer's interactive run (`InteractiveContext.run`)
        produced. Before that, a component's output channel holds one placeholder artifact of its type
        (no id, no URI; the same object on every call), as TFX's channels do; a channel without a producer
        holds none."""
        if self._artifacts is not None:
            return list(self._artifacts)
        if self._producer is None:
            return []
        if self._placeholder is None:
            self._placeholder = self.type()
        return [self._placeholder]

    @property
    def resolved(self) -> bool:
        """Whether `get()` returns real artifacts (a run, or `set_artifacts`), not the placeholder."""
        return self._artifacts is not None

    def set_artifacts(self, artifacts: list[Artifact]) -> Channel:
        """Sets the artifacts `get()` returns (what an interactive run produced); returns self."""
        self._artifacts = list(artifacts)
        return self

    def set_placeholder(self, artifact: Artifact) -> Channel:
        """Sets the placeholder artifact `get()` returns before the run (one of the channel's type, e.g.
        carrying the properties an Importer will give the real one); returns self."""
        if not isinstance(artifact, self.type):
            raise DefinitionError(f"The placeholder of {self!r} must be a {self.type.__name__}, got {artifact!r}.")
        self._placeholder = artifact
        return self

    def future(self) -> ChannelFuture:
        """A placeholder for this channel's artifacts at run time, for conditions:
        `ch.future()[0].value`, `ch.future().custom_property('blessed')`."""
        if self._producer is None:
            raise DefinitionError("future() needs a component's output channel; this channel has no producer.")
        return ChannelFuture(self)

    def _bind(self, producer: BaseComponent, output_key: str) -> None:
        self._producer = producer
        self._output_key = output_key
        _attach_conditions(producer)

    def __repr__(self) -> str:
        src = f"{self.producer_component_id}.outputs['{self._output_key}']" if self._producer else "unbound"
        return f"Channel(type={self.type_name}, {src})"


class ChannelFuture(Placeholder):
    """A run-time reference to a channel's artifact (or a property or value of it): TFX's
    `ChannelWrappedPlaceholder`.

    Compared with a constant it makes a :class:`Predicate` (for `Cond`); given to a component's
    parameter it is a dynamic parameter, resolved when the node runs; joined with strings by `+` it is
    text (:class:`headrace.types.placeholder.TextExpression`). Plain data until then.
    """

    def __init__(self, channel: Channel, index: int = 0, attribute: tuple[str, ...] = ()):
        self.channel = channel
        self.index = index
        self.attribute = attribute

    def __getitem__(self, index: int) -> ChannelFuture:
        if not isinstance(index, int):
            raise DefinitionError(f"A channel future is indexed by an int, got {index!r}.")
        return ChannelFuture(self.channel, index, self.attribute)

    @property
    def value(self) -> ChannelFuture:
        """The artifact's value (for value artifacts)."""
        return ChannelFuture(self.channel, self.index, ("value",))

    @property
    def uri(self) -> ChannelFuture:
        """The artifact's URI."""
        return ChannelFuture(self.channel, self.index, ("uri",))

    def property(self, key: str) -> ChannelFuture:
        """A declared property of the artifact."""
        return ChannelFuture(self.channel, self.index, ("property", key))

    def custom_property(self, key: str) -> ChannelFuture:
        """A custom property of the artifact."""
        return ChannelFuture(self.channel, self.index, ("custom_property", key))

    def futures(self) -> list[ChannelFuture]:
        return [self]

    def to_ir(self) -> dict[str, Any]:
        """The future as IR: producer, output key, index and what is read."""
        return {
            "producer": self.channel.producer_component_id,
            "output_key": self.channel.output_key,
            "index": self.index,
            "attribute": list(self.attribute),
        }

    # Comparisons build predicates (for `Cond`), as TFX's placeholders do; they never answer a bool.
    def _compare(self, op: str, other: Any) -> Predicate:
        if not self.attribute:
            raise DefinitionError(
                f"Compare what the artifact holds, not the artifact itself: {future_text(self.to_ir())} {op} "
                f"{other!r}. Use .value (value artifacts), .custom_property('name') or .property('name'), "
                "e.g. channel.future()[0].custom_property('blessed') == 1."
            )
        if isinstance(other, ChannelFuture) and other.attribute:
            return Predicate(op, future=self, right=other)  # both read when the condition is evaluated
        if isinstance(other, Placeholder) or not isinstance(other, (bool, int, float, str)):
            raise DefinitionError(
                f"A channel future is compared with a constant (int, float, str or bool) or with what another "
                f"future reads (.value, .uri, a property), got {other!r} ({type(other).__name__}) in "
                f"{future_text(self.to_ir())} {op} ..."
            )
        return Predicate(op, future=self, constant=other)

    def __eq__(self, other: Any) -> Predicate:
        return self._compare("==", other)

    def __ne__(self, other: Any) -> Predicate:
        return self._compare("!=", other)

    def __lt__(self, other: Any) -> Predicate:
        return self._compare("<", other)

    def __le__(self, other: Any) -> Predicate:
        return self._compare("<=", other)

    def __gt__(self, other: Any) -> Predicate:
        return self._compare(">", other)

    def __ge__(self, other: Any) -> Predicate:
        return self._compare(">=", other)

    __hash__ = None  # type: ignore[assignment]  # == builds a predicate: futures are not dict keys

    def __bool__(self) -> bool:
        raise DefinitionError(
            f"A channel future has no truth value when the pipeline is defined: compare it with a constant "
            f"inside Cond(...), e.g. Cond({future_text(self.to_ir())} == 1)."
        )

    def __repr__(self) -> str:
        return f"ChannelFuture({future_text(self.to_ir())})"

    def expression_ir(self) -> dict[str, Any]:
        """The future as a value expression (what a dynamic parameter's IR holds)."""
        return {"op": "future", "future": self.to_ir()}


COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
_LOGICAL = ("and", "or", "not")


class Predicate(Placeholder):
    """A condition on artifacts produced in the same run: a comparison of a channel future with a
    constant (`future == 1`) or with another future (`a.future()[0].value < b.future()[0].value`), or
    predicates combined with `&`, `|` and `~` (or `logical_and`,
    `logical_or`, `logical_not`). TFX's `Predicate`.

    Built by comparing a :class:`ChannelFuture`; used by `headrace.dsl.Cond`. Plain data until a
    runner evaluates its IR (:meth:`to_ir`) on the live output artifacts of the run.
    """

    def __init__(
        self,
        op: str,
        future: ChannelFuture | None = None,
        constant: Any = None,
        operands: tuple[Predicate, ...] = (),
        right: ChannelFuture | None = None,
    ):
        if op not in COMPARISONS + _LOGICAL:
            raise DefinitionError(f"Unknown predicate operator {op!r}.")
        self.op = op
        self.future = future
        self.constant = constant
        self.operands = operands
        self.right = right  # the future compared with, instead of a constant

    def __and__(self, other: Predicate) -> Predicate:
        return Predicate("and", operands=(self, _predicate(other, "&")))

    def __or__(self, other: Predicate) -> Predicate:
        return Predicate("or", operands=(self, _predicate(other, "|")))

    def __invert__(self) -> Predicate:
        return Predicate("not", operands=(self,))

    def __bool__(self) -> bool:
        raise DefinitionError(
            f"A predicate has no truth value when the pipeline is defined: {self}. Combine predicates with "
            "&, | and ~ (not `and`, `or`, `not`), and pass the result to Cond(...)."
        )

    def futures(self) -> list[ChannelFuture]:
        """The channel futures the predicate reads."""
        if self.future is not None:
            return [self.future] + ([self.right] if self.right is not None else [])
        return [f for p in self.operands for f in p.futures()]

    def to_ir(self) -> dict[str, Any]:
        """The predicate as IR: `{"op": "==", "future": {...}, "constant": 1}` for a comparison with a
        constant, `{"op": "==", "future": {...}, "right": {...}}` of two futures, `{"op": "and" | "or" |
        "not", "operands": [...]}` for a combination."""
        if self.right is not None and self.future is not None:
            return {"op": self.op, "future": self.future.to_ir(), "right": self.right.to_ir()}
        if self.future is not None:
            return {"op": self.op, "future": self.future.to_ir(), "constant": self.constant}
        return {"op": self.op, "operands": [p.to_ir() for p in self.operands]}

    def __str__(self) -> str:
        return predicate_text(self.to_ir())

    def __format__(self, format_spec: str) -> str:
        return format(str(self), format_spec)  # a predicate's text in messages; its value is no string anyway

    def __repr__(self) -> str:
        return f"Predicate({self})"


def _predicate(value: Any, op: str) -> Predicate:
    if not isinstance(value, Predicate):
        raise DefinitionError(
            f"'{op}' combines predicates (comparisons of channel futures), got {value!r} ({type(value).__name__})."
        )
    return value


def future_text(future: dict[str, Any]) -> str:
    """A future's IR as the Python that reads it: `Evaluator.outputs['blessing'][0].custom_property('blessed')`."""
    text = f"{future['producer']}.outputs['{future['output_key']}'][{future['index']}]"
    attribute = list(future.get("attribute") or ())
    if attribute[:1] in (["value"], ["uri"]):
        text += f".{attribute[0]}"
    elif len(attribute) == 2:
        text += f".{attribute[0]}({attribute[1]!r})"
    return text


def predicate_text(predicate: dict[str, Any]) -> str:
    """A predicate's IR as readable text, for summaries and the store."""
    op = predicate["op"]
    if op in COMPARISONS:
        right = future_text(predicate["right"]) if "right" in predicate else repr(predicate["constant"])
        return f"{future_text(predicate['future'])} {op} {right}"
    parts = [predicate_text(p) for p in predicate["operands"]]
    if op == "not":
        return f"~({parts[0]})"
    return "(" + f" {'&' if op == 'and' else '|'} ".join(parts) + ")"


# -- Cond blocks: the predicates in force while components are constructed ----------------------------
# The stack lives here, beside the channels, because a component's outputs are bound (`_bind`) when it
# is constructed: that is where a component inside `with Cond(...)` picks up the predicates.
_ACTIVE: contextvars.ContextVar[tuple[Predicate, ...]] = contextvars.ContextVar("headrace_conditions", default=())
_ATTACHED: weakref.WeakKeyDictionary[Any, tuple[Predicate, ...]] = weakref.WeakKeyDictionary()


def active_conditions() -> tuple[Predicate, ...]:
    """The predicates of the Cond blocks being defined, outermost first."""
    return _ACTIVE.get()


def push_condition(predicate: Predicate) -> contextvars.Token[tuple[Predicate, ...]]:
    """Enters a Cond block; returns the token that leaves it (:func:`pop_condition`)."""
    return _ACTIVE.set((*_ACTIVE.get(), predicate))


def pop_condition(token: contextvars.Token[tuple[Predicate, ...]]) -> None:
    """Leaves the Cond block `token` entered."""
    _ACTIVE.reset(token)


def conditions_of(component: Any) -> tuple[Predicate, ...]:
    """The predicates that must all hold for `component` to run (from the Cond blocks it was built in)."""
    return _ATTACHED.get(component, ())


def _attach_conditions(component: Any) -> None:
    """Gives a component built inside Cond blocks their predicates; each predicate's producers become
    its upstream nodes (they must have run before the condition can be evaluated)."""
    active = _ACTIVE.get()
    if not active or component in _ATTACHED:
        return
    _ATTACHED[component] = active
    for predicate in active:
        for future in predicate.futures():
            producer = future.channel.producer
            if producer is not None and producer is not component:
                component.add_upstream_node(producer)
