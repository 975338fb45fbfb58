"""The files of data-validation artifacts, where TFX puts them, read and written without TensorFlow:
statistics `Split-<name>/FeatureStats.pb` (a binary DatasetFeatureStatisticsList), a schema
`schema.pbtxt` (text), anomalies `Split-<name>/SchemaDiff.pb` (a binary Anomalies).
Only tensorflow_metadata's protos are imported, and only when a function runs."""

from __future__ import annotations

import os
from typing import Any

from headrace.components.io.examples import split_uri
from headrace.errors import HeadraceError

STATS_FILE = "FeatureStats.pb"
SCHEMA_FILE = "schema.pbtxt"
ANOMALIES_FILE = "SchemaDiff.pb"


class ArtifactFileError(HeadraceError):
    """A data-validation artifact's file is missing or cannot be parsed."""


def _write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise ArtifactFileError(f"{what} file {path} does not exist.") from None


def write_statistics(uri: str, split: str, stats: Any) -> str:
    """Writes one split's DatasetFeatureStatisticsList; returns the path."""
    path = os.path.join(split_uri(uri, split), STATS_FILE)
    _write(path, stats.SerializeToString())
    return path


def read_statistics(uri: str, split: str) -> Any:
    """One split's DatasetFeatureStatisticsList."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    path = os.path.join(split_uri(uri, split), STATS_FILE)
    try:
        return statistics_pb2.DatasetFeatureStatisticsList.FromString(_read(path, "Statistics"))
    except Exception as e:
        if isinstance(e, ArtifactFileError):
            raise
        raise ArtifactFileError(f"Statistics file {path} is not a DatasetFeatureStatisticsList: {e}") from None


def write_schema(uri: str, schema: Any) -> str:
    """Writes a Schema as text; returns the path."""
    from google.protobuf import text_format

    path = os.path.join(uri, SCHEMA_FILE)
    _write(path, text_format.MessageToString(schema).encode())
    return path


def copy_schema(uri: str, data: bytes) -> str:
    """Writes a schema file's bytes unchanged (comments and layout kept) as the artifact's
    schema.pbtxt, as TFX's ImportSchemaGen copies it; returns the path."""
    path = os.path.join(uri, SCHEMA_FILE)
    _write(path, data)
    return path


def parse_schema_text(text: str, source: str) -> Any:
    """A Schema from its text form; a readable error naming `source` otherwise."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    try:
        return text_format.Parse(text, schema_pb2.Schema())
    except text_format.ParseError as e:
        raise ArtifactFileError(f"Schema file {source} is not a text-format Schema proto: {e}") from None


def read_schema(uri: str) -> Any:
    """The Schema of a Schema artifact (its schema.pbtxt)."""
    path = os.path.join(uri, SCHEMA_FILE)
    if not os.path.exists(path):
        found = [n for n in sorted(os.listdir(uri)) if n.endswith(".pbtxt")] if os.path.isdir(uri) else []
        if not found:
            raise ArtifactFileError(f"Schema artifact {uri} has no {SCHEMA_FILE}.")
        path = os.path.join(uri, found[0])
    return parse_schema_text(_read(path, "Schema").decode("utf-8", errors="replace"), path)


def write_anomalies(uri: str, split: str, anomalies: Any) -> str:
    """Writes one split's Anomalies; returns the path."""
    path = os.path.join(split_uri(uri, split), ANOMALIES_FILE)
    _write(path, anomalies.SerializeToString())
    return path


def read_anomalies(uri: str, split: str) -> Any:
    """One split's Anomalies."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    path = os.path.join(split_uri(uri, split), ANOMALIES_FILE)
    return anomalies_pb2.Anomalies.FromString(_read(path, "Anomalies"))
