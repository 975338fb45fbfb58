"""Channels: typed edges between components."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headrace.errors import DefinitionError
from headrace.types.artifact import Artifact

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
        self._artifacts: list[Artifact] = []
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
        """The artifacts this channel resolved to when its producer ran interactively
        (`InteractiveContext.run`); empty before."""
        return list(self._artifacts)

    def set_artifacts(self, artifacts: list[Artifact]) -> Channel:
        """Sets the artifacts `get()` returns (what an interactive run produced); returns self."""
        self._artifacts = list(artifacts)
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

    def __repr__(self) -> str:
        src = f"{self.producer_component_id}.outputs['{self._output_key}']" if self._producer else "unbound"
        return f"Channel(type={self.type_name}, {src})"


class ChannelFuture:
    """A run-time reference to a channel's artifact (or a property or value of it).

    Plain data, turned into IR by the runners that evaluate conditions.
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

    def to_ir(self) -> dict[str, object]:
        """The future as IR: producer, output key, index and what is read."""
        return {
            "producer": self.channel.producer_component_id,
            "output_key": self.channel.output_key,
            "index": self.index,
            "attribute": list(self.attribute),
        }

    def __repr__(self) -> str:
        return f"ChannelFuture({self.to_ir()})"
