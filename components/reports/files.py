"""Where a report lives: `report.html` at the top of an artifact's directory, written atomically."""

from __future__ import annotations

import os
import tempfile

REPORT_NAME = "report.html"


def write_report(uri: str, html: str, name: str = REPORT_NAME) -> str:
    """Writes `html` as `name` in the artifact directory `uri`, atomically; returns the file's path.

    A reader (a browser, `headrace show`) sees the old page or the new one, never half of one.
    """
    os.makedirs(uri, exist_ok=True)
    path = os.path.join(uri, name)
    fd, tmp = tempfile.mkstemp(dir=uri, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(html)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for reading
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


__all__ = ["REPORT_NAME", "write_report"]
