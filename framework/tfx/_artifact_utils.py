"""TFX's `tfx.types.artifact_utils` over headrace artifacts."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from typing import Any

from headrace.types import Artifact
from headrace.types.artifact import ArtifactState
from headrace.types.registry import artifact_class

_SPLIT_NAME_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_-]*)?$")
SPLIT_DIR_PREFIX = "Split-"


def get_single_instance(artifact_list: Sequence[Artifact]) -> Artifact:
    """The one artifact of a list.

    Raises:
        ValueError: the list does not hold exactly one artifact.
    """
    if len(artifact_list) != 1:
        raise ValueError(f"expected list length of one but got {len(artifact_list)}")
    return artifact_list[0]


def get_single_uri(artifact_list: Sequence[Artifact]) -> str:
    """The URI of the one artifact of a list."""
    return get_single_instance(artifact_list).uri


def encode_split_names(splits: Sequence[str]) -> str:
    """Split names as the JSON text an artifact's `split_names` property holds."""
    for split in splits:
        if not _SPLIT_NAME_RE.match(split):
            raise ValueError(
                f"Split name {split!r} is invalid: use letters, digits, '_' and '-', starting with a letter or digit."
            )
    return json.dumps(list(splits))


def decode_split_names(split_names: str) -> list[str]:
    """The split names of an artifact's `split_names` property ([] for '')."""
    return [] if not split_names else list(json.loads(split_names))


def get_split_uris(artifact_list: Sequence[Artifact], split: str) -> list[str]:
    """`{uri}/Split-{split}` of every artifact of the list.

    Raises:
        ValueError: an artifact of the list has no such split.
    """
    uris = [
        os.path.join(a.uri, SPLIT_DIR_PREFIX + split)
        for a in artifact_list
        if split in decode_split_names(a.split_names)
    ]
    if len(uris) != len(artifact_list):
        raise ValueError(f"Split does not exist over all example artifacts: {split}")
    return uris


def get_split_uri(artifact_list: Sequence[Artifact], split: str) -> str:
    """`{uri}/Split-{split}` of the one artifact of the list (headrace always uses the `Split-` form)."""
    uris = get_split_uris(artifact_list, split)
    if len(uris) != 1:
        raise ValueError(f"Expected exactly one artifact with split {split!r}, got {len(uris)}.")
    return uris[0]


def replicate_artifacts(source: Artifact, count: int) -> list[Artifact]:
    """`count` new artifacts of the source's type with its properties (no id, no URI)."""
    return [
        type(source).from_dict({**source.to_dict(), "id": None, "uri": "", "state": "PENDING"}) for _ in range(count)
    ]


def get_artifact_type_class(artifact_type: Any) -> type[Artifact]:
    """The headrace class registered for an ML Metadata `ArtifactType` proto (or `Artifact`)."""
    return artifact_class(artifact_type.name)


def deserialize_artifact(artifact_type: Any, artifact: Any = None) -> Artifact:
    """A headrace artifact from ML Metadata `ArtifactType` and `Artifact` protos."""
    from headrace.metadata.values import get_value

    cls = get_artifact_type_class(artifact_type)
    data: dict[str, Any] = {"type_name": artifact_type.name, "properties": {}, "custom_properties": {}}
    if artifact is not None:
        from ml_metadata.proto import metadata_store_pb2 as pb

        data.update(
            id=artifact.id or None,
            uri=artifact.uri,
            state=pb.Artifact.State.Name(artifact.state),
            name=artifact.name,
            properties={k: get_value(v) for k, v in artifact.properties.items()},
            custom_properties={k: get_value(v) for k, v in artifact.custom_properties.items()},
        )
        if data["state"] not in ArtifactState.__members__:
            data["state"] = "UNKNOWN"
    art = cls.from_dict(data) if cls is not Artifact else Artifact.from_dict(data)
    if artifact is not None and artifact.type_id:
        art.type_id = artifact.type_id
    return art


def deserialize_artifacts(artifact_type: Any, artifacts: Sequence[Any]) -> list[Artifact]:
    """`deserialize_artifact` for each proto."""
    return [deserialize_artifact(artifact_type, a) for a in artifacts]


def verify_artifacts(artifacts: Any) -> None:
    """Checks that every artifact (a list, or a dict of lists) has a URI that exists.

    Raises:
        RuntimeError: an artifact has no URI, or its URI does not exist.
    """
    lists = artifacts.values() if isinstance(artifacts, dict) else [artifacts]
    for arts in lists:
        for art in arts:
            if not art.uri or not os.path.exists(art.uri):
                raise RuntimeError(f"Artifact {art!r} has no URI or its URI {art.uri!r} does not exist.")


def jsonify_artifact_dict(artifact_dict: dict[str, list[Artifact]]) -> str:
    """A dict of artifact lists as JSON text."""
    return json.dumps({k: [a.to_dict() for a in arts] for k, arts in artifact_dict.items()})


def parse_artifact_dict(json_str: str) -> dict[str, list[Artifact]]:
    """The inverse of `jsonify_artifact_dict`."""
    return {k: [Artifact.from_dict(d) for d in arts] for k, arts in json.loads(json_str).items()}


__all__ = [
    "decode_split_names",
    "deserialize_artifact",
    "deserialize_artifacts",
    "encode_split_names",
    "get_artifact_type_class",
    "get_single_instance",
    "get_single_uri",
    "get_split_uri",
    "get_split_uris",
    "jsonify_artifact_dict",
    "parse_artifact_dict",
    "replicate_artifacts",
    "verify_artifacts",
]
