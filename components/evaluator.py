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

from headrace.components import _common, _metrics, _tfma_format
from headrace.components._tfma_format import Failure, SliceKeyType
from headrace.dsl.base_component import BaseComponent
from headrace.dsl.executor import BaseExecutor, ExecutorClassSpec
from headrace.errors import DefinitionError
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


def _metric_specs(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Every metric with its thresholds: TFX's `metrics[].threshold`, the `thresholds` map and the
    `per_slice_thresholds` map (kept under 'per_slice'). A metric only named in a map (TFX's
    penguin_tfma thresholds the Keras model's compiled `sparse_categorical_accuracy` so) is
    computed too, by the TFMA class of that name."""
    classes = {name: cls for cls, name in _metrics.NAMES.items()}
    found: dict[str, dict[str, Any]] = {}
    for spec in config.get("metrics_specs", []):
        for metric in spec.get("metrics", []):
            found[_metrics.metric_name(metric)] = dict(metric)
        for name, threshold in (spec.get("thresholds") or {}).items():
            found.setdefault(name, {"class_name": classes.get(name, name)})["threshold"] = threshold
        for name, per_slice in (spec.get("per_slice_thresholds") or {}).items():
            metric = found.setdefault(name, {"class_name": classes.get(name, name)})
            metric.setdefault("per_slice", []).extend(per_slice.get("thresholds") or [])
    if "example_count" not in found:
        found["example_count"] = {"class_name": "ExampleCount"}
    return list(found.values())


def check_config(config: dict[str, Any]) -> dict[str, Any]:
    """Validates an EvalConfig dict when the component is built."""
    specs = config.get("model_specs") or [{}]
    if len(specs) != 1 or not specs[0].get("label_key"):
        raise DefinitionError(
            "Evaluator: eval_config needs one model_spec with a label_key, e.g. "
            "tfma.EvalConfig(model_specs=[tfma.ModelSpec(label_key='species')], ...)."
        )
    for metric in _metric_specs(config):
        if metric.get("class_name") not in _metrics.NAMES:
            raise DefinitionError(
                f"Evaluator: metric '{metric.get('class_name')}' is not computed by headrace; "
                f"use one of {', '.join(sorted(_metrics.NAMES))}."
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
    import tensorflow as tf

    from headrace.components.bulk_inferrer import predictions
    from headrace.components.examples_io import payload_format
    from headrace.components.infra_validator import serving_dir

    spec = (config.get("model_specs") or [{}])[0]
    label_key, wanted = spec["label_key"], spec.get("prediction_key")
    model = tf.saved_model.load(serving_dir(model_uri))
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
            for value in sorted(set(values), key=str):
                name = "; ".join(f"{k}:{v}" for k, v in zip(keys, value, strict=True))
                groups[name] = np.array([v == value for v in values])
                tfma_keys[name] = tuple(zip(keys, value, strict=True))
        for name, mask in groups.items():
            row = {
                _metrics.metric_name(m): _metrics.compute(m["class_name"], y[mask], p[mask])
                for m in _metric_specs(config)
            }
            row.update(_metrics.per_class(y[mask], p[mask]))
            found[name] = row
    return found, tfma_keys


def _flat(values: list[Any]) -> list[Any]:
    from headrace.components.examples_io import scalar

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
        name = _metrics.metric_name(metric)
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
        from headrace.components.examples_io import payload_format, split_names

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
        from headrace.components.report import evaluation_html

        _common.write_report(evaluation.uri, evaluation_html(current, baseline, failures, "Model evaluation"))
        shown = ", ".join(f"{k} {v:.4g}" for k, v in overall.items() if "/" not in k)
        verdict = "blessed" if not failures else f"NOT blessed ({failures[0]}{' ...' if len(failures) > 1 else ''})"
        against = f"against model #{baseline_model.id}" if baseline_model else "no baseline"
        blessing.set_custom_property("summary", f"{verdict}: {shown} ({against})")
        print(f"{OVERALL}: {shown}" + (f"; baseline model #{baseline_model.id}" if baseline_model else "; no baseline"))
        print("blessed" if not failures else "NOT blessed:\n" + "\n".join(f"  - {f}" for f in failures))


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
                eval_config=check_config(_config_dict(eval_config)),
                example_splits=_common.check_splits("Evaluator", "example_splits", example_splits) or None,
            )
        )


__all__ = ["Evaluator", "check_config", "validate"]
