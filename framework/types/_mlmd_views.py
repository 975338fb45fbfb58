"""An artifact as ML Metadata's protos (TFX's `artifact.mlmd_artifact` and `artifact.artifact_type`): built on
request from the artifact's fields, with ml_metadata imported only then."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headrace.types.artifact import Artifact


def artifact_type_proto(art: Artifact) -> Any:
    """The `ArtifactType` proto of the artifact's type: name, id when known, declared properties."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    proto = pb.ArtifactType(name=art.type_name)
    if art.type_id is not None:
        proto.id = art.type_id
    for key, prop in type(art).PROPERTIES.items():
        proto.properties[key] = {"INT": pb.INT, "FLOAT": pb.DOUBLE, "STRING": pb.STRING}[prop.type.value]
    return proto


def artifact_proto(art: Artifact) -> Any:
    """The `Artifact` proto of the artifact (a snapshot: editing it changes nothing)."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    proto = pb.Artifact(uri=art.uri, type=art.type_name, name=art.name)
    if art.id is not None:
        proto.id = art.id
    if art.type_id is not None:
        proto.type_id = art.type_id
    proto.state = pb.Artifact.State.Value(art.state.value)
    for key, value in art.properties.items():
        _set_value(proto.properties[key], value)
    for key, value in art.custom_properties.items():
        _set_value(proto.custom_properties[key], value)
    return proto


def _set_value(target: Any, value: Any) -> None:
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    else:
        target.string_value = str(value)
