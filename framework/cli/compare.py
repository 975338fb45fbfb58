"""`headrace runs compare`: runs side by side, read from ML Metadata alone.

For each run: every node's parameters (from the IR the run was started with), the fingerprint of
the code each node ran (and of a trainer module file), each node's state, and the numbers its
outputs recorded (training metrics and steps on a Model, evaluation metrics, blessings, pushed
versions, row counts...). Rows whose values differ between the runs are marked.
"""

from __future__ import annotations

import json
from typing import Any

from headrace.launcher import load_run_ir
from headrace.metadata import Metadata, MetadataReader

_SKIPPED_PROPERTIES = {"summary", "reasons", "reason", "input_base", "input_fingerprint", "pushed_destination"}
_MAX_VALUE = 60


def _flat(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and "qualname" in value and "code" in value:  # shipped user code
        out[prefix] = f"code {str(value['code'])[:12]}"
        return
    if isinstance(value, dict) and value:
        for k, v in sorted(value.items()):
            _flat(f"{prefix}.{k}", v, out)
        return
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    out[prefix] = text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def run_facts(md: Metadata, run_id: str) -> dict[str, dict[str, Any]]:
    """{section: {row name: value}} of one run; sections: parameters, code, state, outputs."""
    ir = load_run_ir(md, run_id)
    facts: dict[str, dict[str, Any]] = {"parameters": {}, "code": {}, "state": {}, "outputs": {}}
    for node in ir.nodes:
        for key, value in node.parameters.items():
            _flat(f"{node.id}.{key}", value, facts["parameters"])
        if node.executor.get("code"):
            facts["code"][node.id] = str(node.executor["code"])[:12]
    latest: dict[str, Any] = {}
    resolvers = {n.id for n in ir.nodes if n.kind == "resolver"}  # their outputs are other runs' artifacts
    for e in MetadataReader(md).executions(run_id):
        if e.node_id not in resolvers:
            latest[e.node_id] = e  # in order: the last attempt wins
    for node_id, e in latest.items():
        facts["state"][node_id] = e.state
        for key, arts in e.outputs.items():
            for a in arts:
                for name, value in sorted(a.custom_properties.items()):
                    if name in _SKIPPED_PROPERTIES or name.endswith("_id"):
                        continue
                    if name == "module_file_sha256":
                        facts["code"][f"{node_id} module file"] = str(value)[:12]
                    elif isinstance(value, (int, float)) and not isinstance(value, bool):
                        facts["outputs"][f"{node_id}.{key}.{name}"] = (
                            round(value, 6) if isinstance(value, float) else value
                        )
                    elif name in ("split_rows", "pushed_version", "blessed"):
                        facts["outputs"][f"{node_id}.{key}.{name}"] = value
    return facts


def compare(md: Metadata, run_ids: list[str]) -> dict[str, Any]:
    """Rows of every section with each run's value and whether they differ."""
    per_run = [run_facts(md, r) for r in run_ids]
    rows = []
    for section in ("parameters", "code", "state", "outputs"):
        names = sorted({n for facts in per_run for n in facts[section]})
        for name in names:
            values = [facts[section].get(name) for facts in per_run]
            rows.append({"section": section, "name": name, "values": values, "differs": len(set(map(str, values))) > 1})
    return {"runs": run_ids, "rows": rows}


def render(table: dict[str, Any], only_differences: bool) -> str:
    """The comparison as text: one block per section, differing rows marked with '*'."""
    runs = table["runs"]
    rows = [r for r in table["rows"] if r["differs"] or not only_differences]
    width = max([len(r["name"]) for r in rows] + [10])
    cols = [max([len(run)] + [len(_cell(r["values"][i])) for r in rows]) for i, run in enumerate(runs)]
    lines = [f"  {'':<{width}}  " + "  ".join(f"{run:<{cols[i]}}" for i, run in enumerate(runs))]
    section = None
    for r in rows:
        if r["section"] != section:
            section = r["section"]
            lines.append(f"{section}:")
        mark = "*" if r["differs"] else " "
        cells = "  ".join(f"{_cell(v):<{cols[i]}}" for i, v in enumerate(r["values"]))
        lines.append(f"{mark} {r['name']:<{width}}  {cells}".rstrip())
    differing = sum(r["differs"] for r in table["rows"])
    lines.append(f"{differing} of {len(table['rows'])} rows differ (marked *)")
    return "\n".join(lines)


_BARS = "▁▂▃▄▅▆▇█"


# Numbers an output records that are settings or bookkeeping, not results: left out of the plot.
_NOT_RESULTS = {"train_steps", "eval_steps", "keras_version", "trained_at_ms", "pushed", "pushed_version", "span"}


def results(rows: list[tuple[str, list[Any]]]) -> list[tuple[str, list[Any]]]:
    """The output rows (name, a value per run) worth plotting: results, not settings (`_NOT_RESULTS`),
    recorded by two runs or more; a number two outputs of one node both carry (a Model and its ModelRun)
    once. Values that are not numbers become None (a gap)."""
    out = []
    seen: set[tuple[str, str, str]] = set()
    for name, raw in rows:
        node, _, rest = name.partition(".")
        prop = rest.partition(".")[2]
        if prop in _NOT_RESULTS:
            continue
        values = [v if isinstance(v, (int, float)) and not isinstance(v, bool) else None for v in raw]
        key = (node, prop, repr(values))
        if key in seen or sum(v is not None for v in values) < 2:
            continue
        seen.add(key)
        out.append((name, values))
    return out


def plot(table: dict[str, Any]) -> str:
    """Each result an output recorded, over the compared runs (in the table's order: pass them oldest
    first), as a terminal sparkline with its first, lowest, highest and last value. A run without it (a
    skipped Trainer) is a gap (see `results`)."""
    series = results([(r["name"], r["values"]) for r in table["rows"] if r["section"] == "outputs"])
    if not series:
        return "no result was recorded by two or more of these runs"
    width = max(len(name) for name, _ in series)
    lines = [f"{len(table['runs'])} runs, oldest on the left (a gap: a run that did not record it):"]
    for name, values in series:
        present = [v for v in values if v is not None]
        low, high = min(present), max(present)
        span = (high - low) or 1.0
        bars = "".join(
            " " if v is None else _BARS[min(len(_BARS) - 1, int((v - low) / span * len(_BARS)))] for v in values
        )
        lines.append(
            f"  {name:<{width}}  {bars}  first {present[0]:.4g}  min {low:.4g}  max {high:.4g}  last {present[-1]:.4g}"
        )
    return "\n".join(lines)


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)
