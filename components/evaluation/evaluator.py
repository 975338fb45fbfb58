"""Evaluator: a model's metrics on the eval split, overall and per slice, checked against value
thresholds and (with a baseline model, e.g. the latest blessed one through a Resolver) change
thresholds; a ModelEvaluation and a ModelBlessing.

It takes TFX's `tfma.EvalConfig` (the proto, or its JSON dict: model_specs with label_key,
slicing_specs, metrics_specs with value_threshold / change_threshold) and needs no TFMA: the model's
serving signature runs on streamed batches in the run's TensorFlow worker, and the metrics are
computed with numpy (`_metrics`), so there is no Beam pipeline to start.

The ModelEvaluation directory holds headrace's `evaluation.json` (candidate and baseline metrics by
slice), `validation.json` (the verdict and its reasons) and `report.html`, and TFMA's layout of the
same numbers (`eval_config.json`, `metrics-*`, `plots-*`, `validations-*`; see `_tfma_format`), so
`tfma.load_eval_result(uri)` and `tfma.load_validation_result(uri)` read it as they read TFX's.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from headrace.components import common as _common
from headrace.components.evaluation import _metrics, _tfma_format
from headrace.components.evaluation._tfma_format import Failure, SliceKeyType
from headrace.dsl.base_component import BaseComponent
from headrace.dsl.executor import BaseExecutor, ExecutorClassSpec
from headrace.errors import DefinitionError, did_you_mean
from headrace.types.artifact import Artifact
from headrace.types.channel import Channel
from headrace.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from headrace.types.standard_artifacts import Examples, Model, ModelBlessing, ModelEvaluation, Schema

BLESSED_FILE, NOT_BLESSED_FILE = "BLESSED", "NOT_BLESSED"  # TFX's marker files
# Not metrics.json: TFMA reads every `metrics*` file of the directory as TFRecords of MetricsForSlice.
EVALUATION_FILE, VALIDATION_FILE = "evaluation.json", "validation.json"
OVERALL = "Overall"


class EvaluatorSpec(ComponentSpec):
    """Evaluator's contract (TFX's names)."""

    PARAMETERS = {
        "eval_config": ExecutionParameter(type=dict),
        "example_splits": ExecutionParameter(type=list, optional=True),
    }
    INPUTS = {
        "examples": ChannelParameter(type=Examples),
        "model": ChannelParameter(type=Model),
        "baseline_model": ChannelParameter(type=Model, optional=True),
        "schema": ChannelParameter(type=Schema, optional=True),
    }
    OUTPUTS = {
        "evaluation": ChannelParameter(type=ModelEvaluation),
        "blessing": ChannelParameter(type=ModelBlessing),
    }


def _config_dict(config: Any) -> dict[str, Any]:
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


def _metric_config(metric: dict[str, Any]) -> dict[str, Any]:
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


def _metric_specs(config: dict[str, Any]) -> list[dict[str, Any]]:
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


def _reported(metric: dict[str, Any]) -> list[tuple[str, int | None]]:
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
    for metric in _metric_specs(config):
        cls = metric.get("class_name")
        if cls not in _metrics.NAMES:
            raise DefinitionError(
                f"Evaluator: metric '{cls}' is not computed by headrace; "
                f"use one of {', '.join(sorted(_metrics.NAMES))}.{did_you_mean(str(cls), _metrics.NAMES)}"
            )
        _metric_config(metric)
        if metric.get("class_ids") and cls in _metrics.MULTI_CLASS_ONLY:
            raise DefinitionError(
                f"Evaluator: metric {cls} is in a MetricsSpec with binarize class_ids, which scores one class "
                "(one output column) against the rest; TFMA raises or reports nothing meaningful for it. Put it "
                "in a MetricsSpec without binarize, or use BinaryAccuracy / BinaryCrossentropy."
            )
    return config


def _slices(config: dict[str, Any]) -> list[list[str]]:
    specs = config.get("slicing_specs") or [{}]
    return [list(s.get("feature_keys") or []) for s in specs]


def _evaluate(
    model_uri: str, examples: Artifact, splits: list[str], config: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, SliceKeyType]]:
    """{slice name: {metric: value}} of one model over the chosen splits, and each slice's TFMA key."""
    import numpy as np

    from headrace.components.io.examples import payload_format
    from headrace.components.serving.bulk_inferrer import predictions
    from headrace.components.serving.infra_validator import serving_dir

    spec = (config.get("model_specs") or [{}])[0]
    label_key, wanted = spec["label_key"], spec.get("prediction_key")
    model = _common.load_saved_model("Evaluator", serving_dir(model_uri))
    signature = model.signatures[spec.get("signature_name") or "serving_default"]
    slice_keys = _slices(config)
    labels: list[Any] = []
    outputs: list[Any] = []
    columns: dict[str, list[Any]] = {k: [] for keys in slice_keys for k in keys}
    for split in splits:
        for batch, result in predictions(signature, examples.uri, split, payload_format(examples)):
            names = batch.schema.names
            if label_key not in names:
                raise ValueError(f"label_key '{label_key}' is not a column of the examples ({', '.join(names)}).")
            key = wanted or (next(iter(result)) if len(result) == 1 else None)
            if key not in result:
                raise ValueError(f"set model_specs prediction_key: the model outputs {sorted(result)}.")
            labels.append(np.asarray(_flat(batch.column(names.index(label_key)).to_pylist()), dtype=float))
            outputs.append(result[key].astype(float))
            for k in columns:
                columns[k] += _flat(batch.column(names.index(k)).to_pylist()) if k in names else [None] * batch.num_rows
    y, p = np.concatenate(labels), np.concatenate(outputs)
    found: dict[str, Any] = {}
    tfma_keys: dict[str, SliceKeyType] = {}
    for keys in slice_keys:
        groups: dict[str, Any] = {OVERALL: np.ones(len(y), dtype=bool)} if not keys else {}
        if not keys:
            tfma_keys[OVERALL] = ()
        else:
            values = list(zip(*(columns[k] for k in keys), strict=True))
            # A row without one of the features is in no slice of this spec, as in TFMA.
            for value in sorted({v for v in values if None not in v}, key=str):
                name = "; ".join(f"{k}:{v}" for k, v in zip(keys, value, strict=True))
                groups[name] = np.array([v == value for v in values])
                tfma_keys[name] = tuple(zip(keys, value, strict=True))
        for name, mask in groups.items():
            row = {
                reported: _metrics.compute(
                    m["class_name"], y[mask], p[mask], _metric_config(m).get("from_logits"), class_id
                )
                for m in _metric_specs(config)
                for reported, class_id in _reported(m)
            }
            # The config's own metrics win over headrace's automatic per-class ones of the same name.
            row.update({k: v for k, v in _metrics.per_class(y[mask], p[mask]).items() if k not in row})
            found[name] = row
    return found, tfma_keys


def _flat(values: list[Any]) -> list[Any]:
    from headrace.components.io.examples import scalar

    return [v.decode() if isinstance(v, bytes) else v for v in map(scalar, values)]


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
    return [f.message for f in _failures(config, current, baseline, keys)]


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


def _failures(
    config: dict[str, Any],
    current: dict[str, Any],
    baseline: dict[str, Any] | None,
    keys: dict[str, SliceKeyType] | None = None,
) -> list[Failure]:
    failures = []
    for metric in _metric_specs(config):
        for name, _ in _reported(metric):
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


class Executor(BaseExecutor):
    """Evaluates the candidate (and the baseline), validates, writes evaluation and blessing."""

    def Do(
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        _common.quiet_tensorflow()
        from headrace.components.io.examples import payload_format, split_names

        config = exec_properties["eval_config"]
        examples, model = input_dict["examples"][0], input_dict["model"][0]
        baseline_model = (input_dict.get("baseline_model") or [None])[0]
        names = split_names(examples)
        splits = exec_properties.get("example_splits") or (["eval"] if "eval" in names else names)
        current, keys = _evaluate(model.uri, examples, splits, config)
        baseline = _evaluate(baseline_model.uri, examples, splits, config)[0] if baseline_model else None
        found = _failures(config, current, baseline, keys)
        failures = [f.message for f in found]
        evaluation, blessing = output_dict["evaluation"][0], output_dict["blessing"][0]
        with open(os.path.join(evaluation.uri, EVALUATION_FILE), "w") as f:
            json.dump({"candidate": current, "baseline": baseline, "splits": splits}, f, indent=1, default=str)
        models = (
            {_tfma_format.CANDIDATE: model.uri, _tfma_format.BASELINE: baseline_model.uri}
            if baseline_model
            else {"": model.uri}
        )
        _tfma_format.write(
            evaluation.uri, config, current, baseline, keys, found, examples.uri, payload_format(examples), models
        )
        with open(os.path.join(evaluation.uri, VALIDATION_FILE), "w") as f:
            json.dump({"blessed": not failures, "failures": failures}, f, indent=1)
        overall = current.get(OVERALL, next(iter(current.values())))
        for name, value in overall.items():
            if isinstance(value, float) and not math.isnan(value):
                evaluation.set_custom_property(name.replace("/", "_"), value)
        blessing.set_custom_property("blessed", int(not failures))
        blessing.set_custom_property("current_model_id", int(model.id or 0))
        if baseline_model is not None:
            blessing.set_custom_property("baseline_model_id", int(baseline_model.id or 0))
        if failures:
            blessing.set_custom_property("reasons", json.dumps(failures))
        with open(os.path.join(blessing.uri, NOT_BLESSED_FILE if failures else BLESSED_FILE), "w") as f:
            f.write("\n".join(failures))
        from headrace.components.reports import evaluation_html

        _common.write_report(evaluation.uri, evaluation_html(current, baseline, failures, "Model evaluation"))
        shown = ", ".join(f"{k} {v:.4g}" for k, v in overall.items() if "/" not in k)
        verdict = "blessed" if not failures else f"NOT blessed ({failures[0]}{' ...' if len(failures) > 1 else ''})"
        against = f"against model #{baseline_model.id}" if baseline_model else "no baseline"
        blessing.set_custom_property("summary", f"{verdict}: {shown} ({against})")
        print(f"{OVERALL}: {shown}" + (f"; baseline model #{baseline_model.id}" if baseline_model else "; no baseline"))
        print("blessed" if not failures else "NOT blessed:\n" + "\n".join(f"  - {f}" for f in failures))


def _with_feature_slicing(config: dict[str, Any], feature_slicing_spec: Any) -> dict[str, Any]:
    """The config with TFX's deprecated FeatureSlicingSpec as its slicing_specs (as TFX converts it)."""
    if feature_slicing_spec is None:
        return config
    spec = _config_dict(feature_slicing_spec)
    if set(spec) - {"specs"} or any(set(s) - {"column_for_slicing"} for s in spec.get("specs") or []):
        raise DefinitionError(
            "Evaluator: feature_slicing_spec must be an evaluator_pb2.FeatureSlicingSpec, e.g. "
            f"FeatureSlicingSpec(specs=[SingleSlicingSpec(column_for_slicing=['island'])]); got {spec}."
        )
    if config.get("slicing_specs"):
        raise DefinitionError(
            "Evaluator: both feature_slicing_spec and eval_config.slicing_specs say how to slice; "
            "keep one (feature_slicing_spec is TFX's deprecated form of slicing_specs)."
        )
    slicing = [
        {"feature_keys": list(s["column_for_slicing"])} if s.get("column_for_slicing") else {}
        for s in spec.get("specs") or []
    ]
    return {**config, "slicing_specs": slicing or [{}]}


class Evaluator(BaseComponent):
    """Evaluates a model against thresholds and, optionally, a baseline model.

    Args:
        examples: A channel of Examples (the eval split is used unless example_splits says otherwise).
        model: The candidate Model.
        baseline_model: The model to compare with (TFX: a Resolver with LatestBlessedModelStrategy);
            empty on a first run, when only value thresholds apply.
        eval_config: A `tfma.EvalConfig` or its dict (model_specs[0].label_key, slicing_specs,
            metrics_specs with thresholds).
        example_splits: The splits to evaluate on.
        schema: Accepted (TFX's input); not needed.
        fairness_indicator_thresholds: Refused (not computed).
        module_file: Refused (custom extractors are not run).
        feature_slicing_spec: TFX's deprecated `evaluator_pb2.FeatureSlicingSpec` (or its dict):
            each SingleSlicingSpec's column_for_slicing becomes a slicing spec's feature_keys (none:
            the overall slice). eval_config is still needed for the label_key, and must not slice too.
    """

    SPEC_CLASS = EvaluatorSpec
    EXECUTOR_SPEC = ExecutorClassSpec(Executor, worker_group=_common.TFDV_GROUP)

    def __init__(
        self,
        examples: Channel,
        model: Channel,
        baseline_model: Channel | None = None,
        eval_config: Any = None,
        example_splits: list[str] | None = None,
        schema: Channel | None = None,
        fairness_indicator_thresholds: Any = None,
        module_file: str | None = None,
        feature_slicing_spec: Any = None,
    ):
        if eval_config is None:
            raise DefinitionError("Evaluator: eval_config is required (model_specs with a label_key, metrics_specs).")
        if fairness_indicator_thresholds is not None or module_file is not None:
            raise DefinitionError("Evaluator: fairness_indicator_thresholds and module_file are not supported.")
        super().__init__(
            spec=EvaluatorSpec(
                examples=examples,
                model=model,
                baseline_model=baseline_model,
                schema=schema,
                eval_config=check_config(_with_feature_slicing(_config_dict(eval_config), feature_slicing_spec)),
                example_splits=_common.check_splits("Evaluator", "example_splits", example_splits) or None,
            )
        )


__all__ = ["Evaluator", "check_config", "validate"]
