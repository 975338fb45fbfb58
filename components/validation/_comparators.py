"""DistributionValidator's TFDV comparators: the schema that switches on the chosen distance comparators
(L-infinity, Jensen-Shannon, normalized absolute difference) for the features they apply to, and what
of TFDV's anomalies is the comparison (the rows drift.json and the report show)."""

from __future__ import annotations

from typing import Any

from headrace.components.reports.html import DATASET
from headrace.components.validation._drift_tests import finite


def comparison_only(anomalies: Any) -> Any:
    """The anomalies of the distribution comparison alone: a schema inferred from the baseline also
    reports, say, a new category as out of its domain; that is ExampleValidator's business."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    keep = {v.number for v in anomalies_pb2.AnomalyInfo.Type.DESCRIPTOR.values if v.name.startswith("COMPARATOR_")}
    out = anomalies_pb2.Anomalies()
    out.CopyFrom(anomalies)
    for name in list(out.anomaly_info):
        info = out.anomaly_info[name]
        reasons = [r for r in info.reason if r.type in keep]
        if not reasons:
            del out.anomaly_info[name]
            continue
        del info.reason[:]
        info.reason.extend(reasons)
        info.description = " ".join(r.description for r in reasons)
        info.short_description = reasons[0].short_description if len(reasons) == 1 else "Multiple errors"
        info.ClearField("diff_regions")
    if out.HasField("dataset_anomaly_info"):
        reasons = [r for r in out.dataset_anomaly_info.reason if r.type in keep]
        if reasons:
            del out.dataset_anomaly_info.reason[:]
            out.dataset_anomaly_info.reason.extend(reasons)
            out.dataset_anomaly_info.description = " ".join(r.description for r in reasons)
        else:
            out.ClearField("dataset_anomaly_info")
    out.ClearField("data_missing")
    return out


def comparator_schema(schema: Any, options: dict[str, Any]) -> tuple[Any, set[str]]:
    """The schema with drift comparators set: TFX's per-feature config first, then the thresholds
    (L-infinity on categorical features, Jensen-Shannon on numeric ones). Returns the schema and
    the features that were given a comparator."""
    from google.protobuf import json_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    chosen: set[str] = set()
    configured = {}
    config = options["config"] or {}
    slice_config = config.get("default_slice_config") or {}
    for item in slice_config.get("feature") or []:
        configured[".".join(item.get("path", {}).get("step", []))] = item.get("distribution_comparator") or {}
    by_name = {f.name: f for f in schema.feature}
    for name, comparator in configured.items():
        if name in by_name:
            json_format.ParseDict(comparator, by_name[name].drift_comparator)
            chosen.add(name)
    if "num_examples_comparator" in slice_config:
        json_format.ParseDict(
            slice_config["num_examples_comparator"], schema.dataset_constraints.num_examples_drift_comparator
        )
    l_inf, js = options["l_infinity_threshold"], options["jensen_shannon_threshold"]
    for f in schema.feature:
        if f.name in configured or (options["features"] and f.name not in options["features"]):
            continue
        categorical = (
            f.type == schema_pb2.BYTES
            or f.HasField("string_domain")
            or f.HasField("domain")
            or (f.type == schema_pb2.INT and f.int_domain.is_categorical)
        )
        if categorical and l_inf is not None:
            f.drift_comparator.infinity_norm.threshold = l_inf
            chosen.add(f.name)
        elif not categorical and f.type in (schema_pb2.INT, schema_pb2.FLOAT) and js is not None:
            f.drift_comparator.jensen_shannon_divergence.threshold = js
            chosen.add(f.name)
    return schema, chosen | (set(configured) - set(by_name))


_MEASUREMENTS = {1: "l_infinity", 2: "jensen_shannon", 3: "normalized_abs_difference"}


def comparator_rows(anomalies: Any, chosen: set[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One row per measurement TFDV made; the features given a comparator and not measured."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    rows: list[dict[str, Any]] = []
    for info in anomalies.drift_skew_info:
        name = ".".join(info.path.step)
        for m in info.drift_measurements:
            value, threshold = finite(m.value), finite(m.threshold)
            rows.append(
                {
                    "feature": name,
                    "test": _MEASUREMENTS.get(m.type, str(m.type)),
                    "statistic": value,
                    "p_value": None,
                    "threshold": threshold,
                    "drifted": value is not None and threshold is not None and value > threshold,
                }
            )
    measured = {r["feature"] for r in rows}
    unfit = "TFDV could not compare it (missing statistics, or a comparator unfit for its type)"
    skipped = [{"feature": name, "reason": unfit} for name in sorted(chosen - measured)]
    kinds = anomalies_pb2.AnomalyInfo.Type
    for r in anomalies.dataset_anomaly_info.reason:  # the num_examples comparator's verdict
        if r.type in (kinds.COMPARATOR_LOW_NUM_EXAMPLES, kinds.COMPARATOR_HIGH_NUM_EXAMPLES):
            none = dict.fromkeys(("statistic", "p_value", "threshold"))
            rows.append(
                {"feature": DATASET, "test": "num_examples", **none, "drifted": True, "description": r.description}
            )
    return rows, skipped


# -- the executor --------------------------------------------------------------------------------------


__all__ = ["comparator_rows", "comparator_schema", "comparison_only"]
