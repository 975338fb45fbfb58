"""Self-contained HTML reports for the data artifacts: statistics, schema, anomalies, drift.

The data components call these at the end of their executors and write the page next to their
artifact: `write_report(uri, html)` puts `report.html` at the top of the artifact's directory, where
`headrace show` and `InteractiveContext.show` look for it. Pages carry their CSS inline and their
figures as inline SVG: no scripts, no external URLs, so they open anywhere, offline.

Protos come in as objects (tensorflow_metadata's `statistics_pb2`, `schema_pb2`, `anomalies_pb2`).
Those modules are imported only inside the functions that need them; TensorFlow never is.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

from headrace.components.reports.html import EMPTY, PALETTE, esc, hbars, histogram, num, page

REPORT_NAME = "report.html"
_TOP_VALUES = 10
_DOMAIN_VALUES = 12
_DATASET = "(dataset)"  # the feature column of an anomaly about the whole dataset

# -- statistics ------------------------------------------------------------------------------------

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
    splits = _ordered(stats_by_split)
    datasets = {s: _dataset(stats_by_split[s]) for s in splits}
    flagged = {s: _anomaly_rows(a) for s, a in (anomalies_by_split or {}).items()}
    by_feature: dict[str, dict[str, Any]] = {}
    for split, ds in datasets.items():
        for f in ds.features if ds is not None else ():
            by_feature.setdefault(_feature_name(f), {})[split] = f
    for rows in flagged.values():  # a feature absent from every split still shows, with its anomaly
        for row in rows:
            if row[0] != _DATASET:
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
            f'<div class="badge {_severity_class(severity)}">{esc(split)}: {esc(short)}</div>'
            f'<div class="desc">{esc(long)}</div>'
        )
    valency = _valency(per_split)
    head += f'<div class="ftype">{esc(valency)}</div>' if valency else ""
    x_range, y_max = _shared_scale(per_split) if kind == "num_stats" else (None, None)
    width = len(_SECTIONS_BY_KIND[kind]) + (1 if kind in _CHART_HEADING else 0)
    out = []
    for i, split in enumerate(splits):
        f = per_split.get(split)
        row_class = f' class="{_severity_class(mine[split][1])}"' if split in mine else ""
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
    for split in _ordered(flagged):
        if not flagged[split]:
            items.append(f'<li><b>{esc(split)}</b>: <span class="badge ok">no anomalies</span></li>')
        for feature, severity, short, _ in flagged[split]:
            link = f'<a href="#{anchors[feature]}">{esc(feature)}</a>' if feature in anchors else esc(feature)
            items.append(
                f'<li><b>{esc(split)}</b>: {link} <span class="badge {_severity_class(severity)}">'
                f"{esc(severity.lower())}</span> {esc(short)}</li>"
            )
    count = sum(len(rows) for rows in flagged.values())
    return f'<div class="summary {"bad" if count else "good"}"><b>Anomalies: {count}</b><ul>{"".join(items)}</ul></div>'


# -- anomalies -------------------------------------------------------------------------------------


def anomalies_html(anomalies_by_split: Mapping[str, Any], title: str) -> str:
    """A page per split: "no anomalies", or a table of feature, severity, short and long description.

    Args:
        anomalies_by_split: Split name -> tensorflow_metadata `Anomalies`.
        title: The page title.
    """
    body = []
    for split in _ordered(anomalies_by_split):
        anomalies = anomalies_by_split[split]
        rows = _anomaly_rows(anomalies)
        body.append(f"<h2>{esc(split)}</h2>")
        if anomalies.data_missing:
            body.append('<p class="summary bad"><b>No data</b>: this split had no examples to validate.</p>')
        if not rows:
            body.append('<p class="summary good"><b>No anomalies</b> found in this split.</p>')
        else:
            trs = "".join(
                f'<tr class="{_severity_class(sev)}"><td class="fname">{esc(feature)}</td>'
                f'<td><span class="badge {_severity_class(sev)}">{esc(sev.lower())}</span></td>'
                f"<td>{esc(short)}</td><td>{esc(long)}</td></tr>"
                for feature, sev, short, long in rows
            )
            body.append(
                f'<p class="summary bad"><b>{len(rows)} {"anomaly" if len(rows) == 1 else "anomalies"}</b></p>'
                "<table><tr><th>feature</th><th>severity</th><th>short description</th><th>description</th></tr>"
                f"{trs}</table>"
            )
        measured = [
            (".".join(info.path.step), m)
            for info in getattr(anomalies, "drift_skew_info", ())
            for m in list(info.drift_measurements) + list(info.skew_measurements)
        ]
        if measured:
            trs = "".join(
                f"<tr><td>{esc(path)}</td><td>{esc(m.DESCRIPTOR.fields_by_name['type'].enum_type.values_by_number[m.type].name)}"
                f'</td><td class="n">{num(m.value)}</td><td class="n">{num(m.threshold)}</td></tr>'
                for path, m in measured
            )
            body.append(
                "<h3>Drift and skew measurements</h3><table><tr><th>feature</th><th>measurement</th>"
                f"<th>value</th><th>threshold</th></tr>{trs}</table>"
            )
    if not anomalies_by_split:
        body.append('<p class="summary good"><b>No anomalies</b>: nothing was validated.</p>')
    return page(title, "".join(body))


def _anomaly_rows(anomalies: Any) -> list[tuple[str, str, str, str]]:
    """(feature, severity, short description, description) for each anomaly, the dataset's first."""
    rows = []
    infos = [(_DATASET, anomalies.dataset_anomaly_info)] if anomalies.HasField("dataset_anomaly_info") else []
    # The key is the path serialized (quoted when a step has special characters); show the steps as
    # the statistics name them.
    infos += sorted((".".join(info.path.step) or key, info) for key, info in anomalies.anomaly_info.items())
    for feature, info in infos:
        if not info.reason and not info.description and not info.short_description:
            continue
        severity = info.DESCRIPTOR.fields_by_name["severity"].enum_type.values_by_number[info.severity].name
        reasons = list(dict.fromkeys(r.short_description for r in info.reason if r.short_description))
        # TFDV says "Multiple errors" when there are several: name them.
        short = "; ".join(reasons) if len(reasons) > 1 else info.short_description or "; ".join(reasons)
        long = info.description or " ".join(r.description for r in info.reason)
        rows.append((feature, severity, short, long))
    return rows


def _severity_class(severity: str) -> str:
    return "warn" if severity == "WARNING" else "err"


# -- schema ----------------------------------------------------------------------------------------


def schema_html(schema: Any, title: str) -> str:
    """A table of the schema's features: name, type, presence, valency or shape, domain.

    Args:
        schema: A tensorflow_metadata `Schema`.
        title: The page title.
    """
    domains = {d.name: d for d in schema.string_domain}
    rows = []
    for f in sorted(schema.feature, key=lambda f: f.name):
        type_name = f.DESCRIPTOR.fields_by_name["type"].enum_type.values_by_number[f.type].name
        notes = []
        if f.not_in_environment:
            notes.append("not in " + ", ".join(f.not_in_environment))
        if f.in_environment:
            notes.append("only in " + ", ".join(f.in_environment))
        if f.deprecated or f.lifecycle_stage == 6:  # 6: LifecycleStage.DEPRECATED
            notes.append("deprecated")
        rows.append(
            f'<tr><td class="fname">{esc(f.name)}</td><td>{esc(type_name)}</td><td>{esc(_presence(f))}</td>'
            f"<td>{esc(_shape(f))}</td><td>{_domain(f, domains)}</td><td>{esc('; '.join(notes))}</td></tr>"
        )
    extra = ""
    if schema.sparse_feature or schema.weighted_feature:
        names = [s.name for s in schema.sparse_feature] + [w.name for w in schema.weighted_feature]
        extra = f"<p>Sparse and weighted features: {esc(', '.join(names))}</p>"
    table = (
        "<table><tr><th>feature</th><th>type</th><th>presence</th><th>valency / shape</th><th>domain</th>"
        f"<th>notes</th></tr>{''.join(rows)}</table>"
    )
    return page(title, f'<div class="cards"><div class="card">{len(rows)} features</div></div>{table}{extra}')


def _presence(f: Any) -> str:
    if not f.HasField("presence"):
        return EMPTY
    p = f.presence
    if p.min_fraction >= 1:
        text = "required"
    elif p.HasField("min_fraction"):
        text = f"optional (≥ {p.min_fraction:.0%} of examples)"
    else:
        text = "optional"
    return text + (f", min count {p.min_count}" if p.min_count else "")


def _shape(f: Any) -> str:
    if f.HasField("shape"):
        return "shape [" + ", ".join(str(d.size) for d in f.shape.dim) + "]"
    if f.HasField("value_count"):
        lo, hi = f.value_count.min, f.value_count.max
        if lo == hi == 1:
            return "single value"
        return f"{lo} to {hi or '∞'} values" if lo != hi else f"{lo} values"
    if f.HasField("value_counts"):
        return "nested: " + " x ".join(f"{v.min} to {v.max or '∞'}" for v in f.value_counts.value_count)
    return EMPTY


def _domain(f: Any, domains: dict[str, Any]) -> str:
    which = f.WhichOneof("domain_info")
    if which in ("domain", "string_domain"):
        d = domains.get(f.domain) if which == "domain" else f.string_domain
        if d is None:
            return f"string domain {esc(f.domain)} (not in the schema)"
        values = list(d.value)
        shown = ", ".join(esc(v) for v in values[:_DOMAIN_VALUES])
        more = (
            f' <span class="more">… and {len(values) - _DOMAIN_VALUES} more</span>'
            if len(values) > _DOMAIN_VALUES
            else ""
        )
        return f'<span class="more">{len(values)} values:</span> {shown}{more}'
    if which in ("int_domain", "float_domain"):
        d = getattr(f, which)
        lo = num(d.min) if d.HasField("min") else "-∞"
        hi = num(d.max) if d.HasField("max") else "∞"
        categorical = " categorical" if which == "int_domain" and d.is_categorical else ""
        return (
            f"[{lo}, {hi}]{categorical}" if (d.HasField("min") or d.HasField("max")) else (categorical.strip() or EMPTY)
        )
    return esc(which.replace("_", " ")) if which else EMPTY


# -- drift -----------------------------------------------------------------------------------------

_TESTS = {
    "ks": ("Kolmogorov-Smirnov", "p < threshold"),
    "chi2": ("chi-squared", "p < threshold"),
    "l_infinity": ("L-infinity distance", "statistic > threshold"),
    "jensen_shannon": ("Jensen-Shannon divergence", "statistic > threshold"),
}


def drift_html(rows: list[dict[str, Any]], title: str) -> str:
    """A table of drift tests, the drifted first and highlighted.

    Args:
        rows: Dicts with keys feature, split, test ('ks', 'chi2', 'l_infinity', 'jensen_shannon'),
            statistic, p_value (None for distances), threshold, drifted.
        title: The page title.
    """
    ordered = sorted(rows, key=lambda r: (not r["drifted"], str(r["feature"]), str(r["split"]), str(r["test"])))
    drifted = sum(1 for r in rows if r["drifted"])
    trs = []
    for r in ordered:
        name, rule = _TESTS.get(str(r["test"]), (str(r["test"]), ""))
        verdict = '<span class="badge err">drifted</span>' if r["drifted"] else '<span class="badge ok">no drift</span>'
        p_value = r.get("p_value")
        trs.append(
            f'<tr class="{"err" if r["drifted"] else ""}"><td class="fname">{esc(r["feature"])}</td>'
            f'<td>{esc(r["split"])}</td><td>{esc(name)}</td><td class="n">{num(r["statistic"])}</td>'
            f'<td class="n">{num(p_value)}</td><td class="n">{num(r["threshold"])}</td>'
            f"<td>{esc(rule)}</td><td>{verdict}</td></tr>"
        )
    features = len({r["feature"] for r in rows})
    summary = (
        f'<p class="summary {"bad" if drifted else "good"}"><b>{drifted} of {len(rows)} tests drifted</b> '
        f"({features} features)</p>"
    )
    table = (
        "<table><tr><th>feature</th><th>split</th><th>test</th><th>statistic</th><th>p-value</th><th>threshold</th>"
        f"<th>drifted when</th><th>result</th></tr>{''.join(trs)}</table>"
    )
    return page(title, summary + (table if rows else ""))


def evaluation_html(
    candidate: dict[str, dict[str, float]],
    baseline: dict[str, dict[str, float]] | None,
    failures: list[str],
    title: str,
) -> str:
    """A model evaluation: the verdict and its reasons, then every slice's metrics, the baseline
    model's beside them and the change (when there is a baseline).

    Args:
        candidate: {slice name: {metric: value}} of the evaluated model.
        baseline: The same for the baseline model, or None.
        failures: The failed thresholds (empty: blessed).
        title: The page title.
    """
    verdict = (
        '<p class="summary good"><b>blessed</b>: every threshold holds</p>'
        if not failures
        else '<p class="summary bad"><b>NOT blessed</b></p><ul>'
        + "".join(f"<li>{esc(f)}</li>" for f in failures)
        + "</ul>"
    )
    metrics = sorted({m for row in candidate.values() for m in row})
    head = "<tr><th>slice</th><th>metric</th><th>model</th>" + (
        "<th>baseline</th><th>change</th></tr>" if baseline else "</tr>"
    )
    trs = []
    for slice_name, row in candidate.items():
        for metric in metrics:
            if metric not in row:
                continue
            value = row[metric]
            cells = f'<td class="fname">{esc(slice_name)}</td><td>{esc(metric)}</td><td class="n">{num(value)}</td>'
            if baseline:
                base = (baseline.get(slice_name) or {}).get(metric)
                change = None if base is None or value is None else value - base
                cells += f'<td class="n">{num(base)}</td><td class="n">{num(change)}</td>'
            flagged = any(metric in f and slice_name in f for f in failures)
            trs.append(f'<tr class="{"err" if flagged else ""}">{cells}</tr>')
    return page(title, verdict + f"<table>{head}{''.join(trs)}</table>")


# -- files -----------------------------------------------------------------------------------------


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


def report_for_artifact(type_name: str, uri: str) -> str | None:
    """Rebuilds the report of an ExampleStatistics, Schema or ExampleAnomalies artifact from its files.

    Reads TFX's layout: `Split-<name>/FeatureStats.pb` (a binary DatasetFeatureStatisticsList),
    `schema.pbtxt` (a text Schema), `Split-<name>/SchemaDiff.pb` (binary Anomalies).

    Returns:
        The HTML, or None for other artifact types.

    Raises:
        FileNotFoundError: the artifact's directory holds none of the files its type writes.
    """
    title = f"{type_name} · {uri}"
    if type_name == "ExampleStatistics":
        from tensorflow_metadata.proto.v0 import statistics_pb2

        stats = _read_splits(uri, "FeatureStats.pb", statistics_pb2.DatasetFeatureStatisticsList)
        return statistics_html(stats, title)
    if type_name == "ExampleAnomalies":
        from tensorflow_metadata.proto.v0 import anomalies_pb2

        return anomalies_html(_read_splits(uri, "SchemaDiff.pb", anomalies_pb2.Anomalies), title)
    if type_name == "Schema":
        from google.protobuf import text_format
        from tensorflow_metadata.proto.v0 import schema_pb2

        path = os.path.join(uri, "schema.pbtxt")
        with open(path, encoding="utf-8") as f:
            return schema_html(text_format.Parse(f.read(), schema_pb2.Schema()), title)
    return None


def _read_splits(uri: str, filename: str, message: Any) -> dict[str, Any]:
    found = {}
    for entry in sorted(os.listdir(uri)):
        path = os.path.join(uri, entry, filename)
        if entry.startswith("Split-") and os.path.isfile(path):
            with open(path, "rb") as f:
                found[entry[len("Split-") :]] = message.FromString(f.read())
    if not found:
        raise FileNotFoundError(f"No Split-*/{filename} under {uri}.")
    return found


# -- the page --------------------------------------------------------------------------------------


def _ordered(by_split: Mapping[str, Any]) -> list[str]:
    """Split names, train and eval first (the comparison a person makes), then the rest by name."""
    first = {"train": 0, "eval": 1, "test": 2}
    return sorted(by_split, key=lambda s: (first.get(s, 3), s))


__all__ = [
    "REPORT_NAME",
    "anomalies_html",
    "drift_html",
    "report_for_artifact",
    "schema_html",
    "statistics_html",
    "write_report",
]
