"""Pushed models: the versioned serving directory TensorFlow Serving watches, and its record in ML Metadata.

TensorFlow Serving serves a model from a *model directory* whose children are integer versions
(``<model_dir>/1/saved_model.pb``, ``<model_dir>/2/...``) and, by default (the "latest" version
policy), serves the highest version present. This module owns that layout for the Pusher and the
``headrace models`` commands:

* :func:`push_version` copies a model into the next version, atomically: the copy goes into a
  hidden temporary directory beside the versions (TF Serving ignores names that are not numbers)
  and is renamed into place only when complete, so a crash never leaves a half-written version,
  and two concurrent pushes never share a number (the loser of the rename takes the next one).
* :func:`rollback` re-points serving to an earlier version by copying it to a new highest version,
  recorded in ML Metadata as an execution whose input is the earlier push and whose output is the
  new one, so the audit trail says "version 4 is a rollback to version 2, by whom, when".
* :func:`pushed_versions` reads every push (and rollback) back from ML Metadata.

Only local filesystems are supported: the atomicity rests on a POSIX directory rename.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import re
import shutil
import socket
import uuid
from typing import Any

from headrace.errors import DefinitionError, HeadraceError
from headrace.metadata.store import Metadata
from headrace.metadata.values import get_value, set_value

PUSHED_MODEL = "PushedModel"
ROLLBACK_EXECUTION = "headrace.ModelRollback"
TMP_PREFIX = ".headrace-push-"
_VERSION_RE = re.compile(r"^[0-9]+$")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_MAX_ATTEMPTS = 1000

# Custom properties of a PushedModel (the first three are TFX's).
PUSHED = "pushed"
PUSHED_DESTINATION = "pushed_destination"
PUSHED_VERSION = "pushed_version"
MODEL_NAME = "model_name"
MODEL_DIR = "model_base_path"  # TF Serving's name for the directory holding the versions
ROLLBACK_OF = "rollback_of_version"


class ModelRegistryError(HeadraceError):
    """A push or rollback cannot be done (no such version, a destination outside the filesystem)."""


def check_model_name(name: str) -> str:
    """A model name usable as one directory level: no '/', not '.' or '..', not empty.

    Raises:
        DefinitionError: naming the bad value.
    """
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise DefinitionError(
            f"Model name {name!r} cannot be a directory name inside the push destination: use letters, digits, "
            "'-', '_' or '.', without '/' (e.g. 'penguin')."
        )
    if len(name.encode("utf-8")) > 255:  # a longer name fails later as an OSError, after the model was copied
        raise DefinitionError(f"Model name {name[:40]!r}... is {len(name)} characters long; use at most 255 bytes.")
    return name


def model_directory(base_directory: str, model_name: str | None = None) -> str:
    """The directory holding the versions: ``<base_directory>/<model_name>``, or `base_directory`
    itself when no model name is given (TFX's layout: `base_directory` is TF Serving's model base path)."""
    if _SCHEME_RE.match(str(base_directory)):
        raise ModelRegistryError(
            f"Push destination {base_directory!r} is not on the local filesystem; headrace pushes to local "
            "(or mounted) directories only, where a directory rename is atomic."
        )
    if "\0" in os.fspath(base_directory):
        raise DefinitionError(f"Push destination {base_directory!r} holds a NUL byte; give a directory path.")
    base = os.path.abspath(os.fspath(base_directory))
    if model_name is None:
        return base
    return os.path.join(base, check_model_name(model_name))


def versions(model_dir: str) -> list[int]:
    """The integer versions in a model directory, ascending (none if it does not exist)."""
    try:
        names = os.listdir(model_dir)
    except FileNotFoundError:
        return []
    return sorted(int(n) for n in names if _VERSION_RE.match(n) and os.path.isdir(os.path.join(model_dir, n)))


def serving_version(model_dir: str) -> int | None:
    """The version TF Serving serves under its default ("latest") policy: the highest one."""
    found = versions(model_dir)
    return found[-1] if found else None


def push_version(source_dir: str, model_dir: str, min_version: int = 1) -> tuple[int, str]:
    """Copies `source_dir` into the next version of `model_dir`, atomically.

    The version is one more than the highest present (at least `min_version`). The copy is
    written to a hidden temporary directory in `model_dir`, flushed to disk, and renamed into
    place when complete; if the copy fails, the temporary directory is removed and nothing
    appears (one left by a killed process is removed by a later push on the same host). If
    another push takes the number first, the next number is tried.

    Returns:
        (version, the version's directory).
    """
    if not os.path.isdir(source_dir):
        raise ModelRegistryError(f"Nothing to push: {source_dir} is not a directory.")
    if not any(files for _, _, files in os.walk(source_dir)):
        raise ModelRegistryError(f"Nothing to push: {source_dir} holds no files.")
    os.makedirs(model_dir, exist_ok=True)
    _remove_abandoned(model_dir)
    tmp = os.path.join(model_dir, f"{TMP_PREFIX}{_HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        shutil.copytree(source_dir, tmp, symlinks=False)
        _fsync_tree(tmp)  # the data is on disk before the version's name is, even across a power loss
        version = max(min_version, (serving_version(model_dir) or 0) + 1)
        for _ in range(_MAX_ATTEMPTS):
            target = os.path.join(model_dir, str(version))
            if not os.path.lexists(target):
                try:
                    os.rename(tmp, target)  # fails if another push created `target` (a non-empty directory)
                    _fsync(model_dir)
                    return version, target
                except OSError:
                    if not os.path.lexists(target):
                        raise
            version = max(version + 1, (serving_version(model_dir) or 0) + 1)
        raise ModelRegistryError(f"Could not find a free version number in {model_dir}.")
    finally:
        if os.path.lexists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


_HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"


def _remove_abandoned(model_dir: str) -> None:
    """Removes temporary copies whose process (on this host) is gone: a push killed mid-copy."""
    for name in os.listdir(model_dir):
        match = re.match(rf"^{re.escape(TMP_PREFIX)}([A-Za-z0-9]+)-([0-9]+)-[0-9a-f]+$", name)
        if match is None or match.group(1) != _HOST:
            continue
        try:
            os.kill(int(match.group(2)), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(model_dir, name), ignore_errors=True)
        except OSError:
            pass  # alive, under another user


def _fsync_tree(top: str) -> None:
    for root, _, files in os.walk(top):
        for name in files:
            _fsync(os.path.join(root, name))
        _fsync(root)


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclasses.dataclass
class PushedVersion:
    """One push (or rollback) as recorded in ML Metadata.

    Attributes:
        model_name: The model.
        version: Its version number in the model directory.
        destination: The version's directory.
        model_dir: The directory holding the versions (TF Serving's model base path).
        pushed_ms: When it was recorded (milliseconds since the epoch).
        blessed: The ModelBlessing's and InfraBlessing's verdict (True when every given blessing
            said blessed), None when the push had no blessing (or was a rollback).
        run_id: The pipeline run that pushed it ('' for a rollback).
        artifact_id: The PushedModel artifact.
        rollback_of: The version this one is a copy of, for a rollback.
        serving: Whether it is the highest version on disk now, i.e. what TF Serving serves.
        on_disk: Whether its directory still exists.
    """

    model_name: str
    version: int
    destination: str
    model_dir: str
    pushed_ms: int
    blessed: bool | None
    run_id: str
    artifact_id: int
    rollback_of: int | None = None
    serving: bool = False
    on_disk: bool = False


def pushed_versions(md: Metadata, model_name: str | None = None) -> list[PushedVersion]:
    """Every recorded push (pushed=1) and rollback, oldest first, optionally of one model."""
    arts = md.call(md.store.get_artifacts_by_type, PUSHED_MODEL)  # [] while the type is unknown
    pushed = []
    for a in arts:
        props = {k: get_value(v) for k, v in a.custom_properties.items()}
        if a.state != md.pb.Artifact.LIVE or props.get(PUSHED) != 1:
            continue
        if not _VERSION_RE.match(str(props.get(PUSHED_VERSION, ""))):
            continue  # not a TF Serving version number (recorded by another pusher)
        name = str(props.get(MODEL_NAME) or os.path.basename(os.path.dirname(str(props.get(PUSHED_DESTINATION, "")))))
        if model_name is not None and name != model_name:
            continue
        pushed.append((a, props, name))
    if not pushed:
        return []
    events = md.call(md.store.get_events_by_artifact_ids, [a.id for a, _, _ in pushed])
    producer: dict[int, int] = {}  # the first execution that output it (later ones are cache hits)
    for e in sorted(events, key=lambda e: -e.execution_id):
        if e.type == md.pb.Event.OUTPUT:
            producer[e.artifact_id] = e.execution_id
    executions = {e.id: e for e in md.call(md.store.get_executions_by_id, sorted(set(producer.values())))}
    blessings = _blessings(md, list(executions))
    out = []
    for a, props, name in pushed:
        dest = str(props.get(PUSHED_DESTINATION, ""))
        model_dir = str(props.get(MODEL_DIR) or os.path.dirname(dest))
        ex = executions.get(producer.get(a.id, -1))
        run_id = ""
        if ex is not None and "run_id" in ex.custom_properties:
            run_id = str(get_value(ex.custom_properties["run_id"]))
        rollback_of = props.get(ROLLBACK_OF)
        out.append(
            PushedVersion(
                model_name=name,
                version=int(props[PUSHED_VERSION]),
                destination=dest,
                model_dir=model_dir,
                pushed_ms=int(a.create_time_since_epoch),
                blessed=blessings.get(ex.id) if ex is not None and rollback_of is None else None,
                run_id=run_id,
                artifact_id=a.id,
                rollback_of=int(rollback_of) if rollback_of is not None else None,
                on_disk=os.path.isdir(dest),
            )
        )
    for p in out:
        p.serving = p.on_disk and serving_version(p.model_dir) == p.version
    return sorted(out, key=lambda p: (p.pushed_ms, p.artifact_id))


def _blessings(md: Metadata, execution_ids: list[int]) -> dict[int, bool]:
    """Per execution: whether every ModelBlessing / InfraBlessing it read said blessed."""
    if not execution_ids:
        return {}
    events = [e for e in md.call(md.store.get_events_by_execution_ids, execution_ids) if e.type == md.pb.Event.INPUT]
    arts = {a.id: a for a in md.call(md.store.get_artifacts_by_id, sorted({e.artifact_id for e in events}))}
    verdicts: dict[int, bool] = {}
    for e in events:
        a = arts.get(e.artifact_id)
        if a is None or (a.type or md.artifact_type_name(a.type_id)) not in ("ModelBlessing", "InfraBlessing"):
            continue
        blessed = "blessed" in a.custom_properties and get_value(a.custom_properties["blessed"]) == 1
        verdicts[e.execution_id] = verdicts.get(e.execution_id, True) and blessed
    return verdicts


def find_model_directory(base_directory: str | None, model_name: str, md: Metadata | None = None) -> str:
    """Where a model's versions are: ``<base_directory>/<model_name>`` if that exists, else
    `base_directory` itself if it is named after the model (TFX's layout); without a base
    directory, the one its latest recorded push went to.

    Raises:
        ModelRegistryError: if none of these holds versions, saying what was looked at.
    """
    check_model_name(model_name)
    if base_directory is not None:
        nested = model_directory(base_directory, model_name)
        if versions(nested):
            return nested
        flat = model_directory(base_directory)
        if os.path.basename(flat) == model_name and versions(flat):
            return flat
        raise ModelRegistryError(
            f"No versions of model '{model_name}' under {flat}: looked in {nested} and {flat}. "
            "Give the directory the Pusher pushed to (its push_destination's base_directory)."
        )
    if md is None:
        raise ModelRegistryError(f"Where is model '{model_name}'? Give its base directory, or a metadata store.")
    recorded = pushed_versions(md, model_name)
    if not recorded:
        names = sorted({p.model_name for p in pushed_versions(md)})
        raise ModelRegistryError(
            f"No pushes of model '{model_name}' recorded in {md.describe()}. "
            + (f"Models pushed: {', '.join(names)}." if names else "No model was pushed yet.")
        )
    return recorded[-1].model_dir


@dataclasses.dataclass
class Rollback:
    """The outcome of :func:`rollback`.

    Attributes:
        model_name: The model.
        version: The new version (now the highest, so TF Serving serves it).
        rollback_of: The earlier version it is a copy of.
        previous_version: The version served before the rollback.
        destination: The new version's directory.
        artifact_id: The PushedModel artifact recorded for it (None without a store).
        execution_id: The rollback execution recorded (None without a store).
    """

    model_name: str
    version: int
    rollback_of: int
    previous_version: int | None
    destination: str
    artifact_id: int | None = None
    execution_id: int | None = None


def rollback(
    base_directory: str | None,
    model_name: str,
    version: int,
    metadata: Any = None,
    reason: str = "",
) -> Rollback:
    """Re-points TensorFlow Serving to an earlier version of a model.

    TF Serving's default version policy serves the highest version number in the model directory
    and picks up new versions as they appear, so rolling back *copies* version `version` to a new
    highest version (atomically, as a push is written); older versions are left untouched, and the
    history only grows. It works with a TF Serving started with just ``--model_base_path``, and
    the step is auditable twice over: the new version directory is a byte copy of the chosen one,
    and ML Metadata records an execution of type ``headrace.ModelRollback`` (who, when, from
    which version, why) whose input is the PushedModel of the chosen version (when it was pushed
    by a pipeline of that store) and whose output is a new PushedModel with ``pushed=1``,
    ``pushed_version`` the new number and ``rollback_of_version`` the chosen one.

    Args:
        base_directory: The Pusher's push destination (``base_directory``): the model's versions
            are in ``<base_directory>/<model_name>`` or, in TFX's layout, in `base_directory`
            itself. None: the directory the model's latest recorded push went to (needs `metadata`).
        model_name: The model.
        version: The version to serve again.
        metadata: Where to record it: a :class:`headrace.metadata.Metadata`, an ML Metadata
            connection config, or a SQLite path / ``mysql://`` URI. None records nothing.
        reason: Free text kept on the rollback execution.

    Returns:
        A :class:`Rollback` naming the new version.

    Raises:
        ModelRegistryError: if the version does not exist, or is already the one served.
    """
    md = _open(metadata)
    model_dir = find_model_directory(base_directory, model_name, md)
    present = versions(model_dir)
    if int(version) not in present:
        raise ModelRegistryError(
            f"Model '{model_name}' has no version {version} in {model_dir}; versions: "
            f"{', '.join(map(str, present)) or 'none'}."
        )
    current = present[-1]
    if int(version) == current:
        raise ModelRegistryError(
            f"Version {version} of '{model_name}' is already the one served (the highest in {model_dir})."
        )
    new_version, dest = push_version(os.path.join(model_dir, str(version)), model_dir)
    result = Rollback(model_name, new_version, int(version), current, dest)
    if md is not None:
        from headrace.components.serving.aliases import after_rollback

        result.artifact_id, result.execution_id = _record_rollback(md, result, model_dir, reason)
        after_rollback(md, model_name, model_dir, result)  # the champion alias follows; serving configs
    return result


def _open(metadata: Any) -> Metadata | None:
    if metadata is None or isinstance(metadata, Metadata):
        return metadata
    if isinstance(metadata, (str, os.PathLike)):
        from headrace.metadata.config import connection_config_from_uri

        return Metadata(connection_config_from_uri(os.fspath(metadata)))
    return Metadata(metadata)


def _record_rollback(md: Metadata, done: Rollback, model_dir: str, reason: str) -> tuple[int, int]:
    """One transaction: the rollback execution, its input (the earlier push, if recorded) and output."""
    art = md.pb.Artifact(type_id=md.artifact_type_id(PUSHED_MODEL, {}), uri=done.destination, state=md.pb.Artifact.LIVE)
    for key, value in {
        PUSHED: 1,
        PUSHED_DESTINATION: done.destination,
        PUSHED_VERSION: str(done.version),
        MODEL_NAME: done.model_name,
        MODEL_DIR: model_dir,
        ROLLBACK_OF: done.rollback_of,
    }.items():
        set_value(art.custom_properties[key], value)
    ex = md.pb.Execution(type_id=md.execution_type_id(ROLLBACK_EXECUTION), last_known_state=md.pb.Execution.COMPLETE)
    for key, value in {
        MODEL_NAME: done.model_name,
        MODEL_DIR: model_dir,
        "rollback_of_version": done.rollback_of,
        "previous_version": done.previous_version,
        "new_version": done.version,
        "user": _user(),
        "reason": reason,
    }.items():
        if value is not None and value != "":
            set_value(ex.custom_properties[key], value)
    output = md.pb.Event(type=md.pb.Event.OUTPUT)
    output.path.steps.add().key = "pushed_model"
    output.path.steps.add().index = 0
    pairs: list[tuple[Any, Any]] = []
    earlier = [
        p
        for p in pushed_versions(md, done.model_name)
        if p.version == done.rollback_of and os.path.normpath(p.model_dir) == os.path.normpath(model_dir)
    ]
    if earlier:
        [source] = md.call(md.store.get_artifacts_by_id, [earlier[-1].artifact_id])
        event = md.pb.Event(type=md.pb.Event.INPUT)
        event.path.steps.add().key = "pushed_model"
        event.path.steps.add().index = 0
        pairs.append((source, event))
    pairs.append((art, output))
    execution_id, artifact_ids, _ = md.call(md.store.put_execution, ex, pairs, [])
    return int(artifact_ids[-1]), int(execution_id)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
