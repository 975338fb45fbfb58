"""The Evaluator's configuration: TFX's `tfma.EvalConfig` (the proto or its JSON dict) checked when the
component is defined: known fields only, what headrace does not compute refused with the reason, the
metrics each spec asks for, the slices."""

from __future__ import annotations

import json
from typing import Any

from headrace.components.evaluation import _metrics
from headrace.errors import DefinitionError, did_you_mean

OVERALL = "Overall"  # the slice of every example


def config_dict(config: Any) -> dict[str, Any]:
    if hasattr(config, "DESCRIPTOR"):
        from google.protobuf import json_format

        return json_format.MessageToDict(config, preserving_proto_field_name=True)
    if isinstance(config, dict):
        return json.loads(json.dumps(config))
    raise DefinitionError(f"Evaluator: eval_config must be a tfma.EvalConfig or its dict, got {type(config).__name__}.")


# TFMA 0.47.1's field names (tensorflow_model_analysis/proto/config.proto), for a hand-written dict;
# a nested message's fields under "Message.field".
_FIELDS: dict[str, tuple[str, ...]] = {
    "EvalConfig": ("model_specs", "slicing_specs", "cross_slicing_specs", "metrics_specs", "options"),
    "ModelSpec": (
        "name",
        "model_type",
        "signature_name",
        "preprocessing_function_names",
        "label_key",
        "label_keys",
        "prediction_key",
        "prediction_keys",
        "example_weight_key",
        "example_weight_keys",
        "is_baseline",
        "padding_options",
        "inference_batch_size",
    ),
    "SlicingSpec": ("feature_keys", "feature_values", "slice_keys_sql"),
    "MetricsSpec": (
        "metrics",
        "model_names",
        "output_names",
        "output_weights",
        "binarize",
        "aggregate",
        "example_weights",
        "query_key",
        "thresholds",
        "per_slice_thresholds",
        "cross_slice_thresholds",
    ),
    "MetricConfig": ("class_name", "module", "config", "threshold", "per_slice_thresholds", "cross_slice_thresholds"),
    "Options": (
        "include_default_metrics",
        "compute_confidence_intervals",
        "confidence_intervals",
        "min_slice_size",
        "disabled_outputs",
    ),
    "BinarizationOptions": ("class_ids", "k_list", "top_k_list"),
}
_LISTS = {"model_specs": "ModelSpec", "slicing_specs": "SlicingSpec", "metrics_specs": "MetricsSpec"}
# What headrace does not compute, and what to say instead (never ignored: refused when built).
_UNSUPPORTED = {
    "cross_slicing_specs": "cross-slice comparisons are not computed; slice with slicing_specs",
    "ModelSpec.label_keys": "multi-output models are not supported; set label_key",
    "ModelSpec.prediction_keys": "multi-output models are not supported; set prediction_key",
    "ModelSpec.example_weight_key": "example weights are not supported: every example counts once",
    "ModelSpec.example_weight_keys": "example weights are not supported: every example counts once",
    "ModelSpec.preprocessing_function_names": "the serving signature's outputs are used as they are",
    "ModelSpec.padding_options": "labels and outputs are not padded",
    "SlicingSpec.slice_keys_sql": "SQL slices are not computed; use feature_keys / feature_values",
    "MetricsSpec.model_names": "one model is evaluated (and its baseline); drop model_names",
    "MetricsSpec.output_names": "multi-output models are not supported",
    "MetricsSpec.output_weights": "multi-output models are not supported",
    "MetricsSpec.aggregate": (
        "micro/macro/weighted aggregation is not computed; a multi-class model's top-level Precision, "
        "Recall and AUC are TFMA's micro averages already, and binarize class_ids gives each class's"
    ),
    "MetricsSpec.query_key": "query (ranking) metrics are not computed",
    "MetricsSpec.cross_slice_thresholds": "cross-slice comparisons are not computed",
    "MetricConfig.module": "custom metric modules are not run; use one of headrace's metrics",
    "MetricConfig.cross_slice_thresholds": "cross-slice comparisons are not computed",
    "BinarizationOptions.k_list": "binarize supports class_ids only",
    "BinarizationOptions.top_k_list": "binarize supports class_ids only",
    "Options.compute_confidence_intervals": "confidence intervals are not computed",
    "Options.confidence_intervals": "confidence intervals are not computed",
    "Options.min_slice_size": "every slice is reported, whatever its size",
    "Options.disabled_outputs": "every output (metrics, validations; no plots) is written",
}


def _set(value: Any) -> bool:
    """Whether a field is set to something: a wrapper message's {"value": x} counts as x."""
    if isinstance(value, dict) and set(value) == {"value"}:
        value = value["value"]
    return value not in (None, False, 0, "", [], {})


def _check_fields(message: str, value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise DefinitionError(f"Evaluator: eval_config {where} must be a {message} (a dict), got {value!r}.")
    fields = _FIELDS[message]
    for key, item in value.items():
        if key not in fields:
            raise DefinitionError(
                f"Evaluator: eval_config {where} has '{key}', which is not a field of tfma.{message} "
                f"({', '.join(fields)}).{did_you_mean(key, fields)}"
            )
        unsupported = _UNSUPPORTED.get(key if message == "EvalConfig" else f"{message}.{key}")
        if unsupported and _set(item):
            raise DefinitionError(
                f"Evaluator: eval_config {where}.{key} = {json.dumps(item)} is not supported by headrace: "
                f"{unsupported}. (docs/MIGRATING_FROM_TFX.md, 'The Evaluator'.)"
            )


def _check_schema(config: dict[str, Any]) -> None:
    """Every key of the config is a field of its TFMA message, and no field asks for what headrace
    does not compute (each refused with what to do instead)."""
    _check_fields("EvalConfig", config, "")
    for key, message in _LISTS.items():
        for i, item in enumerate(config.get(key) or []):
            _check_fields(message, item, f"{key}[{i}]")
    for i, spec in enumerate(config.get("metrics_specs") or []):
        for j, metric in enumerate(spec.get("metrics") or []):
            _check_fields("MetricConfig", metric, f"metrics_specs[{i}].metrics[{j}]")
        if spec.get("binarize") is not None:
            _check_fields("BinarizationOptions", spec["binarize"], f"metrics_specs[{i}].binarize")
        weights = spec.get("example_weights") or {}
        if _set(weights.get("weighted")):
            raise DefinitionError(
                f"Evaluator: eval_config metrics_specs[{i}].example_weights weighted is not supported by headrace: "
                "every example counts once (unweighted)."
            )
    _check_fields("Options", config.get("options") or {}, "options")


def metric_config(metric: dict[str, Any]) -> dict[str, Any]:
    """A MetricConfig's `config` (a JSON string in the proto, or a dict by hand), checked: headrace
    reads its `name`, and `from_logits` on the crossentropies (TFMA's other metrics raise on it)."""
    cls, config = metric.get("class_name"), metric.get("config") or {}
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except ValueError as e:
            raise DefinitionError(f"Evaluator: metric {cls}: config is not JSON ({e}): {metric['config']!r}.") from e
    if not isinstance(config, dict):
        raise DefinitionError(f"Evaluator: metric {cls}: config must be a JSON object, got {config!r}.")
    allowed = {"name"} | ({"from_logits"} if cls in _metrics.FROM_LOGITS else set())
    for key in config:
        if key not in allowed:
            raise DefinitionError(
                f"Evaluator: metric {cls}: config key '{key}' is not supported by headrace; it reads "
                f"{' and '.join(sorted(allowed))}"
                + (
                    f" ('from_logits' only on {', '.join(sorted(_metrics.FROM_LOGITS))})"
                    if key == "from_logits"
                    else ""
                )
                + (" (per-class metrics: a MetricsSpec's binarize class_ids)" if key in ("class_id", "top_k") else "")
                + f".{did_you_mean(key, allowed)}"
            )
    if "from_logits" in config and not isinstance(config["from_logits"], bool):
        raise DefinitionError(
            f"Evaluator: metric {cls}: from_logits must be true or false, got {config['from_logits']!r}."
        )
    return config


def metric_specs(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Every metric with its thresholds: TFX's `metrics[].threshold` and `metrics[].per_slice_thresholds`,
    the `thresholds` map and the `per_slice_thresholds` map (kept under 'per_slice'), its spec's
    binarize `class_ids` and its config's `from_logits`. A metric only named in a map (TFX's
    penguin_tfma thresholds the Keras model's compiled `sparse_categorical_accuracy` so) is
    computed too, by the TFMA class of that name."""
    classes = {name: cls for cls, name in _metrics.NAMES.items()}
    found: dict[str, dict[str, Any]] = {}
    for spec in config.get("metrics_specs", []):
        class_ids = [int(k) for k in ((spec.get("binarize") or {}).get("class_ids") or {}).get("values") or []]
        extra = {"class_ids": class_ids} if class_ids else {}
        for metric in spec.get("metrics", []):
            entry = found.setdefault(_metrics.metric_name(metric), {})
            entry.update(metric, **extra)
            entry.setdefault("per_slice", []).extend(metric.get("per_slice_thresholds") or [])
        for name, threshold in (spec.get("thresholds") or {}).items():
            found.setdefault(name, {"class_name": classes.get(name, name), **extra})["threshold"] = threshold
        for name, per_slice in (spec.get("per_slice_thresholds") or {}).items():
            metric = found.setdefault(name, {"class_name": classes.get(name, name), **extra})
            metric.setdefault("per_slice", []).extend(per_slice.get("thresholds") or [])
    if "example_count" not in found:
        found["example_count"] = {"class_name": "ExampleCount"}
    return list(found.values())


def reported_names(metric: dict[str, Any]) -> list[tuple[str, int | None]]:
    """The names a metric is reported under, with the binarized class of each ('precision/class_2',
    TFMA's metric with a class_id sub key)."""
    name = _metrics.metric_name(metric)
    return [(f"{name}/class_{k}", k) for k in metric.get("class_ids") or []] or [(name, None)]


def check_config(config: dict[str, Any]) -> dict[str, Any]:
    """Validates an EvalConfig dict when the component is built."""
    _check_schema(config)
    specs = config.get("model_specs") or [{}]
    if len(specs) != 1 or not specs[0].get("label_key"):
        raise DefinitionError(
            "Evaluator: eval_config needs one model_spec with a label_key, e.g. "
            "tfma.EvalConfig(model_specs=[tfma.ModelSpec(label_key='species')], ...)."
        )
    for metric in metric_specs(config):
        cls = metric.get("class_name")
        if cls not in _metrics.NAMES:
            raise DefinitionError(
                f"Evaluator: metric '{cls}' is not computed by headrace; "
                f"use one of {', '.join(sorted(_metrics.NAMES))}.{did_you_mean(str(cls), _metrics.NAMES)}"
            )
        metric_config(metric)
        if metric.get("class_ids") and cls in _metrics.MULTI_CLASS_ONLY:
            raise DefinitionError(
                f"Evaluator: metric {cls} is in a MetricsSpec with binarize class_ids, which scores one class "
                "(one output column) against the rest; TFMA raises or reports nothing meaningful for it. Put it "
                "in a MetricsSpec without binarize, or use BinaryAccuracy / BinaryCrossentropy."
            )
    return config


def slices(config: dict[str, Any]) -> list[list[str]]:
    specs = config.get("slicing_specs") or [{}]
    return [list(s.get("feature_keys") or []) for s in specs]


__all__ = ["OVERALL", "check_config", "config_dict", "metric_config", "metric_specs", "reported_names", "slices"]
