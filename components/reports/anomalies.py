"""The anomalies page: what ExampleValidator found, per split and feature."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headrace.components.reports.html import DATASET, esc, num, ordered_splits, page


def anomalies_html(anomalies_by_split: Mapping[str, Any], title: str) -> str:
    """A page per split: "no anomalies", or a table of feature, severity, short and long description.

    Args:
        anomalies_by_split: Split name -> tensorflow_metadata `Anomalies`.
        title: The page title.
    """
    body = []
    for split in ordered_splits(anomalies_by_split):
        anomalies = anomalies_by_split[split]
        rows = anomaly_rows(anomalies)
        body.append(f"<h2>{esc(split)}</h2>")
        if anomalies.data_missing:
            body.append('<p class="summary bad"><b>No data</b>: this split had no examples to validate.</p>')
        if not rows:
            body.append('<p class="summary good"><b>No anomalies</b> found in this split.</p>')
        else:
            trs = "".join(
                f'<tr class="{severity_class(sev)}"><td class="fname">{esc(feature)}</td>'
                f'<td><span class="badge {severity_class(sev)}">{esc(sev.lower())}</span></td>'
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


def anomaly_rows(anomalies: Any) -> list[tuple[str, str, str, str]]:
    """(feature, severity, short description, description) for each anomaly, the dataset's first."""
    rows = []
    infos = [(DATASET, anomalies.dataset_anomaly_info)] if anomalies.HasField("dataset_anomaly_info") else []
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


def severity_class(severity: str) -> str:
    return "warn" if severity == "WARNING" else "err"


__all__ = ["anomalies_html", "anomaly_rows", "severity_class"]
