"""Artifact types, channels and component specs."""

from headrace.types import standard_artifacts
from headrace.types.artifact import Artifact, ArtifactState, Property, PropertyType, ValueArtifact
from headrace.types.channel import Channel
from headrace.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

__all__ = [
    "Artifact",
    "ArtifactState",
    "Channel",
    "ChannelParameter",
    "ComponentSpec",
    "ExecutionParameter",
    "Property",
    "PropertyType",
    "ValueArtifact",
    "standard_artifacts",
]
