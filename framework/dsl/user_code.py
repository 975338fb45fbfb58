"""User code in the IR: how a node's function or executor class travels, and its fingerprint.

Code from an installed module (the standard library, site-packages, an editable install such as
headrace's own) travels by name (module + qualname) and is imported where it runs. Everything else
travels by value: a cloudpickle payload embedded in the IR, with its source where the interpreter
has it (for people reading the IR). That is code defined in `__main__` (a script, a notebook cell,
`python -c`), in a pipeline file the CLI loaded, inside a function, and in the user's own modules:
a sibling file the pipeline imports (`from my_components import trainer`), a local package that is
not installed, a folder on PYTHONPATH or added to sys.path (see headrace.dsl.user_modules). The
user's modules are pickled by value, so the helpers, constants and classes the code uses from them
come along, and the node's own artifact classes travel in the same payload; nothing has to be
installed or copied where the step runs (an Airflow or Dask worker, a container). The user's script
is never executed again to find its code.

The fingerprint that enters the cache key comes from the live objects, not from files (see
headrace.dsl.code_fingerprint): comments and moving code around do not change it; any change to
what runs does, in the function's module or in the user's other modules it uses.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

from headrace.dsl.code_fingerprint import class_members, fingerprint, global_names
from headrace.dsl.user_modules import USER_MODULE_PREFIX, is_users_own, pickled_by_value, users_modules
from headrace.errors import DefinitionError, HeadraceError

PAYLOAD_FORMAT = "cloudpickle"
_MAX_PAYLOAD_BYTES = 16 << 20

# Code that travels by value, by payload digest: the live object where it was shipped (an
# in-process executor, or a worker forked after compiling, uses it instead of unpickling a copy),
# else the object unpickled once (a worker runs many tasks of the same node).
_BY_DIGEST: dict[str, Any] = {}


class CodeLoadError(HeadraceError):
    """A node's code could not be loaded where it runs."""


def user_module_name(path: str) -> str:
    """The private module name a user's file (a pipeline file, a script) is loaded under."""
    import os

    stem = os.path.splitext(os.path.basename(path))[0]
    return USER_MODULE_PREFIX + "".join(ch if ch.isalnum() else "_" for ch in stem)


def display_module_name(module: str) -> str:
    """A module name for people: a user's file by its name, not by headrace's private one."""
    if module == "__main__":
        file = getattr(sys.modules.get("__main__"), "__file__", None)
        if file and not file.startswith("<"):
            module = user_module_name(file)
    return module.removeprefix(USER_MODULE_PREFIX)


# -- travelling by name or by value ------------------------------------------------------------
def importable_by_name(obj: Any) -> bool:
    """Whether another process of this environment can import `obj` by its module and qualname: it
    is defined at the top level of an installed module (not in the user's own files)."""
    module_name = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", "")
    if not module_name or module_name == "__main__" or module_name.startswith(USER_MODULE_PREFIX):
        return False
    if "<locals>" in qualname or "<lambda>" in qualname:
        return False
    module = sys.modules.get(module_name)
    if module is None or getattr(module, "__spec__", None) is None or is_users_own(module_name):
        return False
    import importlib.util

    try:
        if importlib.util.find_spec(module_name) is None:
            return False
    except (ImportError, ValueError):
        return False
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
        if found is None:
            return False
    return found is obj or getattr(found, "FUNCTION", None) is obj


def ship(obj: Any, owner: str, cache: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The IR fields that say where `obj` (a component function or an executor class) comes from:
    `module`, `qualname`, `code` (the fingerprint) and, for code that cannot be imported by name,
    `payload`.

    Args:
        obj: The function or class.
        owner: Who it belongs to, for error messages (a component class name).
        cache: Per-compile memo (objects may change between compiles, so never across them).

    Raises:
        DefinitionError: if the code must travel by value and cannot be serialized.
    """
    if cache is not None and id(obj) in cache:
        return cache[id(obj)]
    fields: dict[str, Any] = {
        "module": display_module_name(obj.__module__),
        "qualname": obj.__qualname__,
        "code": fingerprint(obj),
    }
    if importable_by_name(obj):
        fields["module"] = obj.__module__
    else:
        fields["payload"] = {**_pickled(obj, owner), "source": _source(obj)}
    if cache is not None:
        cache[id(obj)] = fields
    return fields


def with_artifact_types(executor: dict[str, Any], classes: list[type], owner: str) -> dict[str, Any]:
    """The executor spec whose payload also carries the node's artifact classes that no other
    process can import (defined in the user's files), so the executor sees its inputs and outputs as
    their own classes (their properties, their methods) even where its code does not name them (an
    executor class's `Do`).

    Raises:
        DefinitionError: if such a class cannot be serialized.
    """
    payload = executor.get("payload")
    own = sorted({c for c in classes if not importable_by_name(c)}, key=lambda c: (c.__module__, c.__qualname__))
    if not payload or not own:
        return executor
    types_payload = _pickled(tuple(own), f"{owner} artifact types")
    return {
        **executor,
        "payload": {**payload, "artifact_types": {"digest": types_payload["digest"], "data": types_payload["data"]}},
    }


def _pickled(obj: Any, owner: str) -> dict[str, Any]:
    """`obj` cloudpickled, the user's own modules by value (see headrace.dsl.user_modules)."""
    import base64
    import hashlib
    import zlib

    import cloudpickle

    try:
        with pickled_by_value(users_modules()):
            data = cloudpickle.dumps(obj, protocol=5)
    except Exception as e:  # noqa: BLE001 - any pickling failure becomes a definition error
        raise DefinitionError(_unshippable_message(obj, owner, e)) from None
    if len(data) > _MAX_PAYLOAD_BYTES:
        raise DefinitionError(
            f"{owner}: '{_name(obj)}' would travel to executor processes as {len(data) >> 20} MB of "
            f"pickled code and data{_biggest_globals(obj)}. Load large data inside the function (from a "
            "file or an input artifact), or define the component in an installed package."
        )
    digest = hashlib.sha256(data).hexdigest()
    _BY_DIGEST[digest] = obj
    return {
        "format": PAYLOAD_FORMAT,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "digest": digest,
        "data": base64.b64encode(zlib.compress(data, 6)).decode(),
    }


def _name(obj: Any) -> str:
    if isinstance(obj, tuple):
        return ", ".join(_name(o) for o in obj)
    return str(getattr(obj, "__qualname__", type(obj).__qualname__))


def _source(obj: Any) -> str:
    """The source as the interpreter holds it (a script, a notebook cell), or '' (stdin, -c)."""
    import inspect

    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


def _unshippable_message(obj: Any, owner: str, error: Exception) -> str:
    import cloudpickle

    culprit = ""
    for name, value in _referenced_globals(obj):
        try:
            cloudpickle.dumps(value)
        except Exception:  # noqa: BLE001
            kind = f"{type(value).__module__}.{type(value).__qualname__}"
            culprit = f" It uses the global '{name}' ({kind}), which cannot be pickled."
            break
    return (
        f"{owner}: '{_name(obj)}' is defined where executor processes cannot import it (here: "
        f"{display_module_name(getattr(obj, '__module__', '') or _name(obj))}), so it must travel by value, and it "
        "cannot be serialized: "
        f"{type(error).__name__}: {error}.{culprit} Create such objects inside the function, or define the "
        "component in an installed package."
    )


def _biggest_globals(obj: Any) -> str:
    sizes = []
    import cloudpickle

    for name, value in _referenced_globals(obj):
        try:
            sizes.append((len(cloudpickle.dumps(value)), name))
        except Exception:  # noqa: BLE001
            continue
    sizes.sort(reverse=True)
    if not sizes:
        return ""
    return " (largest globals it uses: " + ", ".join(f"'{n}' {s >> 10} KB" for s, n in sizes[:3]) + ")"


def _referenced_globals(obj: Any) -> list[tuple[str, Any]]:
    """(name, value) of the module globals the function (or the class's methods) read, transitively
    through same-module functions."""
    found: dict[str, Any] = {}
    stack = list(_functions_of(obj))
    seen: set[int] = set()
    while stack:
        func = stack.pop()
        if id(func) in seen:
            continue
        seen.add(id(func))
        for name in sorted(global_names(func.__code__)):
            if name in func.__globals__ and name not in found:
                value = func.__globals__[name]
                found[name] = value
                if getattr(value, "__module__", None) == func.__module__:
                    stack.extend(_functions_of(value))
    return list(found.items())


def _functions_of(obj: Any) -> list[types.FunctionType]:
    if isinstance(obj, tuple):
        return [f for o in obj for f in _functions_of(o)]
    if isinstance(obj, types.FunctionType):
        return [obj]
    if isinstance(obj, type):
        return [f for _, f in class_members(obj) if isinstance(f, types.FunctionType)]
    return []


# -- loading where the code runs -------------------------------------------------------------
def load(executor: dict[str, Any]) -> Any:
    """The function or class an executor spec points at: imported by name, or unpickled from the
    payload the compiler embedded.

    Raises:
        CodeLoadError: the module cannot be imported, or the payload was made by another Python.
    """
    payload = executor.get("payload")
    if payload:
        return _from_payload(payload, executor)
    try:
        obj: Any = importlib.import_module(executor["module"])
    except ImportError as e:
        raise CodeLoadError(
            f"Cannot import module '{executor['module']}' for '{executor['qualname']}': {e}. Install it where the "
            "step runs, or define the component in a file that is on the Python path there."
        ) from e
    for part in executor["qualname"].split("."):
        obj = getattr(obj, part)
    return getattr(obj, "FUNCTION", obj)  # a @component class wraps its function


def _from_payload(payload: dict[str, Any], executor: dict[str, Any]) -> Any:
    if payload.get("format") != PAYLOAD_FORMAT:
        raise CodeLoadError(f"Unknown code payload format {payload.get('format')!r} for '{executor['qualname']}'.")
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if payload.get("python") != here:
        raise CodeLoadError(
            f"'{executor['qualname']}' was compiled by Python {payload.get('python')} and travels as pickled "
            f"code, which only Python {payload.get('python')} can load; this is Python {here}. Run the step "
            "with the same Python version, or recompile the pipeline with this one."
        )
    types_payload = payload.get("artifact_types")
    if types_payload:  # first: rebuilding them registers the node's artifact classes
        _unpickled(types_payload, f"the artifact types of '{executor['qualname']}'")
    return _unpickled(payload, f"the code of '{executor['qualname']}'")


def _unpickled(payload: dict[str, Any], what: str) -> Any:
    """A payload's object: the live one where it was pickled, else unpickled once per process."""
    digest = str(payload.get("digest", ""))
    if digest in _BY_DIGEST:
        return _BY_DIGEST[digest]
    import base64
    import pickle
    import zlib

    import cloudpickle  # noqa: F401 - the payload refers to cloudpickle's reconstructors

    try:
        obj = pickle.loads(zlib.decompress(base64.b64decode(payload["data"])))
    except Exception as e:
        raise CodeLoadError(f"Cannot load {what}: {type(e).__name__}: {e}") from e
    _BY_DIGEST[digest] = obj
    return obj
