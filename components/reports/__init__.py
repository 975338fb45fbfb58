"""The HTML reports people look at: `html` (the page kit), `pages` (statistics, anomalies, schema, drift,
evaluation), written next to an artifact's files as report.html."""

from __future__ import annotations

from headrace.components.reports.pages import REPORT_NAME, write_report

__all__ = ["REPORT_NAME", "write_report"]
