"""ML Metadata values and events: Python scalars in and out of `Value` protos, and the (key, index)
paths of INPUT/OUTPUT events as TFX records them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headrace.metadata.store import Metadata


def event(md: Metadata, kind: int, key: str, index: int) -> Any:
    """An INPUT/OUTPUT event whose path is (key, index), as TFX records it."""
    ev = md.pb.Event(type=kind)
    ev.path.steps.add().key = key
    ev.path.steps.add().index = index
    return ev


def events_by_artifact(md: Metadata, kind: int, arts_by_key: dict[str, list[Any]]) -> list[tuple[Any, Any]]:
    """(artifact, event) pairs, one event per artifact: ML Metadata allows one event of a kind per
    artifact and execution, so an artifact fed to several keys (one channel wired to two inputs)
    gets one event whose path lists every (key, index), as TFX records it."""
    pairs: list[tuple[Any, Any]] = []
    by_id: dict[int, Any] = {}
    for key, arts in arts_by_key.items():
        for index, art in enumerate(arts):
            known = by_id.get(art.id) if art.id is not None else None
            if known is not None:
                known.path.steps.add().key = key
                known.path.steps.add().index = index
                continue
            ev = event(md, kind, key, index)
            if art.id is not None:
                by_id[art.id] = ev
            pairs.append((art, ev))
    return pairs


def event_keys(ev: Any) -> list[tuple[str, int]]:
    """Every (key, index) of an event's path (more than one when an artifact fed several keys)."""
    steps = ev.path.steps
    found: list[tuple[str, int]] = []
    for i, step in enumerate(steps):
        if step.WhichOneof("value") == "key":
            nxt = steps[i + 1] if i + 1 < len(steps) else None
            found.append((step.key, nxt.index if nxt is not None and nxt.WhichOneof("value") == "index" else 0))
    return found


def event_key(ev: Any) -> tuple[str, int]:
    """The first (key, index) of an event's path."""
    keys = event_keys(ev)
    return keys[0] if keys else ("", 0)


_INT32 = range(-(2**31), 2**31)


def set_value(target: Any, value: Any, declared: bool = False) -> None:
    """Writes a Python scalar into an ML Metadata Value.

    ML Metadata's MySQL schema keeps int values in 32 bits, so a wider int in a custom property
    (an epoch-milliseconds time, a large count) is stored as a double when that is exact, else as
    a string; readers turn it back with int(). Declared properties keep their declared type."""
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        if declared or value in _INT32:
            target.int_value = value
        elif abs(value) <= 2**53:
            target.double_value = float(value)
        else:
            target.string_value = str(value)
    elif isinstance(value, float):
        target.double_value = value
    else:
        target.string_value = str(value)


def get_value(v: Any) -> Any:
    """Reads a Python scalar from an ML Metadata Value."""
    kind = v.WhichOneof("value")
    if kind == "int_value":
        return v.int_value
    if kind == "double_value":
        return v.double_value
    if kind == "bool_value":
        return v.bool_value
    if kind == "string_value":
        return v.string_value
    if kind == "struct_value":
        from google.protobuf import json_format

        return json_format.MessageToDict(v.struct_value)
    return None


def filter_string(text: str) -> str:
    """`text` as a string literal in an ML Metadata filter query (ListOptions.filter_query)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
