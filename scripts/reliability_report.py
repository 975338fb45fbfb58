"""Writes docs/RELIABILITY.md from the figures the reliability scenarios recorded (see
tests/reliability/_reliability.py): one section per scenario, and a summary table."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The scenarios are the files tests/reliability/test_sNN_*.py: a new one is in the report as it lands.
SCENARIOS = sorted(int(p.name[6:8]) for p in (REPO / "tests" / "reliability").glob("test_s[0-9][0-9]_*.py"))


def main(out_dir: str, target: str = str(REPO / "docs" / "RELIABILITY.md")) -> int:
    found = {}
    for path in sorted(Path(out_dir).glob("scenario_*.json")):
        data = json.loads(path.read_text())
        found[int(data["number"])] = data
    lines = [
        "# Reliability and security figures",
        "",
        "Written by `make reliability` (scripts/reliability_report.py) from the scenarios in",
        "`tests/reliability/`, run with their full trial counts on this machine. `make test` runs the same",
        "scenarios with fewer trials. Every violation count must be 0.",
        "",
        "| # | scenario | trials | violations | figure |",
        "|---|---|---|---|---|",
    ]
    for n in SCENARIOS:
        d = found.get(n)
        if d is None:
            lines.append(f"| {n} | (not recorded) | - | - | - |")
        else:
            lines.append(f"| {n} | {d['title']} | {d['trials']} | {d['violations']} | {d['figure']} |")
    for n in sorted(found):
        d = found[n]
        lines += ["", f"## {n}. {d['title']}", "", f"- Mode: {d['mode']}, recorded {d['recorded_at']}"]
        lines += [f"- Trials: {d['trials']}", f"- Faults injected: {d['faults']}", f"- Violations: {d['violations']}"]
        lines += [f"- Figure: {d['figure']}"]
        for key, value in sorted(d["details"].items()):
            lines.append(f"- {key}: {value}")
    missing = [n for n in SCENARIOS if n not in found]
    Path(target).write_text("\n".join(lines) + "\n")
    print(f"wrote {target} ({len(found)} scenarios{'; missing ' + str(missing) if missing else ''})")
    violations = sum(int(d["violations"]) for d in found.values())
    return 1 if violations or missing else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
