"""TFX's `tfx.orchestration.portable.mlmd.execution_lib`: an execution's artifacts, read from the store."""

from __future__ import annotations

from typing import Any

from headrace.metadata.store import Metadata as _StoreHandle
from headrace.metadata.values import event_keys
from headrace.types import Artifact


def _store_handle(metadata: Any) -> _StoreHandle:
    if isinstance(metadata, _StoreHandle):
        return metadata
    handle = getattr(metadata, "handle", None)
    if isinstance(handle, _StoreHandle):
        return handle
    raise TypeError(
        "Expected headrace.tfx.orchestration.metadata.Metadata (inside `with`) or headrace.metadata.Metadata, "
        f"got {type(metadata).__name__}."
    )


def _artifacts_by_event(metadata: Any, execution_id: int, kinds: set[str]) -> dict[str, list[Artifact]]:
    md = _store_handle(metadata)
    wanted = {md.pb.Event.Type.Value(k) for k in kinds if k in md.pb.Event.Type.keys()}
    events = [e for e in md.call(md.store.get_events_by_execution_ids, [execution_id]) if e.type in wanted]
    if not events:
        return {}
    protos = {a.id: a for a in md.call(md.store.get_artifacts_by_id, sorted({e.artifact_id for e in events}))}
    placed: dict[str, list[tuple[int, Artifact]]] = {}
    for ev in events:
        proto = protos.get(ev.artifact_id)
        if proto is None:
            continue
        for key, index in event_keys(ev):
            placed.setdefault(key, []).append((index, md.artifact_from_proto(proto)))
    return {key: [art for _, art in sorted(pairs, key=lambda p: p[0])] for key, pairs in placed.items()}


def get_output_artifacts(metadata: Any, execution_id: int) -> dict[str, list[Artifact]]:
    """The output artifacts of an execution by output key, in event-index order, as headrace artifact classes.

    Args:
        metadata: A `Metadata` handle inside `with`.
        execution_id: The execution's id ({} for an unknown one).
    """
    return _artifacts_by_event(metadata, execution_id, {"OUTPUT", "INTERNAL_OUTPUT", "DECLARED_OUTPUT"})


def get_input_artifacts(metadata: Any, execution_id: int) -> dict[str, list[Artifact]]:
    """The input artifacts of an execution by input key (see `get_output_artifacts`)."""
    return _artifacts_by_event(metadata, execution_id, {"INPUT", "INTERNAL_INPUT", "DECLARED_INPUT"})


__all__ = ["get_input_artifacts", "get_output_artifacts"]
