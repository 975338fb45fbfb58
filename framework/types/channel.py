"""Channels: typed edges between components."""

from __future__ import annotations

from typing import TYPE_CHECKING

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

    def _bind(self, producer: BaseComponent, output_key: str) -> None:
        self._producer = producer
        self._output_key = output_key

    def __repr__(self) -> str:
        src = f"{self.producer_component_id}.outputs['{self._output_key}']" if self._producer else "unbound"
        return f"Channel(type={self.type_name}, {src})"
