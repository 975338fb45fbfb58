"""The statistics page: every feature of every split, numeric and categorical, with histograms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headrace.components.reports.anomalies import anomaly_rows, severity_class
from headrace.components.reports.html import DATASET, PALETTE, esc, hbars, histogram, num, ordered_splits, page

_TOP_VALUES = 10


_SECTIONS = (
    ("num_stats", "Numeric features", ("count", "missing", "mean", "std dev", "zeros", "min", "median", "max")),
    ("string_stats", "Categorical features", ("count", "missing", "unique", "avg length")),
    ("other", "Other features", ("count", "missing", "details")),
)
_SECTIONS_BY_KIND = {kind: columns for kind, _, columns in _SECTIONS}
_CHART_HEADING = {"num_stats": "histogram (share of values)", "string_stats": f"top {_TOP_VALUES} values (share)"}


def statistics_html(
    stats_by_split: Mapping[str, Any], title: str, anomalies_by_split: Mapping[str, Any] | None = None
) -> str:
    """A page of per-feature statistics with the splits next to each other for every feature.

    Args:
        stats_by_split: Split name -> `DatasetFeatureStatisticsList` (its "All Examples" slice, else
            its first dataset, is shown) or `DatasetFeatureStatistics`.
        title: The page title.
        anomalies_by_split: Split name -> `Anomalies`; the features they name are highlighted with
            the anomaly's description, and listed at the top.

    Returns:
        A complete HTML document.
    """
    splits = ordered_splits(stats_by_split)
    datasets = {s: _dataset(stats_by_split[s]) for s in splits}
    flagged = {s: anomaly_rows(a) for s, a in (anomalies_by_split or {}).items()}
    by_feature: dict[str, dict[str, Any]] = {}
    for split, ds in datasets.items():
        for f in ds.features if ds is not None else ():
            by_feature.setdefault(_feature_name(f), {})[split] = f
    for rows in flagged.values():  # a feature absent from every split still shows, with its anomaly
        for row in rows:
            if row[0] != DATASET:
                by_feature.setdefault(row[0], {})
    names = sorted(by_feature)
    anchors = {name: f"f{i}" for i, name in enumerate(names)}
    colors = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(splits)}
    by_kind: dict[str, list[str]] = {kind: [] for kind, _, _ in _SECTIONS}
    for name in names:
        kinds = {f.WhichOneof("stats") for f in by_feature[name].values()}
        by_kind[next((k for k in ("num_stats", "string_stats") if k in kinds), "other")].append(name)

    cards = "".join(
        f'<div class="card"><span class="dot" style="background:{colors[s]}"></span><b>{esc(s)}</b> '
        f"{num(ds.num_examples if ds is not None else 0)} examples · "
        f"{len(ds.features) if ds is not None else 0} features</div>"
        for s, ds in datasets.items()
    )
    body = [f'<div class="cards">{cards}</div>', _anomaly_summary(flagged, anchors)]
    for kind, heading, columns in _SECTIONS:
        if not by_kind[kind]:
            continue
        head = "<th>feature</th><th>split</th>" + "".join(f'<th class="n">{c}</th>' for c in columns)
        head += f"<th>{_CHART_HEADING[kind]}</th>" if kind in _CHART_HEADING else ""
        trs = "".join(
            _feature_rows(name, by_feature[name], kind, splits, colors, flagged, anchors[name])
            for name in by_kind[kind]
        )
        body.append(f"<h2>{heading} ({len(by_kind[kind])})</h2><table>{head}{trs}</table>")
    if not names:
        body.append('<p class="ok">No features in these statistics.</p>')
    return page(title, "".join(body))


def _feature_rows(
    name: str,
    per_split: dict[str, Any],
    kind: str,
    splits: list[str],
    colors: dict[str, str],
    flagged: dict[str, list[tuple[str, str, str, str]]],
    anchor: str,
) -> str:
    """One row per split for one feature; the first cell, spanning them, names the feature and its anomalies."""
    mine = {s: row for s, rows in flagged.items() for row in rows if row[0] == name}
    types = sorted({_type_name(f) for f in per_split.values()}) or ["absent"]
    head = f'<div class="fname">{esc(name)}</div><div class="ftype">{esc(" / ".join(types))}</div>'
    for split, (_, severity, short, long) in mine.items():
        head += (
            f'<div class="badge {severity_class(severity)}">{esc(split)}: {esc(short)}</div>'
            f'<div class="desc">{esc(long)}</div>'
        )
    valency = _valency(per_split)
    head += f'<div class="ftype">{esc(valency)}</div>' if valency else ""
    x_range, y_max = _shared_scale(per_split) if kind == "num_stats" else (None, None)
    width = len(_SECTIONS_BY_KIND[kind]) + (1 if kind in _CHART_HEADING else 0)
    out = []
    for i, split in enumerate(splits):
        f = per_split.get(split)
        row_class = f' class="{severity_class(mine[split][1])}"' if split in mine else ""
        first = ""
        if i == 0:
            cls = "feature flagged" if mine else "feature"
            first = f'<td rowspan="{len(splits)}" class="{cls}" id="{anchor}">{head}</td>'
        cells = f'<td class="split"><span class="dot" style="background:{colors[split]}"></span>{esc(split)}</td>'
        if f is None or f.WhichOneof("stats") is None:
            cells += f'<td colspan="{width}" class="absent">not in this split</td>'
        else:
            cells += _stat_cells(f, kind, colors[split], x_range, y_max)
        out.append(f"<tr{row_class}>{first}{cells}</tr>")
    return "".join(out)


def _stat_cells(f: Any, kind: str, color: str, x_range: tuple[float, float] | None, y_max: float | None) -> str:
    which = f.WhichOneof("stats")
    stats = getattr(f, which)
    common = stats.common_stats
    present, missing = common.num_non_missing, common.num_missing
    total = present + missing
    share = f" ({missing / total:.1%})" if total else ""
    cells = [num(present), f'<span class="{"warn-text" if missing else ""}">{num(missing)}{share}</span>']
    if kind == "num_stats":
        if which != "num_stats":  # a feature numeric in one split and not in another: say what it is here
            return _td(cells) + f'<td colspan="7" class="absent">{esc(_type_name(f))} in this split</td>'
        buckets = _buckets(stats, "STANDARD")
        cells += [num(stats.mean), num(stats.std_dev), num(stats.num_zeros), num(stats.min)]
        cells += [num(_median(stats)), num(stats.max), histogram(buckets, color, x_range, y_max)]
    elif kind == "string_stats":
        if which != "string_stats":
            return _td(cells) + f'<td colspan="3" class="absent">{esc(_type_name(f))} in this split</td>'
        top = [(v.value, v.frequency) for v in stats.top_values[:_TOP_VALUES]]
        if not top:  # TFDV fills the rank histogram when it leaves out the top values
            top = [(b.label, b.sample_count) for b in stats.rank_histogram.buckets[:_TOP_VALUES]]
        cells += [num(stats.unique), num(stats.avg_length), hbars(top, common.tot_num_values or present, color)]
    else:
        cells.append(esc(_details(f, which, stats)))
    return _td(cells)


def _details(f: Any, which: str, stats: Any) -> str:
    if which == "bytes_stats":
        return f"{num(stats.unique)} unique, {num(stats.min_num_bytes)} to {num(stats.max_num_bytes)} bytes"
    if which == "struct_stats":
        return "struct"
    return _type_name(f)


def _td(cells: list[str]) -> str:
    return "".join(f'<td class="n">{c}</td>' if not c.startswith("<svg") else f"<td>{c}</td>" for c in cells)


def _buckets(num_stats: Any, kind: str) -> list[tuple[float, float, float]]:
    for h in num_stats.histograms:
        if h.DESCRIPTOR.fields_by_name["type"].enum_type.values_by_number[h.type].name == kind:
            return [(b.low_value, b.high_value, b.sample_count) for b in h.buckets]
    return []


def _median(num_stats: Any) -> float:
    """The median from the quantiles histogram, where TFDV puts it (its `median` field stays 0).

    The buckets' edges are the quantiles at equal steps, so with an even number of buckets the median
    is the edge in the middle. (Their counts are estimates: interpolating by them would put the median
    of a 0/1 feature somewhere between 0 and 1.)
    """
    quantiles = _buckets(num_stats, "QUANTILES")
    if not quantiles:
        return float(num_stats.median)
    n = len(quantiles)
    if n % 2 == 0:
        return quantiles[n // 2 - 1][1]
    low, high, _ = quantiles[n // 2]
    return (low + high) / 2


def _shared_scale(per_split: dict[str, Any]) -> tuple[tuple[float, float] | None, float | None]:
    """One x range and bar height for a feature's histograms in every split, so their shapes compare."""
    lows, highs, tops = [], [], []
    for f in per_split.values():
        if f.WhichOneof("stats") == "num_stats":
            buckets = _buckets(f.num_stats, "STANDARD")
            total = sum(c for _, _, c in buckets)
            if buckets and total > 0:
                lows.append(min(b[0] for b in buckets))
                highs.append(max(b[1] for b in buckets))
                tops.append(max(c / total for _, _, c in buckets))
    if not tops:
        return None, None
    return (min(lows), max(highs)), max(tops)


def _valency(per_split: dict[str, Any]) -> str:
    """Values per example, when not exactly one everywhere."""
    lo = hi = None
    for f in per_split.values():
        which = f.WhichOneof("stats")
        if which is None:
            continue
        c = getattr(f, which).common_stats
        if c.num_non_missing:
            lo = c.min_num_values if lo is None else min(lo, c.min_num_values)
            hi = c.max_num_values if hi is None else max(hi, c.max_num_values)
    if lo is None or (lo == 1 and hi == 1):
        return ""
    return f"{lo} values per example" if lo == hi else f"{lo} to {hi} values per example"


def _dataset(stats: Any) -> Any:
    if hasattr(stats, "datasets"):
        datasets = list(stats.datasets)
        return next((d for d in datasets if d.name == "All Examples"), datasets[0] if datasets else None)
    return stats


def _feature_name(f: Any) -> str:
    return f.name or ".".join(f.path.step)


def _type_name(f: Any) -> str:
    return str(f.DESCRIPTOR.fields_by_name["type"].enum_type.values_by_number[f.type].name)


def _anomaly_summary(flagged: dict[str, list[tuple[str, str, str, str]]], anchors: dict[str, str]) -> str:
    if not flagged:
        return ""
    items = []
    for split in ordered_splits(flagged):
        if not flagged[split]:
            items.append(f'<li><b>{esc(split)}</b>: <span class="badge ok">no anomalies</span></li>')
        for feature, severity, short, _ in flagged[split]:
            link = f'<a href="#{anchors[feature]}">{esc(feature)}</a>' if feature in anchors else esc(feature)
            items.append(
                f'<li><b>{esc(split)}</b>: {link} <span class="badge {severity_class(severity)}">'
                f"{esc(severity.lower())}</span> {esc(short)}</li>"
            )
    count = sum(len(rows) for rows in flagged.values())
    return f'<div class="summary {"bad" if count else "good"}"><b>Anomalies: {count}</b><ul>{"".join(items)}</ul></div>'


__all__ = ["statistics_html"]
