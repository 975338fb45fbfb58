"""The Evaluator's thresholds: value thresholds on a model's metrics and change thresholds against the
baseline model's, per slice; the failures they find, in TFMA's form too."""

from __future__ import annotations

import math
from typing import Any

from headrace.components.evaluation._tfma_format import Failure, SliceKeyType
from headrace.components.evaluation.config import OVERALL, metric_specs, reported_names


def _bound(threshold: dict[str, Any], key: str) -> float | None:
    """A bound written {"value": x} (a dict by hand) or x (a tfma.EvalConfig through MessageToDict,
    which writes a google.protobuf.DoubleValue as its number)."""
    value = threshold.get(key)
    if isinstance(value, dict):
        value = value.get("value")
    return None if value is None else float(value)


def validate(
    config: dict[str, Any],
    current: dict[str, Any],
    baseline: dict[str, Any] | None,
    keys: dict[str, SliceKeyType] | None = None,
) -> list[str]:
    """The failed thresholds, one readable line each (empty: blessed). `keys`: each slice's
    ((column, value), ...), for per-slice thresholds (default: read from the slice names)."""
    return [f.message for f in find_failures(config, current, baseline, keys)]


def _slice_key(name: str) -> SliceKeyType:
    """((column, value), ...) of a slice name ('Overall', 'island:Dream; sex:male'), values as text."""
    if name == OVERALL:
        return ()
    return tuple((part.partition(":")[0], part.partition(":")[2]) for part in name.split("; "))


def _matches(spec: dict[str, Any], key: SliceKeyType) -> bool:
    """Whether a slice is one of those a tfma.SlicingSpec names (its feature_keys, with any values,
    and its feature_values); `SlicingSpec()` is the overall slice."""
    columns = dict(key)
    values = spec.get("feature_values") or {}
    if set(columns) != set(spec.get("feature_keys") or []) | set(values):
        return False
    return all(str(columns[k]) == str(v) for k, v in values.items())


def find_failures(
    config: dict[str, Any],
    current: dict[str, Any],
    baseline: dict[str, Any] | None,
    keys: dict[str, SliceKeyType] | None = None,
) -> list[Failure]:
    failures = []
    for metric in metric_specs(config):
        for name, _ in reported_names(metric):
            failures += _metric_failures(metric, name, current, baseline, keys)
    return failures


def _metric_failures(
    metric: dict[str, Any],
    name: str,
    current: dict[str, Any],
    baseline: dict[str, Any] | None,
    keys: dict[str, SliceKeyType] | None,
) -> list[Failure]:
    """One reported metric's thresholds over the slices they are for."""
    failures: list[Failure] = []
    # (threshold, the slicing specs it is for; None: every slice)
    rules: list[tuple[dict[str, Any], list[dict[str, Any]] | None]] = (
        [(metric["threshold"], None)] if metric.get("threshold") else []
    )
    rules += [(p.get("threshold") or {}, p.get("slicing_specs") or [{}]) for p in metric.get("per_slice", [])]
    for threshold, slicing in rules:
        for slice_name, row in current.items():
            key = (keys or {}).get(slice_name, _slice_key(slice_name))
            if slicing is not None and not any(_matches(spec, key) for spec in slicing):
                continue
            value = row.get(name)
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                failures += _check(threshold, name, slice_name, value, (baseline or {}).get(slice_name))
    return failures


def _check(
    threshold: dict[str, Any], name: str, slice_name: str, value: float, base_row: dict[str, Any] | None
) -> list[Failure]:
    """One metric's value on one slice against one MetricThreshold (and the baseline's value)."""
    failures = []
    vt = threshold.get("value_threshold") or {}
    low, high = _bound(vt, "lower_bound"), _bound(vt, "upper_bound")
    if low is not None and value < low:
        failures.append(
            Failure(
                slice_name,
                name,
                value,
                f"{name} on {slice_name} = {value:.4g} is below the lower bound {low:g}",
            )
        )
    if high is not None and value > high:
        failures.append(
            Failure(
                slice_name,
                name,
                value,
                f"{name} on {slice_name} = {value:.4g} is above the upper bound {high:g}",
            )
        )
    ct = threshold.get("change_threshold") or {}
    if ct and base_row and name in base_row:
        change = value - base_row[name]
        higher = ct.get("direction", "HIGHER_IS_BETTER") == "HIGHER_IS_BETTER"
        absolute = _bound(ct, "absolute")
        relative = _bound(ct, "relative")
        base = base_row[name]
        if absolute is not None and (change < absolute if higher else change > absolute):
            message = (
                f"{name} on {slice_name} changed by {change:+.4g} against the baseline ({base:.4g}); "
                f"the change threshold is {absolute:+g} ({'higher' if higher else 'lower'} is better)"
            )
            failures.append(Failure(slice_name, name, change, message, is_diff=True))
        if relative is not None and base:
            ratio = change / abs(base)
            if ratio < relative if higher else ratio > relative:
                message = (
                    f"{name} on {slice_name} changed by {ratio:+.2%} against the baseline; the relative "
                    f"change threshold is {relative:+g}"
                )
                failures.append(Failure(slice_name, name, change, message, is_diff=True))
    return failures


__all__ = ["find_failures", "validate"]
