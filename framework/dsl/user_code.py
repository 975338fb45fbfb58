"""User code in the IR: how a node's function or executor class travels, and its fingerprint.

Code defined in an importable module travels by name (module + qualname) and is imported
where it runs. Code that no other process can import by name -- defined in `__main__` (a
script, a notebook cell, `python -c`, stdin), in a pipeline file the CLI loaded, or inside a
function -- travels by value: a cloudpickle payload embedded in the IR, together with its
source where the interpreter has it (for people reading the IR). The user's script is never
executed again to find it.

The fingerprint that enters the cache key comes from the live objects, not from files: the
compiled code of the function (or of every method of the class), its defaults and closure, the
plain constants it reads from its module, and, transitively, the same-module functions and
classes it uses. Comments and moving code around do not change it; any change to what runs does.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

from headrace.errors import DefinitionError, HeadraceError

USER_MODULE_PREFIX = "_headrace_user_"
PAYLOAD_FORMAT = "cloudpickle"
_MAX_PAYLOAD_BYTES = 16 << 20
_SIMPLE = (int, float, complex, str, bytes, bool, type(None))
_MAX_CONTAINER = 256

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
    """Whether another process can import `obj` by its module and qualname."""
    module_name = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", "")
    if not module_name or module_name == "__main__" or module_name.startswith(USER_MODULE_PREFIX):
        return False
    if "<locals>" in qualname or "<lambda>" in qualname:
        return False
    module = sys.modules.get(module_name)
    if module is None or getattr(module, "__spec__", None) is None:
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
        fields["payload"] = _payload(obj, owner)
    if cache is not None:
        cache[id(obj)] = fields
    return fields


def _payload(obj: Any, owner: str) -> dict[str, Any]:
    import base64
    import hashlib
    import zlib

    import cloudpickle

    module = sys.modules.get(obj.__module__)
    if module is not None and obj.__module__.startswith(USER_MODULE_PREFIX):
        cloudpickle.register_pickle_by_value(module)  # a pipeline file is not importable by name elsewhere
    try:
        data = cloudpickle.dumps(obj, protocol=5)
    except Exception as e:  # noqa: BLE001 - any pickling failure becomes a definition error
        raise DefinitionError(_unshippable_message(obj, owner, e)) from None
    if len(data) > _MAX_PAYLOAD_BYTES:
        raise DefinitionError(
            f"{owner}: '{obj.__qualname__}' would travel to executor processes as {len(data) >> 20} MB of "
            f"pickled code and data{_biggest_globals(obj)}. Load large data inside the function (from a "
            "file or an input artifact), or define the component in an importable module."
        )
    digest = hashlib.sha256(data).hexdigest()
    _BY_DIGEST[digest] = obj
    return {
        "format": PAYLOAD_FORMAT,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "digest": digest,
        "data": base64.b64encode(zlib.compress(data, 6)).decode(),
        "source": _source(obj),
    }


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
        f"{owner}: '{obj.__qualname__}' is defined where executor processes cannot import it (here: "
        f"{obj.__module__}), so it must travel by value, and it cannot be serialized: "
        f"{type(error).__name__}: {error}.{culprit} Create such objects inside the function, or define the "
        "component in an importable module."
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
        for name in sorted(_global_names(func.__code__)):
            if name in func.__globals__ and name not in found:
                value = func.__globals__[name]
                found[name] = value
                if getattr(value, "__module__", None) == func.__module__:
                    stack.extend(_functions_of(value))
    return list(found.items())


def _functions_of(obj: Any) -> list[types.FunctionType]:
    if isinstance(obj, types.FunctionType):
        return [obj]
    if isinstance(obj, type):
        return [f for _, f in _class_members(obj) if isinstance(f, types.FunctionType)]
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
    digest = str(payload.get("digest", ""))
    if digest in _BY_DIGEST:
        return _BY_DIGEST[digest]
    if payload.get("format") != PAYLOAD_FORMAT:
        raise CodeLoadError(f"Unknown code payload format {payload.get('format')!r} for '{executor['qualname']}'.")
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if payload.get("python") != here:
        raise CodeLoadError(
            f"'{executor['qualname']}' was compiled by Python {payload.get('python')} and travels as pickled "
            f"code, which only Python {payload.get('python')} can load; this is Python {here}. Run the step "
            "with the same Python version, or recompile the pipeline with this one."
        )
    import base64
    import pickle
    import zlib

    import cloudpickle  # noqa: F401 - the payload refers to cloudpickle's reconstructors

    try:
        obj = pickle.loads(zlib.decompress(base64.b64decode(payload["data"])))
    except Exception as e:
        raise CodeLoadError(f"Cannot load the code of '{executor['qualname']}': {type(e).__name__}: {e}") from e
    _BY_DIGEST[digest] = obj
    return obj


# -- fingerprints ----------------------------------------------------------------------------
def fingerprint(obj: Any) -> str:
    """A digest of the code `obj` (a function or a class) runs, covering the same-module functions
    and classes it uses, transitively. Stable across processes and machines for the same code and
    Python version."""
    return _Fingerprinter().digest(obj)


class _Fingerprinter:
    def __init__(self) -> None:
        self._done: dict[int, str] = {}
        self._active: set[int] = set()

    def digest(self, obj: Any) -> str:
        key = id(obj)
        if key in self._done:
            return self._done[key]
        if key in self._active:  # recursion (a function calling itself, mutual helpers)
            return "cycle:" + _qualified(obj)
        import hashlib

        self._active.add(key)
        try:
            h = hashlib.sha256()
            if isinstance(obj, type):
                self._class(obj, h)
            else:
                self._function(obj, h)
            found = h.hexdigest()
        finally:
            self._active.discard(key)
        self._done[key] = found
        return found

    def _function(self, func: types.FunctionType, h: Any) -> None:
        h.update(b"function|")
        h.update(_code_digest(func.__code__).encode())
        h.update(b"|defaults|" + self._value(func.__defaults__, func.__module__).encode())
        h.update(b"|kwdefaults|" + self._value(func.__kwdefaults__, func.__module__).encode())
        for cell in func.__closure__ or ():
            try:
                contents = cell.cell_contents
            except ValueError:  # an empty cell
                contents = None
            h.update(b"|cell|" + self._value(contents, func.__module__).encode())
        for name in sorted(_global_names(func.__code__)):
            if name in func.__globals__:
                h.update(f"|global {name}=".encode() + self._value(func.__globals__[name], func.__module__).encode())

    def _class(self, cls: type, h: Any) -> None:
        h.update(f"class|{cls.__qualname__}|".encode())
        for base in cls.__bases__:
            h.update(b"|base|" + self._value(base, cls.__module__).encode())
        for name, member in _class_members(cls):
            h.update(f"|{name}=".encode() + self._value(member, cls.__module__).encode())

    def _value(self, value: Any, module: str, depth: int = 0) -> str:
        if isinstance(value, _SIMPLE):
            return f"{type(value).__name__}:{value!r}"
        if isinstance(value, (types.FunctionType, type)):
            if getattr(value, "__module__", None) == module:
                return "code:" + self.digest(value)
            return "ref:" + _qualified(value)
        if isinstance(value, types.ModuleType):
            return "module:" + value.__name__
        if depth < 3 and isinstance(value, (tuple, list, set, frozenset, dict)) and len(value) <= _MAX_CONTAINER:
            if isinstance(value, dict):
                items = sorted(
                    f"{self._value(k, module, depth + 1)}:{self._value(v, module, depth + 1)}" for k, v in value.items()
                )
            elif isinstance(value, (set, frozenset)):
                items = sorted(self._value(v, module, depth + 1) for v in value)
            else:
                items = [self._value(v, module, depth + 1) for v in value]
            return f"{type(value).__name__}[" + ",".join(items) + "]"
        if callable(value) and hasattr(value, "__qualname__"):
            return "ref:" + _qualified(value)
        return "object:" + _qualified(type(value))  # state of other objects is not part of the key


def _qualified(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


_SKIPPED_MEMBERS = frozenset({"__dict__", "__weakref__", "__module__", "__qualname__", "__doc__"})


def _class_members(cls: type) -> list[tuple[str, Any]]:
    """The class's own members in name order, methods unwrapped to their functions."""
    members = []
    for name in sorted(cls.__dict__):
        if name in _SKIPPED_MEMBERS:
            continue
        member = cls.__dict__[name]
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        elif isinstance(member, property):
            member = tuple(f for f in (member.fget, member.fset, member.fdel) if f is not None)
        members.append((name, member))
    return members


def _global_names(code: types.CodeType) -> set[str]:
    """Names a code object (and the code nested in it) may read from its module's globals."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


_CODE_DIGESTS: dict[types.CodeType, str] = {}


def _code_digest(code: types.CodeType) -> str:
    """Digest of a code object's behaviour: bytecode, constants, names, flags. Not its file name
    or line numbers, so the same code defined elsewhere has the same digest."""
    found = _CODE_DIGESTS.get(code)
    if found is not None:
        return found
    import hashlib

    h = hashlib.sha256()
    for part in (
        code.co_name,
        code.co_argcount,
        code.co_posonlyargcount,
        code.co_kwonlyargcount,
        code.co_flags,
        code.co_names,
        code.co_varnames,
        code.co_freevars,
        code.co_cellvars,
    ):
        h.update(repr(part).encode() + b"|")
    h.update(code.co_code)
    h.update(getattr(code, "co_exceptiontable", b""))
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            h.update(b"|code:" + _code_digest(const).encode())
        elif isinstance(const, frozenset):
            h.update(b"|" + repr(sorted(repr(c) for c in const)).encode())
        else:
            h.update(f"|{type(const).__name__}:{const!r}".encode())
    found = h.hexdigest()
    _CODE_DIGESTS[code] = found
    return found
