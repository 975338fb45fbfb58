"""A component's config parameter given as one of TFX's config protos or as its dict: turned into the
proto-JSON dict the IR carries, and checked against the message at definition time."""

from __future__ import annotations

import copy
import re
from typing import Any

from headrace.errors import DefinitionError

_UNKNOWN_FIELD = re.compile(r'Message type "([\w.]+)" has no field named "(\w+)" at "([\w.\[\]]+)"')


def as_dict(owner: str, name: str, config: Any) -> dict[str, Any] | None:
    """A config as its proto-JSON dict (field names as in the .proto), from a proto message (TFX's
    `example_gen_pb2.Output(...)`, headrace.components.proto) or a dict of the same shape."""
    if config is None:
        return None
    _not_a_placeholder(owner, name, config)
    if hasattr(config, "DESCRIPTOR"):
        from google.protobuf import json_format

        return json_format.MessageToDict(config, preserving_proto_field_name=True)
    if isinstance(config, dict):
        return copy.deepcopy(config)
    raise DefinitionError(
        f"{owner}: {name} must be a proto message (e.g. example_gen_pb2.{name.split('_')[0].title()}(...)) or a "
        f"dict of the same fields, got {type(config).__name__}."
    )


def _not_a_placeholder(owner: str, name: str, value: Any) -> None:
    """A config proto is checked and converted when the pipeline is defined: an upstream value resolved only
    when the node runs (`upstream.outputs['x'].future()[0].value`) cannot be one yet."""
    from headrace.dsl.placeholders import Placeholder

    if isinstance(value, Placeholder):
        raise DefinitionError(
            f"{owner}: {name} was given {value!r}, a value known only when the node runs; headrace's standard "
            f"components take {name} when the pipeline is defined (it is checked against its proto then). Pass "
            "a constant, or read the upstream value in a function component (a Parameter[...] takes it)."
        )


def config_dict(owner: str, name: str, value: Any, message: type) -> dict[str, Any] | None:
    """A component's config parameter as its proto-JSON dict (field names as in the .proto), checked
    against `message` (one of this module's classes) at definition time.

    `value` is None (returned as is), a `message` (headrace's class, or another class of the same full
    name, e.g. a real TFX's `infra_validator_pb2.ServingSpec`: converted through bytes), or a dict of its
    fields (.proto or JSON names). Anything else, a different message (TFMA's `ModelSpec` for
    BulkInferrer's `tfx.components.bulkinferrer.ModelSpec`), an unknown field or a wrong value type is a
    DefinitionError naming `owner`, the parameter and the fix.
    """
    from google.protobuf import json_format

    from headrace.errors import did_you_mean

    if value is None:
        return None
    _not_a_placeholder(owner, name, value)
    full = message.DESCRIPTOR.full_name  # type: ignore[attr-defined]
    short = full.rsplit(".", 1)[-1]
    hint = f"pass tfx.v1.proto.{short}(...) (headrace.components.proto.{short}), its dict, or None"
    descriptor = getattr(value, "DESCRIPTOR", None)
    if descriptor is not None and hasattr(value, "SerializeToString"):
        if descriptor.full_name != full:
            raise DefinitionError(
                f"{owner}: {name} must be a {full}, got a {descriptor.full_name}"
                + (" (same short name, another proto)" if descriptor.name == short else "")
                + f"; {hint}."
            )
        parsed = value if isinstance(value, message) else message.FromString(value.SerializeToString())  # type: ignore[attr-defined]
    elif isinstance(value, dict):
        try:
            parsed = json_format.ParseDict(value, message())
        except json_format.ParseError as e:
            unknown = _UNKNOWN_FIELD.search(str(e))
            if unknown is None:
                raise DefinitionError(f"{owner}: {name} is not a valid {full}: {e} ({hint}).") from None
            owner_type, field, where = unknown.groups()
            from headrace.components.proto import DESCRIPTOR_POOL

            fields = [f.name for f in DESCRIPTOR_POOL.FindMessageTypeByName(owner_type).fields]
            raise DefinitionError(
                f"{owner}: {name} has no field '{field}' (at {where}; {owner_type} has {', '.join(fields)})."
                f"{did_you_mean(field, fields)}"
            ) from None
    else:
        raise DefinitionError(f"{owner}: {name} must be a {full} message; got {type(value).__name__}: {hint}.")
    result: dict[str, Any] = json_format.MessageToDict(parsed, preserving_proto_field_name=True)
    return result


__all__ = ["as_dict", "config_dict"]
