"""Content fingerprints of the files and folders a step reads from outside the store.

A component declares which parameters name such files (`ExecutionParameter(fingerprint=True)`: a
module file of user code, a folder of input data); the launcher fingerprints them with
:func:`content_fingerprint` when the node runs, records the result on the execution
(`input_fingerprint`) and keys the cache on it.
"""

from __future__ import annotations

import ast
import hashlib
import os

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


def content_fingerprint(paths: list[str]) -> str:
    """The one fingerprint of what `paths` hold: a Python file by its content and that of the `.py`
    files it imports from its folder (:func:`module_file_digest`: code is hashed); any other file or
    folder by its files' names, sizes, modification and change times and inodes
    (:func:`files_fingerprint`: data is stat-ed, not read). A missing path counts as missing."""
    h = hashlib.sha256()
    for path in paths:
        if path.endswith(".py") and os.path.isfile(path):
            h.update(f"\0code:{path}|{module_file_digest(path)}".encode())
        else:
            h.update(f"\0files:{files_fingerprint([path])}".encode())
    return h.hexdigest()
