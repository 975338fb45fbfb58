"""Which loaded modules are the user's own files, and which are installed.

Code from an installed module travels by name: a fresh process of the same environment (a spawned
worker, an Airflow or Dask worker, a container of the runtime image) imports it. Code from the
user's own files travels by value, so nothing has to be installed or copied where a step runs.

A module is *installed* when a fresh process finds it without the user's help:

- the standard library and anything under the environment's site-packages / dist-packages (of
  `sys.prefix` or `sys.base_prefix`, and the user site);
- a folder that a `.pth` file in those adds to `sys.path` (a path-based editable install);
- a module an import hook found rather than the path finder in a `sys.path` folder (a finder-based
  editable install such as setuptools' or headrace's own, or headrace's `tfx` alias modules), and
  modules without a file (built-in, frozen, made at run time).

A module is the *user's own* when the path finder found it in a `sys.path` folder that is none of
these: the pipeline file's folder, the current directory, a PYTHONPATH entry or a folder the user
added. Whether a distribution claims the name does not count (some wheels ship a top-level `tests`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

USER_MODULE_PREFIX = "_headrace_user_"  # the private name a user's file (a pipeline file) is loaded under
_OWN: dict[tuple[str, str, frozenset[str]], bool] = {}  # (module, file, search path) -> is the user's own


def is_users_own(module_name: str) -> bool:
    """Whether `module_name` (loaded here) comes from the user's own files, so another process of
    the same environment cannot import it by name."""
    return own_root(module_name) is not None


def own_root(module_name: str) -> str | None:
    """The outermost module to ship by value for `module_name`: its top-level package (or, under a
    namespace package, its outermost regular package), if that is the user's own; else None."""
    parts = module_name.split(".")
    for depth in range(1, len(parts) + 1):
        name = ".".join(parts[:depth])
        module = sys.modules.get(name)
        if module is None:
            return None
        if _is_namespace(module):
            continue  # a namespace package spans folders: decide on its regular packages
        return name if _found_in_own_folder(name, module) else None
    return None


def own_roots() -> list[str]:
    """Every loaded module tree that is the user's own (see :func:`own_root`), sorted."""
    roots = set()
    decided: set[str] = set()  # top-level names of regular modules: one decision covers the tree
    for name in list(sys.modules):
        top = name.partition(".")[0]
        if top in decided:
            continue
        root = own_root(name)
        if root is not None:
            roots.add(root)
        top_module = sys.modules.get(top)
        if top_module is not None and not _is_namespace(top_module):
            decided.add(top)
    return sorted(roots)


def users_modules() -> list[str]:
    """The loaded modules to pickle by value: the user's files loaded under USER_MODULE_PREFIX (a pipeline
    file) and every module tree that is the user's own (:func:`own_roots`)."""
    return [name for name in sys.modules if name.startswith(USER_MODULE_PREFIX)] + own_roots()


def pickle_by_value(module_names: list[str], pickler: Any) -> list[ModuleType]:
    """Makes `pickler` (a cloudpickle module) pickle what these modules define by value from now on;
    returns the modules it was not doing so for already."""
    registered = pickler.list_registry_pickle_by_value()  # by the user, say: left registered
    added = []
    for name in module_names:
        module = sys.modules.get(name)
        if module is None or name in registered or getattr(module, "__name__", None) != name:
            continue
        pickler.register_pickle_by_value(module)
        added.append(module)
    return added


@contextlib.contextmanager
def pickled_by_value(module_names: list[str]) -> Iterator[None]:
    """Within the block, cloudpickle pickles what these modules define by value (their functions,
    classes and the helpers they use), as it does for `__main__`."""
    import cloudpickle

    added = pickle_by_value(module_names, cloudpickle)
    try:
        yield
    finally:
        for module in added:
            cloudpickle.unregister_pickle_by_value(module)


def _is_namespace(module: ModuleType) -> bool:
    spec = getattr(module, "__spec__", None)
    return spec is not None and spec.origin is None and spec.submodule_search_locations is not None


def _found_in_own_folder(name: str, module: ModuleType) -> bool:
    spec = getattr(module, "__spec__", None)
    if spec is None or not spec.has_location or not spec.origin:
        return False  # built-in, frozen, made at run time, or loaded by an import hook without a file
    entries = tuple(sys.path)
    search = _search_path(entries, os.getcwd() if "" in entries else "")
    key = (name, spec.origin, search)
    found = _OWN.get(key)
    if found is None:
        found = _decide(name, os.path.realpath(spec.origin), spec.submodule_search_locations is not None, search)
        _OWN[key] = found
    return found


def _decide(name: str, path: str, package: bool, search: frozenset[str]) -> bool:
    if any(path.startswith(root + os.sep) for root in _installed_roots()):
        return False
    # the sys.path folder the path finder would have found `name` in: strip one folder per dotted part
    # (a package's file is its __init__, one folder deeper), and check the folder names are the name's
    parts = name.split(".")
    folder = path
    rel: list[str] = []
    for _ in range(len(parts) + (1 if package else 0)):
        folder, base = os.path.split(folder)
        rel.insert(0, base)
    expected = [*parts, "__init__"] if package else parts
    if [*rel[:-1], rel[-1].split(".")[0]] != expected:
        return False  # found under another name: an import hook mapped it (an editable install)
    return folder in search


@functools.lru_cache(maxsize=8)
def _search_path(entries: tuple[str, ...], cwd: str) -> frozenset[str]:
    """sys.path as real folders ('' is the current directory)."""
    return frozenset(os.path.realpath(e or cwd) for e in entries if isinstance(e, str))


@functools.lru_cache(maxsize=1)
def _installed_roots() -> tuple[str, ...]:
    """Folders whose modules a fresh process of this environment finds by itself."""
    import site
    import sysconfig

    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    roots: set[str] = set()
    for prefix in prefixes:
        paths = sysconfig.get_paths(
            vars={"base": prefix, "platbase": prefix, "installed_base": prefix, "installed_platbase": prefix}
        )
        roots.update(paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths)
    site_dirs = set(getattr(site, "getsitepackages", list)())
    if site.ENABLE_USER_SITE:
        site_dirs.add(site.getusersitepackages())
    for entry in sys.path:  # Debian's /usr/lib/python3/dist-packages, a venv's site-packages
        if isinstance(entry, str) and os.path.basename(entry) in ("site-packages", "dist-packages"):
            if any(os.path.realpath(entry).startswith(os.path.realpath(p) + os.sep) for p in prefixes):
                site_dirs.add(entry)
    roots |= site_dirs
    for site_dir in site_dirs:
        roots.update(_pth_folders(site_dir))
    return tuple(sorted({os.path.realpath(r) for r in roots if r}))


def _pth_folders(site_dir: str) -> list[str]:
    """The folders the .pth files of a site folder add to sys.path (path-based editable installs)."""
    try:
        names = sorted(n for n in os.listdir(site_dir) if n.endswith(".pth"))
    except OSError:
        return []
    found = []
    for pth in names:
        try:
            with open(os.path.join(site_dir, pth), encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#") or line.startswith(("import ", "import\t")):
                continue
            folder = os.path.join(site_dir, line)
            if os.path.isdir(folder):
                found.append(folder)
    return found
