"""Aliases of a pushed model (``champion``, ``challenger``, any name), promotion through a gate, and
the serving configuration that follows them.

Every change is recorded in ML Metadata (:mod:`headrace.metadata.model_aliases`: who, when, why, from
which version to which) and then the model directory's TF Serving config and KServe manifest are
rewritten from the aliases now set (:mod:`headrace.components.serving.serving_config`). Changes to one
model directory are serialized by a lock file in it, so the files always follow the last change
recorded. Example::

    from headrace.components.serving import aliases
    aliases.set_alias("headrace_runs/penguin/metadata.sqlite", "penguin", "challenger", 3)
    aliases.promote("headrace_runs/penguin/metadata.sqlite", "penguin", 3, soak_seconds=3600)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from typing import Any

from headrace.components.serving import model_registry
from headrace.components.serving.model_registry import ModelRegistryError, PushedVersion
from headrace.components.serving.serving_config import (
    DEFAULT_CANARY_PERCENT,
    KSERVE_MANIFEST,
    LABELS,
    TF_SERVING_CONFIG,
    check_canary_percent,
)
from headrace.components.serving.serving_config import write_serving_configs as _write_files
from headrace.dsl.system_nodes import check_alias
from headrace.metadata.model_aliases import CHALLENGER, CHAMPION, AliasChange, current_aliases
from headrace.metadata.model_aliases import record_alias as _record
from headrace.metadata.store import Metadata

LOCK_FILE = ".headrace-aliases.lock"
SETTINGS_FILE = ".headrace-serving.json"  # storage_uri and canary share for the KServe manifest
# What the registry keeps in a model directory beside the versions (TF Serving ignores names that are
# not version numbers).
OWN_FILES = frozenset({TF_SERVING_CONFIG, KSERVE_MANIFEST, LOCK_FILE, SETTINGS_FILE})


def set_alias(
    metadata: Any, model_name: str, alias: str, version: int, base_directory: str | None = None, reason: str = ""
) -> AliasChange:
    """Points `alias` of the model at `version` (a recorded push still on disk) and rewrites the serving
    configuration.

    Raises:
        DefinitionError: a bad alias name.
        ModelRegistryError: no such version, naming the versions there are.
    """
    check_alias(alias)
    md, model_dir = _store_and_dir(metadata, model_name, base_directory)
    pushed = _pushed(md, model_name, model_dir, version)
    with _locked(model_dir):
        change = _record(md, model_name, alias, int(version), _artifact(md, pushed), reason)
        write_serving_configs(md, model_name, model_dir)
    return change


def remove_alias(
    metadata: Any, model_name: str, alias: str, base_directory: str | None = None, reason: str = ""
) -> AliasChange:
    """Unsets `alias` of the model and rewrites the serving configuration."""
    check_alias(alias)
    md, model_dir = _store_and_dir(metadata, model_name, base_directory)
    if alias not in current_aliases(md, model_name):
        raise ModelRegistryError(f"Model '{model_name}' has no alias '{alias}' set; {_aliases_text(md, model_name)}.")
    with _locked(model_dir):
        change = _record(md, model_name, alias, None, None, reason)
        write_serving_configs(md, model_name, model_dir)
    return change


def aliased_version(metadata: Any, model_name: str, alias: str) -> int:
    """The version `alias` of the model points at now.

    Raises:
        ModelRegistryError: the alias is not set, naming the aliases that are.
    """
    md = model_registry._open(metadata)
    if md is None:
        raise ModelRegistryError("Aliases are recorded in ML Metadata: give the store (a SQLite path or mysql:// URI).")
    change = current_aliases(md, model_name).get(check_alias(alias))
    if change is None or change.version is None:
        raise ModelRegistryError(f"Model '{model_name}' has no alias '{alias}': {_aliases_text(md, model_name)}.")
    return int(change.version)


def promote(
    metadata: Any,
    model_name: str,
    version: int,
    base_directory: str | None = None,
    reason: str = "",
    require_blessing: bool = True,
    soak_seconds: float = 0,
) -> AliasChange:
    """Makes `version` the champion, through the gate the caller states: the push must have been
    blessed (its ModelBlessing and InfraBlessing, when it had them, said blessed) unless
    `require_blessing` is False, and with `soak_seconds` it must have been the challenger at least that
    long. A promoted challenger stops being the challenger. Both changes are recorded, the gate's
    verdict in the reason.

    Raises:
        ModelRegistryError: the gate refuses, saying which condition failed and what to do.
    """
    md, model_dir = _store_and_dir(metadata, model_name, base_directory)
    pushed = _pushed(md, model_name, model_dir, version)
    now = current_aliases(md, model_name)
    champion = now.get(CHAMPION)
    if champion is not None and champion.version == int(version):
        raise ModelRegistryError(f"Version {version} of '{model_name}' is already the champion.")
    gate = []
    if require_blessing:
        if pushed.blessed is not True:
            verdict = "it had no blessing" if pushed.blessed is None else "it was NOT blessed"
            raise ModelRegistryError(
                f"Not promoting version {version} of '{model_name}': {verdict} (the gate requires a blessed push). "
                "Promote a blessed version, or state the gate without it: require_blessing=False "
                "(headrace models promote --no-require-blessing)."
            )
        gate.append("blessed")
    if soak_seconds:
        challenger = now.get(CHALLENGER)
        if challenger is None or challenger.version != int(version):
            raise ModelRegistryError(
                f"Not promoting version {version} of '{model_name}': a soak time needs it to be the challenger, "
                f"and {_aliases_text(md, model_name)}. Make it the challenger first "
                f"(headrace models alias {model_name} challenger {version})."
            )
        soaked = time.time() - challenger.at_ms / 1000
        if soaked < soak_seconds:
            raise ModelRegistryError(
                f"Not promoting version {version} of '{model_name}': it has been the challenger for {soaked:.0f} s, "
                f"the gate asks for {soak_seconds:.0f} s; promote it again in {soak_seconds - soaked:.0f} s."
            )
        gate.append(f"challenger for {soaked:.0f} s (>= {soak_seconds:.0f} s)")
    why = "; ".join(x for x in (reason, f"gate: {', '.join(gate)}" if gate else "no gate") if x)
    with _locked(model_dir):
        change = _record(md, model_name, CHAMPION, int(version), _artifact(md, pushed), why)
        challenger = current_aliases(md, model_name).get(CHALLENGER)
        if challenger is not None and challenger.version == int(version):
            _record(md, model_name, CHALLENGER, None, None, f"promoted to champion (execution #{change.execution_id})")
        write_serving_configs(md, model_name, model_dir)
    return change


def after_rollback(md: Metadata, model_name: str, model_dir: str, done: Any) -> None:
    """A rollback copied an earlier version to a new highest one: the champion (if set) moves to that
    copy, and the serving configuration is rewritten. Called by :func:`model_registry.rollback`."""
    with _locked(model_dir):
        if CHAMPION in current_aliases(md, model_name):
            pushed = _pushed(md, model_name, model_dir, done.version)
            why = f"rollback to version {done.rollback_of} (copied as version {done.version})"
            _record(md, model_name, CHAMPION, done.version, _artifact(md, pushed), why)
        if current_aliases(md, model_name) or has_serving_config(model_dir):
            write_serving_configs(md, model_name, model_dir)


def write_serving_configs(md: Metadata, model_name: str, model_dir: str) -> tuple[str, str]:
    """Rewrites the model directory's TF Serving config and KServe manifest from the aliases set now
    (the caller holds the lock)."""
    versions = {alias: int(c.version) for alias, c in current_aliases(md, model_name).items() if c.version is not None}
    return _write(model_name, model_dir, versions)


def after_push(
    model_name: str, model_dir: str, version: int, alias: str | None = None, promote: bool = False
) -> dict[str, int]:
    """What the Pusher does after it pushed `version`: under the model directory's lock, rewrites its
    serving configuration with the aliases it serves now (read back from its TF Serving config, which
    follows the store) and, with `alias`, that alias pointing at the new version (with `promote`, the
    challenger it pushed then becomes the champion). The Pusher has no
    store: its alias change is recorded on its PushedModel (custom property ``alias``) when its
    execution is published, where :func:`headrace.metadata.model_aliases.alias_history` reads it.

    Returns:
        The aliases the configuration now serves.
    """
    with _locked(model_dir):
        served = aliases_in_config(model_dir)
        if alias is not None:
            served[check_alias(alias)] = int(version)
        if promote:  # the challenger becomes the champion
            served[CHAMPION] = served.pop(CHALLENGER)
        _write(model_name, model_dir, served)
    return served


def has_serving_config(model_dir: str) -> bool:
    """Whether the model directory has a serving configuration to keep up to date."""
    return os.path.exists(os.path.join(model_dir, TF_SERVING_CONFIG))


def aliases_in_config(model_dir: str) -> dict[str, int]:
    """The aliases the model directory's TF Serving config serves ({} if it has none or no config)."""
    path = os.path.join(model_dir, TF_SERVING_CONFIG)
    if not os.path.exists(path):
        return {}
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    with open(path) as f:
        config = text_format.Parse(f.read(), model_server_config_pb2.ModelServerConfig())
    names = {label: alias for alias, label in LABELS.items()}
    return {
        names.get(label, label): int(version)
        for model in config.model_config_list.config
        for label, version in model.version_labels.items()
    }


def _write(model_name: str, model_dir: str, versions: dict[str, int]) -> tuple[str, str]:
    settings = serving_settings(model_dir)
    return _write_files(
        model_name,
        model_dir,
        versions,
        model_registry.serving_version(model_dir),
        storage_uri=settings.get("storage_uri"),
        canary_percent=int(settings.get("canary_traffic_percent", DEFAULT_CANARY_PERCENT)),
    )


def serving_settings(model_dir: str) -> dict[str, Any]:
    """The model directory's KServe settings (storage_uri, canary_traffic_percent), {} if none saved."""
    try:
        with open(os.path.join(model_dir, SETTINGS_FILE)) as f:
            found = json.load(f)
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def save_serving_settings(
    model_dir: str, storage_uri: str | None = None, canary_traffic_percent: int | None = None
) -> None:
    """Saves the KServe settings the next configuration written for this model directory uses."""
    settings = serving_settings(model_dir)
    if storage_uri is not None:
        settings["storage_uri"] = str(storage_uri)
    if canary_traffic_percent is not None:
        settings["canary_traffic_percent"] = check_canary_percent(canary_traffic_percent)
    tmp = os.path.join(model_dir, f"{SETTINGS_FILE}.{os.getpid()}")
    with open(tmp, "w") as f:
        json.dump(settings, f)
    os.replace(tmp, os.path.join(model_dir, SETTINGS_FILE))


def _store_and_dir(metadata: Any, model_name: str, base_directory: str | None) -> tuple[Metadata, str]:
    md = model_registry._open(metadata)
    if md is None:
        raise ModelRegistryError("Aliases are recorded in ML Metadata: give the store (a SQLite path or mysql:// URI).")
    return md, model_registry.find_model_directory(base_directory, model_name, md)


def _pushed(md: Metadata, model_name: str, model_dir: str, version: int) -> PushedVersion:
    """The recorded push of `version` in `model_dir` that is still on disk."""
    found = [
        p
        for p in model_registry.pushed_versions(md, model_name)
        if p.version == int(version) and os.path.normpath(p.model_dir) == os.path.normpath(model_dir) and p.on_disk
    ]
    if not found:
        there = model_registry.versions(model_dir)
        raise ModelRegistryError(
            f"Model '{model_name}' has no pushed version {version} in {model_dir}; versions there: "
            f"{', '.join(map(str, there)) or 'none'} (headrace models list {model_name})."
        )
    return found[-1]


def _artifact(md: Metadata, pushed: PushedVersion) -> Any:
    [art] = md.call(md.store.get_artifacts_by_id, [pushed.artifact_id])
    return art


def _aliases_text(md: Metadata, model_name: str) -> str:
    now = current_aliases(md, model_name)
    return "its aliases: " + ", ".join(f"{a} = {c.version}" for a, c in now.items()) if now else "it has no alias set"


@contextlib.contextmanager
def _locked(model_dir: str) -> Iterator[None]:
    """Serializes alias changes (and the files written after them) of one model directory."""
    with open(os.path.join(model_dir, LOCK_FILE), "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
