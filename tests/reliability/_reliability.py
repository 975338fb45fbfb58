"""Shared by the reliability scenarios (issue 11): trial counts and the figures each scenario reports.

`make test` runs every scenario in its short form. `make reliability` sets HEADRACE_RELIABILITY=full
(the full trial counts) and HEADRACE_RELIABILITY_OUT (where each scenario writes its figures as
`scenario_<NN>.json`); scripts/reliability_report.py then writes docs/RELIABILITY.md from them.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

FULL = os.environ.get("HEADRACE_RELIABILITY") == "full"
# Made absolute on import: a scenario may chdir (s08 does) before it records its figures.
OUT = os.path.abspath(os.environ["HEADRACE_RELIABILITY_OUT"]) if os.environ.get("HEADRACE_RELIABILITY_OUT") else ""


def trials(full: int, short: int) -> int:
    """The number of trials: `full` under `make reliability`, `short` in `make test`."""
    return full if FULL else short


def record(
    number: int,
    title: str,
    trials: int,
    faults: str,
    violations: int,
    figure: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Writes one scenario's figures (when HEADRACE_RELIABILITY_OUT is set); the caller asserts
    `violations == 0` afterwards, so a violation both fails the test and shows in the report."""
    out = OUT
    if not out:
        return
    Path(out).mkdir(parents=True, exist_ok=True)
    data = {
        "number": number,
        "title": title,
        "mode": "full" if FULL else "short",
        "trials": trials,
        "faults": faults,
        "violations": violations,
        "figure": figure,
        "details": details or {},
        "recorded_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    Path(out, f"scenario_{number:02d}.json").write_text(json.dumps(data, indent=2, sort_keys=True))
