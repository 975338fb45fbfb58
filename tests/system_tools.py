"""Debian programs the full suite needs (Chromium, Graphviz): found on PATH, else installed by
scripts/services.sh (which needs root); a missing one fails the test, naming the command: the full suite
never skips a service."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def installed_tool(names: tuple[str, ...], service: str, what: str, timeout: float) -> str:
    """The path of the first of `names` on PATH, after `bash scripts/services.sh SERVICE` if none is."""
    found = next(filter(None, map(shutil.which, names)), None)
    if found is None:
        result = subprocess.run(
            ["bash", str(REPO / "scripts" / "services.sh"), service], capture_output=True, text=True, timeout=timeout
        )
        found = next(filter(None, map(shutil.which, names)), None)
        if found is None:
            pytest.fail(
                f"{what} is not installed and `bash scripts/services.sh {service}` did not install it "
                f"(exit {result.returncode}): {result.stderr[-2000:]}",
                pytrace=False,
            )
    return found
