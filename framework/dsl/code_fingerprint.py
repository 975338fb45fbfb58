"""Fingerprints of user code: a digest of what a function or class runs, for the cache key.

The fingerprint comes from the live objects, not from files: the compiled code of the function (or of
every method of the class), its defaults and closure, the plain constants it reads from its module,
and, transitively, the functions and classes it uses from its own module and from the user's other
own modules (those that travel by value with it, see headrace.dsl.user_modules). Comments and moving
code around do not change it; any change to what runs does. Code from installed modules counts by
name: it changes with the installed version, not with the user's edits.
"""

from __future__ import annotations

import types
from typing import Any

from headrace.dsl.user_modules import USER_MODULE_PREFIX, is_users_own

_SIMPLE = (int, float, complex, str, bytes, bool, type(None))
_MAX_CONTAINER = 256


def fingerprint(obj: Any) -> str:
    """A digest of the code `obj` (a function or a class) runs, covering the functions and classes it
    uses from its own module and the user's other own modules, transitively. Stable across processes
    and machines for the same code and Python version."""
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
        names = global_names(func.__code__)
        for name in sorted(names):
            if name in func.__globals__:
                value = func.__globals__[name]
                h.update(f"|global {name}=".encode() + self._value(value, func.__module__).encode())
                if isinstance(value, types.ModuleType) and _travels_with(value.__name__, ""):
                    self._module_members(value, names, h, set())

    def _module_members(self, module: types.ModuleType, names: set[str], h: Any, seen: set[str]) -> None:
        """What a function reads through one of the user's own modules (`helpers.clean(...)`): the
        members of that module (and of its own submodules) the function's code names."""
        seen.add(module.__name__)
        for name in sorted(names & set(vars(module))):
            member = vars(module)[name]
            h.update(f"|{module.__name__}.{name}=".encode() + self._value(member, module.__name__).encode())
            if isinstance(member, types.ModuleType) and member.__name__ not in seen:
                if _travels_with(member.__name__, ""):
                    self._module_members(member, names, h, seen)

    def _class(self, cls: type, h: Any) -> None:
        h.update(f"class|{cls.__qualname__}|".encode())
        for base in cls.__bases__:
            h.update(b"|base|" + self._value(base, cls.__module__).encode())
        for name, member in class_members(cls):
            h.update(f"|{name}=".encode() + self._value(member, cls.__module__).encode())

    def _value(self, value: Any, module: str, depth: int = 0) -> str:
        if isinstance(value, _SIMPLE):
            return f"{type(value).__name__}:{value!r}"
        if isinstance(value, (types.FunctionType, type)):
            if _travels_with(getattr(value, "__module__", None), module):
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


def _travels_with(value_module: str | None, module: str) -> bool:
    """Whether code from `value_module`, used by code of `module`, counts by its code: it is the same
    module, or the user's own (a script, a pipeline file, a sibling module or local package)."""
    if not value_module:
        return False
    return (
        value_module == module
        or value_module == "__main__"
        or value_module.startswith(USER_MODULE_PREFIX)
        or is_users_own(value_module)
    )


def _qualified(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


_SKIPPED_MEMBERS = frozenset({"__dict__", "__weakref__", "__module__", "__qualname__", "__doc__"})


def class_members(cls: type) -> list[tuple[str, Any]]:
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


def global_names(code: types.CodeType) -> set[str]:
    """Names a code object (and the code nested in it) may read from its module's globals."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= global_names(const)
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
