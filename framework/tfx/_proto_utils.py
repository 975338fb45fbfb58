"""TFX's `tfx.utils.proto_utils`: protobuf messages to and from JSON."""

from __future__ import annotations

from typing import Any, TypeVar

M = TypeVar("M")


def proto_to_json(proto: Any) -> str:
    """A message as JSON text (field names as in the .proto, keys sorted)."""
    from google.protobuf import json_format

    return json_format.MessageToJson(proto, sort_keys=True, preserving_proto_field_name=True)


def proto_to_dict(proto: Any) -> dict[str, Any]:
    """A message as a dict (field names as in the .proto)."""
    from google.protobuf import json_format

    return json_format.MessageToDict(proto, preserving_proto_field_name=True)


def json_to_proto(json_str: str, proto: M) -> M:
    """Parses JSON text into `proto` and returns it."""
    from google.protobuf import json_format

    json_format.Parse(json_str, proto)
    return proto


def dict_to_proto(json_dict: dict[str, Any], proto: M) -> M:
    """Parses a dict into `proto` and returns it."""
    from google.protobuf import json_format

    json_format.ParseDict(json_dict, proto)
    return proto


__all__ = ["dict_to_proto", "json_to_proto", "proto_to_dict", "proto_to_json"]
