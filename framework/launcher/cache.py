"""Cache keys: executor identity AND code, parameters, inputs, headrace version.

Editing a function component's body, a helper it calls, an executor class, or a `module_file`
(or a `.py` file it imports from its own folder) changes the key, so a stale result is never
returned for new code.
"""

from __future__ import annotations

import ast
import hashlib
import os
from typing import Any

from headrace.compiler.ir import NodeIR
from headrace.types.canonical_json import dumps_canonical
from headrace.version import __version__

_FILE_CACHE: dict[tuple[str, int, int, int, int], str] = {}


def _file_digest(path: str) -> str:
    st = os.stat(path)
    # The change time and inode too: a same-sized new version that keeps the old mtime (`cp -p`,
    # `rsync -t`, `tar x`) would otherwise be answered with the old digest. Nothing sets ctime back.
    key = (path, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size)
    found = _FILE_CACHE.get(key)
    if found is None:
        with open(path, "rb") as f:
            found = hashlib.sha256(f.read()).hexdigest()
        _FILE_CACHE[key] = found
    return found


def _local_imports(path: str, root: str) -> list[str]:
    """The `.py` files under `root` that the file at `path` imports, found by reading its source
    (absolute imports resolved against `root`, the folder the Trainer puts first on sys.path;
    relative imports against the file's package). Imports of other packages are left out."""
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return []
    names: list[tuple[str, str]] = []  # (base folder, dotted name)
    here = os.path.dirname(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(root, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = root
            if node.level:
                base = here
                for _ in range(node.level - 1):
                    base = os.path.dirname(base)
            module = node.module or ""
            names.append((base, module))
            names += [(base, f"{module}.{a.name}" if module else a.name) for a in node.names if a.name != "*"]
    found: list[str] = []
    for base, dotted in names:
        parts = [p for p in dotted.split(".") if p]
        for i in range(1, len(parts) + 1):
            stem = os.path.join(base, *parts[:i])
            for candidate in (stem + ".py", os.path.join(stem, "__init__.py")):
                if os.path.isfile(candidate):
                    found.append(os.path.realpath(candidate))
    return found


def module_file_digest(module_file: str) -> str:
    """A digest of a module file and of every `.py` file it imports, directly or through another,
    from its own folder (the user's neighbours: `import penguin_utils`, `from .lib import x`).
    Files are found by reading imports, not by importing; a neighbour imported dynamically
    (importlib, `__import__`) is not seen."""
    path = os.path.realpath(module_file)
    root = os.path.dirname(path)
    seen: set[str] = set()
    todo = [path]
    while todo:
        current = todo.pop()
        if current in seen or not os.path.isfile(current):
            continue
        seen.add(current)
        todo += _local_imports(current, root)
    h = hashlib.sha256()
    for file in sorted(seen):
        h.update(f"\0{os.path.relpath(file, root)}|{_file_digest(file)}".encode())
    return h.hexdigest()


def code_fingerprint(node: NodeIR) -> str:
    """A digest of the code a node runs: the fingerprint the compiler took from the live function
    or class (see headrace.dsl.user_code), plus the content of a `module_file` parameter and of
    the `.py` files it imports from its folder (:func:`module_file_digest`)."""
    executor = node.executor
    parts: list[str] = [str(executor.get("code", ""))]
    if executor.get("kind") == "container" or executor.get("image"):  # the image is part of the code
        parts.append(dumps_canonical([executor.get("image"), executor.get("command")]))
    if executor.get("docker"):  # volumes, environment, user: they can change what the step does
        parts.append(dumps_canonical(executor["docker"]))
    module_file = node.parameters.get("module_file")
    if isinstance(module_file, str) and os.path.isfile(module_file):
        parts.append(module_file_digest(module_file))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _stat_key(st: os.stat_result) -> str:
    return f"{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_ino}"


def files_fingerprint(paths: list[str]) -> str:
    """A digest of the files under `paths` (each a file or a folder, walked recursively): their
    relative names, sizes, modification and change times and inodes (a same-sized file replaced
    with its old mtime kept, as `cp -p` or `rsync -t` do, still changes the key). Hidden and
    `_`-prefixed names are left out, as the readers leave them out. A missing path counts as
    missing, so creating it changes the key."""
    h = hashlib.sha256()
    for root in paths:
        h.update(f"\0root:{root}".encode())
        if os.path.isfile(root):
            st = os.stat(root)
            h.update(f"|{_stat_key(st)}".encode())
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
                h.update(f"\0{os.path.relpath(path, root)}|{_stat_key(st)}".encode())
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
