"""What an output artifact holds on disk, for tests that compare runs' outputs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def output_files(uri: str | os.PathLike[str], binary: bool = False) -> dict[str, Any]:
    """Every file of an output, by its path relative to the URI, with its text (or bytes). A value
    artifact's URI is its value's file, as in TFX: that is `{'value': content}`, as the file is named."""
    path = Path(uri)
    read = Path.read_bytes if binary else Path.read_text
    if path.is_file():
        return {"value": read(path)}
    return {str(p.relative_to(path)): read(p) for p in sorted(path.rglob("*")) if p.is_file()}
