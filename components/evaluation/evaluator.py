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
from headrace.components.evaluation._tfma_format import SliceKeyType
from headrace.components.evaluation.config import (
    OVERALL,
    check_config,
    config_dict,
    metric_config,
    metric_specs,
    reported_names,
    slices,
)
from headrace.components.evaluation.thresholds import find_failures, validate
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


def _evaluate(
    model_uri: str, examples: Artifact, splits: list[str], config: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, SliceKeyType]]:
    """{slice name: {metric: value}} of one model over the chosen splits, and each slice's TFMA key."""
    import numpy as np

    from headrace.components.io.examples import payload_format
    from headrace.components.serving import predictions, serving_dir

    spec = (config.get("model_specs") or [{}])[0]
    label_key, wanted = spec["label_key"], spec.get("prediction_key")
    model = _common.load_saved_model("Evaluator", serving_dir(model_uri))
    signature = model.signatures[spec.get("signature_name") or "serving_default"]
    slice_keys = slices(config)
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
                    m["class_name"], y[mask], p[mask], metric_config(m).get("from_logits"), class_id
                )
                for m in metric_specs(config)
                for reported, class_id in reported_names(m)
            }
            # The config's own metrics win over headrace's automatic per-class ones of the same name.
            row.update({k: v for k, v in _metrics.per_class(y[mask], p[mask]).items() if k not in row})
            found[name] = row
    return found, tfma_keys


def _flat(values: list[Any]) -> list[Any]:
    from headrace.components.io.examples import scalar

    return [v.decode() if isinstance(v, bytes) else v for v in map(scalar, values)]


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
        found = find_failures(config, current, baseline, keys)
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
        # TFX's blessing properties (tfx/components/evaluator/constants.py): the verdict as 1/0, each model's
        # URI and ML Metadata id; the Resolver's LatestBlessedModelStrategy and TFX code read them.
        blessing.set_custom_property("blessed", int(not failures))
        blessing.set_custom_property("current_model", model.uri)
        blessing.set_custom_property("current_model_id", int(model.id or 0))
        if baseline_model is not None:
            blessing.set_custom_property("baseline_model", baseline_model.uri)
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
    spec = config_dict(feature_slicing_spec)
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
                eval_config=check_config(_with_feature_slicing(config_dict(eval_config), feature_slicing_spec)),
                example_splits=_common.check_splits("Evaluator", "example_splits", example_splits) or None,
            )
        )


__all__ = ["Evaluator", "check_config", "validate"]
