"""Reading files the store points at (step logs, value files, an artifact's folder), only from inside
the pipeline root of the run that wrote them (`security.resolve_inside`)."""

from __future__ import annotations

import os

from headrace.ui.security import resolve_inside

MAX_LISTED = 200


def read_tail(root: str, path: str, max_bytes: int) -> str | None:
    """The text of file `path` (its last `max_bytes` bytes, marked, if it is longer), or None if it is
    missing or lies outside `root`."""
    if not path:
        return None
    found = resolve_inside(root, os.path.relpath(path, root))
    if found is None or not os.path.isfile(found):
        return None
    size = os.path.getsize(found)
    with open(found, "rb") as f:
        f.seek(max(0, size - max_bytes))
        text = f.read().decode("utf-8", errors="replace")
    return text if size <= max_bytes else f"[... the first {size - max_bytes} bytes left out ...]\n{text}"


def listing(folder: str) -> tuple[list[tuple[str, int]], bool]:
    """(relative path, size) of the files under `folder`, sorted, at most MAX_LISTED, and whether
    there are more. Symlinks are listed but never followed."""
    found: list[tuple[str, int]] = []
    for top, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(top, name)
            try:
                size = os.lstat(path).st_size
            except OSError:
                continue
            found.append((os.path.relpath(path, folder), size))
            if len(found) > MAX_LISTED:
                return found[:MAX_LISTED], True
    return found, False
