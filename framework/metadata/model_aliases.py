"""Model aliases in ML Metadata: named pointers (``champion``, ``challenger``, any name) to a pushed
version of a model, and their history.

Each change is one execution of type ``headrace.ModelAlias`` written in one ML Metadata call: the
model, the alias, the version it now points to (none when the alias was removed), the version it
pointed to before, who, when, why, and an INPUT event to the PushedModel of that version. An
alias's current version is its latest change (the highest execution id), so an alias always points
to exactly one version or is unset: there is no state with two champions. Concurrent changes are
each recorded; the one recorded last wins (the registry serializes its changes with a file lock so
that the serving configuration it writes follows the same order).

This module only reads and writes the records; :mod:`headrace.components.serving.model_registry`
checks the versions exist and writes what model servers read.
"""

from __future__ import annotations

import dataclasses
import getpass
import socket

from headrace.dsl.system_nodes import check_alias
from headrace.metadata.store import Metadata
from headrace.metadata.values import event, get_value, set_value

ALIAS_EXECUTION = "headrace.ModelAlias"
PUSHED_MODEL = "PushedModel"
CHAMPION, CHALLENGER = "champion", "challenger"


@dataclasses.dataclass
class AliasChange:
    """One recorded alias change.

    Attributes:
        model_name: The model.
        alias: The alias.
        version: The version it points to from then on; None: the alias was removed.
        previous: The version it pointed to before (None: it was unset).
        at_ms: When (milliseconds since the epoch).
        user: Who (the OS user of the process that made the change).
        reason: Why (free text: a promotion gate's verdict, a rollback, the user's words).
        execution_id: The ``headrace.ModelAlias`` execution.
        pushed_artifact_id: The PushedModel of `version`, when one is recorded.
    """

    model_name: str
    alias: str
    version: int | None
    previous: int | None
    at_ms: int
    user: str
    reason: str
    execution_id: int
    pushed_artifact_id: int | None = None


def alias_history(md: Metadata, model_name: str | None = None) -> list[AliasChange]:
    """Every alias change (of one model, or of all), oldest first: the ``headrace.ModelAlias``
    executions, and the pushes a Pusher made as an alias (``custom_config={'alias': ...}``: a LIVE
    PushedModel with the custom property ``alias``, recorded when the Pusher's execution was
    published, so a Pusher that failed changed no alias). Each change's `previous` is the version
    the alias had just before it in this order."""
    changes = _recorded_changes(md, model_name) + _pushes_as_alias(md, model_name)
    changes.sort(key=lambda c: (c.at_ms, c.execution_id == 0, c.execution_id, c.pushed_artifact_id or 0))
    state: dict[tuple[str, str], int | None] = {}
    for c in changes:
        c.previous = state.get((c.model_name, c.alias))
        state[(c.model_name, c.alias)] = c.version
    return changes


def _pushes_as_alias(md: Metadata, model_name: str | None) -> list[AliasChange]:
    found = []
    for a in md.call(md.store.get_artifacts_by_type, PUSHED_MODEL):
        props = {k: get_value(v) for k, v in a.custom_properties.items()}
        if a.state != md.pb.Artifact.LIVE or props.get("pushed") != 1 or not props.get("alias"):
            continue
        if model_name is not None and props.get("model_name") != model_name:
            continue
        name, version, at = (
            str(props.get("model_name", "")),
            _int_or_none(props.get("pushed_version")),
            a.last_update_time_since_epoch,
        )
        pushed = f"pushed as {props['alias']} (PushedModel #{a.id})"
        found.append(AliasChange(name, str(props["alias"]), version, None, int(at), "", pushed, 0, a.id))
        if props.get("promoted") == 1:  # the Pusher's gate (its blessings) promoted the challenger at once
            why = f"promoted by the Pusher, its blessings the gate (PushedModel #{a.id})"
            found.append(AliasChange(name, CHAMPION, version, None, int(at), "", why, 0, a.id))
            found.append(AliasChange(name, CHALLENGER, None, None, int(at), "", why, 0, a.id))
    return found


def _recorded_changes(md: Metadata, model_name: str | None) -> list[AliasChange]:
    executions = md.call(md.store.get_executions_by_type, ALIAS_EXECUTION)  # [] while the type is unknown
    changes = []
    for ex in sorted(executions, key=lambda e: e.id):
        props = {k: get_value(v) for k, v in ex.custom_properties.items()}
        if model_name is not None and props.get("model_name") != model_name:
            continue
        changes.append(
            AliasChange(
                model_name=str(props.get("model_name", "")),
                alias=str(props.get("alias", "")),
                version=_int_or_none(props.get("version")),
                previous=_int_or_none(props.get("previous_version")),
                at_ms=int(ex.create_time_since_epoch),
                user=str(props.get("user", "")),
                reason=str(props.get("reason", "")),
                execution_id=ex.id,
            )
        )
    if changes:
        inputs = md.call(md.store.get_events_by_execution_ids, [c.execution_id for c in changes])
        pushed = {e.execution_id: e.artifact_id for e in inputs if e.type == md.pb.Event.INPUT}
        for c in changes:
            c.pushed_artifact_id = pushed.get(c.execution_id)
    return changes


def current_aliases(md: Metadata, model_name: str) -> dict[str, AliasChange]:
    """Each alias of the model that is set now, with the change that set it."""
    latest: dict[str, AliasChange] = {}
    for change in alias_history(md, model_name):
        latest[change.alias] = change
    return {alias: c for alias, c in sorted(latest.items()) if c.version is not None}


def record_alias(
    md: Metadata,
    model_name: str,
    alias: str,
    version: int | None,
    pushed_artifact: object | None = None,
    reason: str = "",
) -> AliasChange:
    """Records that `alias` of `model_name` now points to `version` (None removes it), in one call.

    Args:
        pushed_artifact: The PushedModel proto of that version, recorded as the change's input.
    """
    check_alias(alias)
    before = current_aliases(md, model_name).get(alias)
    ex = md.pb.Execution(type_id=md.execution_type_id(ALIAS_EXECUTION), last_known_state=md.pb.Execution.COMPLETE)
    values = {
        "model_name": model_name,
        "alias": alias,
        "version": version,
        "previous_version": before.version if before is not None else None,
        "user": _user(),
        "host": socket.gethostname(),
        "reason": reason,
    }
    for key, value in values.items():
        if value is not None and value != "":
            set_value(ex.custom_properties[key], value)
    pairs = [(pushed_artifact, event(md, md.pb.Event.INPUT, "pushed_model", 0))] if pushed_artifact is not None else []
    execution_id, _, _ = md.call(md.store.put_execution, ex, pairs, [])
    [recorded] = [c for c in alias_history(md, model_name) if c.execution_id == execution_id]
    return recorded


def _int_or_none(value: object) -> int | None:
    return None if value is None or value == "" else int(str(value))


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
