"""Cache keys: executor identity AND code, parameters, inputs, headrace version.

Editing a function component's body, a helper it calls, an executor class, or a `module_file`
changes the key, so a stale result is never returned for new code.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from headrace.compiler.ir import NodeIR
from headrace.types.artifact import dumps_canonical
from headrace.version import __version__

_FILE_CACHE: dict[tuple[str, int, int], str] = {}


def _file_digest(path: str) -> str:
    st = os.stat(path)
    key = (path, st.st_mtime_ns, st.st_size)
    found = _FILE_CACHE.get(key)
    if found is None:
        with open(path, "rb") as f:
            found = hashlib.sha256(f.read()).hexdigest()
        _FILE_CACHE[key] = found
    return found


def code_fingerprint(node: NodeIR) -> str:
    """A digest of the code a node runs: the fingerprint the compiler took from the live function
    or class (see headrace.dsl.user_code), plus the content of a `module_file` parameter."""
    executor = node.executor
    parts: list[str] = [str(executor.get("code", ""))]
    if executor.get("kind") == "container":
        parts.append(dumps_canonical([executor.get("image"), executor.get("command")]))
    module_file = node.parameters.get("module_file")
    if isinstance(module_file, str) and os.path.isfile(module_file):
        parts.append(_file_digest(module_file))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def files_fingerprint(paths: list[str]) -> str:
    """A digest of the files under `paths` (each a file or a folder, walked recursively): their
    relative names, sizes and modification times. Hidden and `_`-prefixed names are left out, as
    the readers leave them out. A missing path counts as missing, so creating it changes the key."""
    h = hashlib.sha256()
    for root in paths:
        h.update(f"\0root:{root}".encode())
        if os.path.isfile(root):
            st = os.stat(root)
            h.update(f"|{st.st_size}|{st.st_mtime_ns}".encode())
            continue
        if not os.path.isdir(root):
            h.update(b"|missing")
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
            for name in sorted(filenames):
                if name.startswith((".", "_")):
                    continue
                path = os.path.join(dirpath, name)
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    continue
                h.update(f"\0{os.path.relpath(path, root)}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()


def _strip_payloads(value: Any) -> Any:
    """Parameters without the pickled payload of user code shipped in them (an Arrow reader
    function, say): its `code` fingerprint is what counts, as for executors."""
    if isinstance(value, dict):
        if "qualname" in value and "code" in value:
            return {k: v for k, v in value.items() if k != "payload"}
        return {k: _strip_payloads(v) for k, v in value.items()}
    return value


def cache_key(node: NodeIR, input_ids: dict[str, list[int]]) -> str:
    """The cache key of running `node` on the input artifacts `input_ids` (and, for a node that
    reads files from outside the store, on those files' fingerprint)."""
    payload = {
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
        payload["files"] = files_fingerprint([str(node.parameters[k]) for k in node.file_inputs])
    return hashlib.sha256(dumps_canonical(payload).encode()).hexdigest()
