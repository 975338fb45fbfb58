"""The HTML reports people look at, written next to an artifact's files as report.html: one module per
page (statistics, anomalies, schema, drift, evaluation) over the page kit (`html`), and `files` (where a
report lives, writing it atomically, rebuilding a data artifact's page from its files).

Pages carry their CSS inline and their figures as inline SVG: no scripts, no external URLs, so they open
anywhere, offline. Protos come in as objects (tensorflow_metadata's statistics, schema and anomalies);
those modules are imported only inside the functions that need them; TensorFlow never is.
"""

from __future__ import annotations

from headrace.components.reports.anomalies import anomalies_html
from headrace.components.reports.drift import drift_html
from headrace.components.reports.evaluation import evaluation_html
from headrace.components.reports.files import REPORT_NAME, rebuild, write_report
from headrace.components.reports.schema import schema_html
from headrace.components.reports.statistics import statistics_html

__all__ = [
    "REPORT_NAME",
    "anomalies_html",
    "drift_html",
    "evaluation_html",
    "rebuild",
    "schema_html",
    "statistics_html",
    "write_report",
]
