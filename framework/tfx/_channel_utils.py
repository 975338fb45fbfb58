"""TFX's `tfx.types.channel_utils` over headrace channels."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from headrace.dsl.placeholders import ChannelFuture, Placeholder
from headrace.errors import DefinitionError
from headrace.types import Artifact, Channel


def as_channel(artifacts: Iterable[Artifact]) -> Channel:
    """A channel of the artifacts' type holding them (what `.get()` returns).

    Raises:
        DefinitionError: `artifacts` is empty (the channel's type would be unknown).
    """
    arts = list(artifacts)
    if not arts:
        raise DefinitionError("as_channel needs at least one artifact, to know the channel's type.")
    return Channel(type=type(arts[0])).set_artifacts(arts)


def union(channels: Iterable[Channel]) -> Channel:
    """TFX's union channel; not available yet.

    Raises:
        DefinitionError: always (headrace has no union channel yet).
    """
    raise DefinitionError(
        "channel_utils.union comes with headrace's orchestrator adapters (not in this version yet): "
        "a headrace input takes one channel. Use one input per channel instead."
    )


def unwrap_channel_dict(channel_dict: dict[str, Channel]) -> dict[str, list[Artifact]]:
    """The artifacts each channel holds, by key."""
    return {key: list(ch.get()) for key, ch in channel_dict.items()}


def get_individual_channels(input_channel: Channel) -> list[Channel]:
    """The channels a channel is made of: itself (headrace has no union channel)."""
    if not isinstance(input_channel, Channel):
        raise DefinitionError(f"Expected a Channel, got {type(input_channel).__name__}.")
    return [input_channel]


def get_dependent_channels(placeholder: Placeholder) -> list[Channel]:
    """The channels a placeholder (a predicate, a future, text built from futures) reads, each once."""
    return list(dict.fromkeys(f.channel for f in placeholder.futures()))


def unwrap_simple_channel_placeholder(placeholder: Placeholder) -> Channel:
    """The channel of `channel.future()[0].value`.

    Raises:
        DefinitionError: (a ValueError, as TFX raises) for any other placeholder.
    """
    if isinstance(placeholder, ChannelFuture) and placeholder.attribute == ("value",) and placeholder.index == 0:
        return placeholder.channel
    raise DefinitionError(f"Expected a placeholder of shape somechannel.future()[0].value, got {placeholder!r}.")


class ChannelForTesting(Channel):
    """TFX's `tfx.v1.testing.Channel`: a channel of artifacts with the given ids, for unit tests."""

    def __init__(self, artifact_type: type[Artifact], artifact_ids: Sequence[int] = ()):
        super().__init__(type=artifact_type)
        arts = []
        for artifact_id in artifact_ids:
            art = artifact_type()
            art.id = artifact_id
            arts.append(art)
        self.set_artifacts(arts)
        self.artifact_ids = list(artifact_ids)

    def __repr__(self) -> str:
        return f"ChannelForTesting(type={self.type_name}, artifact_ids={self.artifact_ids})"


__all__ = [
    "ChannelForTesting",
    "as_channel",
    "get_dependent_channels",
    "get_individual_channels",
    "union",
    "unwrap_channel_dict",
    "unwrap_simple_channel_placeholder",
]
