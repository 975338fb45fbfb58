"""Cache keys: executor identity AND code, parameters, inputs, headrace version, and the content of
the files the component declares (`ExecutionParameter(fingerprint=True)`).

Editing a function component's body, a helper it calls, an executor class, or a declared file (a
module file, or a `.py` file it imports from its own folder; a file under an input folder) changes
the key, so a stale result is never returned for new code or new data.
"""

from __future__ import annotations

import hashlib
from typing import Any

from headrace.compiler.ir import NodeIR
from headrace.fingerprint import content_fingerprint
from headrace.types.canonical_json import dumps_canonical
from headrace.version import __version__


def code_fingerprint(node: NodeIR) -> str:
    """A digest of the code a node runs: the fingerprint the compiler took from the live function
    or class (see headrace.dsl.user_code), and the image and Docker settings it runs with."""
    executor = node.executor
    parts: list[str] = [str(executor.get("code", ""))]
    if executor.get("kind") == "container" or executor.get("image"):  # the image is part of the code
        parts.append(dumps_canonical([executor.get("image"), executor.get("command")]))
    if executor.get("docker"):  # volumes, environment, user: they can change what the step does
        parts.append(dumps_canonical(executor["docker"]))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _strip_payloads(value: Any) -> Any:
    """Parameters without the pickled payload of user code shipped in them (an Arrow reader
    function, say): its `code` fingerprint is what counts, as for executors."""
    if isinstance(value, dict):
        if "qualname" in value and "code" in value:
            return {k: v for k, v in value.items() if k != "payload"}
        return {k: _strip_payloads(v) for k, v in value.items()}
    return value


def input_fingerprint(node: NodeIR) -> str | None:
    """The content fingerprint of the files and folders the node's declared parameters name (see
    headrace.fingerprint), or None if it declares none."""
    if not node.file_inputs:
        return None
    return content_fingerprint([str(node.parameters[k]) for k in node.file_inputs])


def cache_key_parts(node: NodeIR, input_ids: dict[str, list[int]], fingerprint: str | None = None) -> dict[str, Any]:
    """What the cache key of running `node` on the input artifacts `input_ids` is a digest of (see
    `cache_key`); shown part by part where a person asks why a step was, or was not, cached."""
    parts = {
        "headrace": __version__,
        "component_type": node.component_type,
        # The payload is left out: its pickle carries file names and line numbers; `code` is what counts.
        "executor": {k: v for k, v in node.executor.items() if k != "payload"},
        "code": code_fingerprint(node),
        "parameters": _strip_payloads(node.parameters),
        "inputs": input_ids,
        "outputs": {k: o.artifact_type.name for k, o in node.outputs.items()},
    }
    if node.file_inputs:
        parts["files"] = fingerprint or input_fingerprint(node)
    return parts


def cache_key(node: NodeIR, input_ids: dict[str, list[int]], fingerprint: str | None = None) -> str:
    """The cache key of running `node` on the input artifacts `input_ids` and, for a node that declares
    files it reads from outside the store, on their fingerprint (`fingerprint` if the caller computed
    it already, else computed here)."""
    return hashlib.sha256(dumps_canonical(cache_key_parts(node, input_ids, fingerprint)).encode()).hexdigest()
