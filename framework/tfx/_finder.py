"""Builds TFX's module paths under `headrace.tfx` from the table in `_table`, on import.

A `sys.meta_path` finder answers for every path in `MODULES` with a module object whose
attributes are resolved lazily (so `import headrace.tfx` imports nothing heavy), raises
:class:`NotYetAvailableError` for TFX paths headrace does not have yet, and a did-you-mean
`ModuleNotFoundError` for a misspelt path under a table module.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any

from headrace.errors import HeadraceError, did_you_mean
from headrace.tfx._missing import EXAMPLES, MISSING
from headrace.tfx._table import MODULES, STAR, Const

PREFIX = "headrace.tfx"


class NotYetAvailableError(HeadraceError, ImportError):
    """A TFX name or module that headrace does not have yet (an ImportError, so the message survives
    `from X import Name`)."""

    def __init__(self, tfx_path: str, capability: str):
        self.tfx_path = tfx_path
        self.capability = capability
        if capability == EXAMPLES:
            text = (
                f"'tfx.{tfx_path}' is TFX's example code, which headrace does not ship: copy the module into "
                "your project and import it from there."
            )
        else:
            text = (
                f"TFX's 'tfx.{tfx_path}' comes with {capability} (not in this version yet). "
                "See docs/MIGRATING_FROM_TFX.md for what headrace.tfx covers today."
            )
        super().__init__(text, name=f"{PREFIX}.{tfx_path}")


def missing_capability(rel: str) -> str | None:
    """The capability that brings the TFX path `rel` (a name or module, relative to `tfx`), or None."""
    parts = rel.split(".")
    for i in range(len(parts), 0, -1):
        found = MISSING.get(".".join(parts[:i]))
        if found is not None:
            return found
    return None


def children(rel: str) -> list[str]:
    """The table submodules directly under `rel` ('' for the root)."""
    depth = rel.count(".") + 1 if rel else 0
    return sorted(
        p.rsplit(".", 1)[-1]
        for p in MODULES
        if p.count(".") == depth and (p.startswith(rel + ".") if rel else "." not in p)
    )


def resolve(provider: str | Const) -> Any:
    """The object a table provider names ('module:attr', 'module' or a Const)."""
    if isinstance(provider, Const):
        return provider.value
    module_name, _, attr = provider.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr) if attr else module


def names_of(rel: str) -> list[str]:
    """Every name the table module `rel` serves (its entries, its STAR module's `__all__`, its submodules)."""
    names = set(MODULES.get(rel, {})) | set(children(rel))
    star = STAR.get(rel)
    if star is not None:
        names |= set(getattr(importlib.import_module(star), "__all__", ()))
    return sorted(names)


def lookup(rel: str, name: str) -> Any:
    """The attribute `name` of the TFX module `rel` ('' for the root), or a clear error."""
    entries = MODULES.get(rel, {})
    child = f"{rel}.{name}" if rel else name
    if name in entries:
        try:
            return resolve(entries[name])
        except AttributeError:
            # A table entry whose headrace name has not landed yet: say what brings it, if MISSING knows.
            module_name, _, attr = str(entries[name]).partition(":")
            capability = missing_capability(child)
            if capability is None or hasattr(sys.modules.get(module_name), attr):
                raise
            raise NotYetAvailableError(child, capability) from None
    if child in MODULES:
        return importlib.import_module(f"{PREFIX}.{child}")
    star = STAR.get(rel)
    if star is not None:
        module = importlib.import_module(star)
        if name in getattr(module, "__all__", ()):
            return getattr(module, name)
    capability = missing_capability(child)
    if capability is not None:
        raise NotYetAvailableError(child, capability)
    where = f"{PREFIX}.{rel}" if rel else PREFIX
    raise AttributeError(f"module '{where}' has no attribute '{name}'." + did_you_mean(name, names_of(rel)))


class TableModule(types.ModuleType):
    """A TFX module path served from the table; attributes resolve on first use."""

    _tfx_path: str

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name not in MODULES.get(self._tfx_path, {}):
            raise AttributeError(name)  # probes such as __wrapped__ or __file__: no table lookup
        value = lookup(self._tfx_path, name)
        setattr(self, name, value)
        return value

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        """Pickles as an import of the module (cloudpickle meets it in a `__main__` executor)."""
        return importlib.import_module, (self.__name__,)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(names_of(self._tfx_path)))


class TfxPathFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds and loads `headrace.tfx.<TFX module path>` from the table."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(PREFIX + "."):
            return None
        rel = fullname[len(PREFIX) + 1 :]
        if rel in MODULES:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        capability = missing_capability(rel)
        if capability is not None:
            raise NotYetAvailableError(rel, capability)
        parent, _, leaf = rel.rpartition(".")
        if parent in MODULES:
            raise ModuleNotFoundError(
                f"No module named '{fullname}'." + did_you_mean(leaf, children(parent)), name=fullname
            )
        return None  # headrace.tfx's own files (and anything else) load the usual way

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = TableModule(spec.name)
        module._tfx_path = spec.name[len(PREFIX) + 1 :]
        module.__doc__ = f"TFX's `tfx.{module._tfx_path}`, served by headrace (see headrace.tfx)."
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__path__ = []  # a package, so submodule paths import


def install() -> None:
    """Puts the finder first on `sys.meta_path` (once)."""
    if not any(isinstance(f, TfxPathFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, TfxPathFinder())
