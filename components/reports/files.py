"""Where a report lives: `report.html` at the top of an artifact's directory, written atomically; and
rebuilding the page of a data artifact from its files (`headrace show` does, for an artifact written
without one)."""

from __future__ import annotations

import os
import tempfile
from typing import Any

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


def rebuild(type_name: str, uri: str) -> str | None:
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
        from headrace.components.reports.statistics import statistics_html

        return statistics_html(stats, title)
    if type_name == "ExampleAnomalies":
        from tensorflow_metadata.proto.v0 import anomalies_pb2

        from headrace.components.reports.anomalies import anomalies_html

        return anomalies_html(_read_splits(uri, "SchemaDiff.pb", anomalies_pb2.Anomalies), title)
    if type_name == "Schema":
        from google.protobuf import text_format
        from tensorflow_metadata.proto.v0 import schema_pb2

        path = os.path.join(uri, "schema.pbtxt")
        with open(path, encoding="utf-8") as f:
            from headrace.components.reports.schema import schema_html

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


__all__ = ["REPORT_NAME", "rebuild", "write_report"]
