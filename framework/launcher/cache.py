"""Cache keys: executor identity AND code, parameters, inputs, headrace version.

Editing a function component's body (or an executor class's module, or a `module_file`)
changes the key, so a stale result is never returned for new code.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
from typing import Any

from headrace.compiler.ir import NodeIR
from headrace.types.artifact import dumps_canonical
from headrace.version import __version__

_FILE_CACHE: dict[tuple[str, int, int], str] = {}
_SOURCE_CACHE: dict[tuple[str, str, int, int], str] = {}


def _file_digest(path: str) -> str:
    st = os.stat(path)
    key = (path, st.st_mtime_ns, st.st_size)
    found = _FILE_CACHE.get(key)
    if found is None:
        with open(path, "rb") as f:
            found = hashlib.sha256(f.read()).hexdigest()
        _FILE_CACHE[key] = found
    return found


def module_path(executor: dict[str, Any]) -> str | None:
    """The source file of an executor's module, found without importing the module itself."""
    if executor.get("file"):
        return str(executor["file"])
    module = executor.get("module")
    if not module:
        return None
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    origin = getattr(spec, "origin", None)
    return origin if origin and os.path.isfile(origin) else None


def _function_source_digest(path: str, qualname: str) -> str:
    """Hash of the source of the function `qualname` in `path` (decorators included)."""
    st = os.stat(path)
    key = (path, qualname, st.st_mtime_ns, st.st_size)
    found = _SOURCE_CACHE.get(key)
    if found is None:
        with open(path, encoding="utf-8") as f:
            source = f.read()
        segment = _find_def(source, qualname.split("."))
        # A function we cannot locate statically falls back to its whole module.
        found = hashlib.sha256((segment if segment is not None else source).encode()).hexdigest()
        _SOURCE_CACHE[key] = found
    return found


def _find_def(source: str, parts: list[str]) -> str | None:
    body: list[ast.stmt] = ast.parse(source).body
    node: ast.AST | None = None
    for part in parts:
        node = next(
            (
                n
                for n in body
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == part
            ),
            None,
        )
        if node is None:
            return None
        body = node.body
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    lines = source.splitlines()
    start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    return "\n".join(lines[start : node.end_lineno])


def code_fingerprint(node: NodeIR) -> str:
    """A digest of the code a node runs."""
    executor = node.executor
    kind = executor["kind"]
    parts: list[str] = []
    if kind in ("python_function", "python_class"):
        path = module_path(executor)
        if path is None:
            parts.append(f"unlocated:{executor.get('module')}:{executor.get('qualname')}")
        elif kind == "python_function":
            parts.append(_function_source_digest(path, executor["qualname"]))
        else:
            parts.append(_file_digest(path))
    module_file = node.parameters.get("module_file")
    if isinstance(module_file, str) and os.path.isfile(module_file):
        parts.append(_file_digest(module_file))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def cache_key(node: NodeIR, input_ids: dict[str, list[int]]) -> str:
    """The cache key of running `node` on the input artifacts `input_ids`."""
    payload = {
        "headrace": __version__,
        "component_type": node.component_type,
        "executor": node.executor,
        "code": code_fingerprint(node),
        "parameters": node.parameters,
        "inputs": input_ids,
        "outputs": {k: o.artifact_type.name for k, o in node.outputs.items()},
    }
    return hashlib.sha256(dumps_canonical(payload).encode()).hexdigest()
