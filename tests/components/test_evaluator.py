"""Evaluator on real SavedModels: metrics overall and per slice, value thresholds, change
thresholds against a baseline model, and the blessing."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from datagen import run, split_rows

from headrace.components import CsvExampleGen, Evaluator
from headrace.dsl import Importer
from headrace.errors import DefinitionError
from headrace.orchestrators import RunResult
from headrace.types.standard_artifacts import Examples, Model

pytestmark = pytest.mark.heavy_imports  # pyarrow reads the eval split back in this process

MAKE_MODELS = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf

class Threshold(tf.Module):
    def __init__(self, cut):
        self.cut = tf.constant(cut)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    def serve(self, x):
        p = tf.sigmoid((x - self.cut) * 4.0)
        return {"probabilities": tf.stack([1.0 - p, p], axis=1)}

for name, cut in (("good", 10.0), ("bad", 1000.0)):
    m = Threshold(cut)
    tf.saved_model.save(m, os.path.join(sys.argv[1], name, "Format-Serving"), signatures={"serving_default": m.serve})
"""

CONFIG = {
    "model_specs": [{"label_key": "label"}],
    "slicing_specs": [{}, {"feature_keys": ["kind"]}],
    "metrics_specs": [
        {
            "metrics": [
                {"class_name": "ExampleCount"},
                {
                    "class_name": "SparseCategoricalAccuracy",
                    "threshold": {
                        "value_threshold": {"lower_bound": {"value": 0.9}},
                        "change_threshold": {"direction": "HIGHER_IS_BETTER", "absolute": {"value": -1e-10}},
                    },
                },
            ]
        }
    ],
}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("models")
    subprocess.run([sys.executable, "-c", textwrap.dedent(MAKE_MODELS), str(base)], check=True, timeout=300)
    return base


def _json(path: str, name: str) -> dict:
    return json.loads((Path(path) / name).read_text())


@pytest.fixture(scope="module")
def evaluated(models: Path, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """The good model alone (blessed) and the bad one against it (not blessed), on one dataset."""
    tmp_path = tmp_path_factory.mktemp("evaluated")
    data = tmp_path / "data"
    data.mkdir()
    # Some rows lack `kind`: they are in no kind slice (as in TFMA), only in the overall one.
    rows = [(i * 0.25, int(i * 0.25 > 10), f"k{i % 3}" if i % 7 else "") for i in range(160)]
    (data / "d.csv").write_text("x,label,kind\n" + "".join(f"{x},{y},{k}\n" for x, y, k in rows))
    examples = CsvExampleGen(input_base=data)
    good = Importer(source_uri=str(models / "good"), artifact_type=Model).with_id("good")
    bad = Importer(source_uri=str(models / "bad"), artifact_type=Model).with_id("bad")
    first = Evaluator(examples=examples.outputs["examples"], model=good.outputs["result"], eval_config=CONFIG)
    second = Evaluator(
        examples=examples.outputs["examples"],
        model=bad.outputs["result"],
        baseline_model=good.outputs["result"],
        eval_config=CONFIG,
    ).with_id("against_baseline")
    return run(tmp_path / "root", examples, good, bad, first, second)


def test_metrics_slices_thresholds_and_a_baseline(evaluated: RunResult) -> None:
    result = evaluated
    assert result.state == "COMPLETE", {n: o.error for n, o in result.nodes.items() if o.error}

    eval_rows = split_rows(result.nodes["CsvExampleGen"].outputs["examples"][0], "eval")
    expected = sum((r["x"] > 10) == r["label"] for r in eval_rows) / len(eval_rows)  # the good model's rule
    metrics = _json(result.nodes["Evaluator"].outputs["evaluation"][0], "evaluation.json")["candidate"]
    assert metrics["Overall"]["example_count"] == len(eval_rows)
    assert metrics["Overall"]["sparse_categorical_accuracy"] == pytest.approx(expected)
    kinds = sorted({r["kind"] for r in eval_rows if r["kind"]})
    assert sorted(k for k in metrics if k != "Overall") == [f"kind:{k}" for k in kinds]  # no 'kind:None'
    with_kind = [r for r in eval_rows if r["kind"]]
    assert 0 < len(with_kind) < len(eval_rows)
    assert sum(metrics[f"kind:{k}"]["example_count"] for k in kinds) == len(with_kind)
    assert {"precision/class_1", "recall/class_0", "loss"} <= set(metrics["Overall"])
    assert (Path(result.nodes["Evaluator"].outputs["blessing"][0]) / "BLESSED").exists()

    blessing = Path(result.nodes["against_baseline"].outputs["blessing"][0])
    assert (blessing / "NOT_BLESSED").exists()
    reasons = (blessing / "NOT_BLESSED").read_text()
    assert "below the lower bound 0.9" in reasons and "against the baseline" in reasons
    report = (Path(result.nodes["against_baseline"].outputs["evaluation"][0]) / "report.html").read_text()
    assert "NOT blessed" in report and "below the lower bound 0.9" in report and "baseline</th>" in report
    assert "kind:k0" in report and 'class="err"' in report
    both = _json(result.nodes["against_baseline"].outputs["evaluation"][0], "evaluation.json")
    negatives = sum(1 for r in eval_rows if not r["label"]) / len(eval_rows)
    assert both["candidate"]["Overall"]["sparse_categorical_accuracy"] == pytest.approx(negatives)  # predicts 0
    assert both["baseline"]["Overall"]["sparse_categorical_accuracy"] == pytest.approx(expected)


@pytest.mark.parametrize("node", ["Evaluator", "against_baseline"])
def test_tfma_reads_the_evaluation_as_it_reads_tfx(evaluated: RunResult, node: str) -> None:
    """tfma.load_eval_result / load_validation_result (TFX's notebooks) on the ModelEvaluation
    directory give headrace's numbers, and the slicing view renders."""
    import tensorflow_model_analysis as tfma

    uri = evaluated.nodes[node].outputs["evaluation"][0]
    ours = _json(uri, "evaluation.json")
    result = tfma.load_eval_result(uri)
    assert result.config.model_specs[0].label_key == "label"
    model = "candidate" if ours["baseline"] else ""
    read = {}
    for key, by_output in result.slicing_metrics:
        name = "; ".join(f"{c}:{v}" for c, v in key) or "Overall"
        row = {}
        for sub_key, values in by_output[""].items():
            for metric, value in values.items():
                cls = f"/class_{sub_key.split(':')[1]}" if sub_key else ""
                row[metric + cls] = value["doubleValue"]
        read[name] = row
    assert sorted(read) == sorted(ours["candidate"])
    for name, row in ours["candidate"].items():
        assert {k: v for k, v in read[name].items() if "_diff" not in k} == pytest.approx(row), name
        if ours["baseline"]:
            diff = row["sparse_categorical_accuracy"] - ours["baseline"][name]["sparse_categorical_accuracy"]
            assert read[name]["sparse_categorical_accuracy_diff"] == pytest.approx(diff)
    assert [m.name for m in result.config.model_specs] == (["candidate", "baseline"] if model else [""])

    validation = tfma.load_validation_result(uri)
    blessed = _json(uri, "validation.json")["blessed"]
    assert validation.validation_ok == blessed
    assert validation.validation_ok == (node == "Evaluator")
    if not blessed:
        failures = [f for s in validation.metric_validations_per_slice for f in s.failures]
        assert [f.message for f in failures] == _json(uri, "validation.json")["failures"]
        assert {f.metric_key.name for f in failures} == {"sparse_categorical_accuracy"}
        assert any(f.metric_key.is_diff for f in failures) and all(f.metric_key.model_name == model for f in failures)
    tfma.view.render_slicing_metrics(result, slicing_column="kind")


def test_bad_eval_configs_are_definition_errors() -> None:
    model = Importer(source_uri="/nowhere", artifact_type=Model)
    examples = Importer(source_uri="/nowhere", artifact_type=Model)
    with pytest.raises(DefinitionError, match="label_key"):
        Evaluator(examples=examples.outputs["result"], model=model.outputs["result"], eval_config={"model_specs": [{}]})


def test_thresholds_maps_and_per_slice_thresholds_as_tfx_penguin_tfma_writes_them() -> None:
    """TFX's penguin_tfma thresholds the model's compiled metric in `per_slice_thresholds` (no
    `metrics`), for the overall slice only; the `thresholds` map holds for every slice. Bounds come
    as a tfma.EvalConfig's JSON writes them (numbers) or as messages ({"value": x})."""
    from headrace.components.evaluation.evaluator import check_config, validate

    per_slice = {
        "thresholds": [
            {"slicing_specs": [{}], "threshold": {"value_threshold": {"lower_bound": {"value": 0.6}}}},
            {
                "slicing_specs": [{"feature_values": {"species": "2"}}],
                "threshold": {"value_threshold": {"lower_bound": 0.99}},
            },
        ]
    }
    config = check_config(
        {
            "model_specs": [{"label_key": "species"}],
            "slicing_specs": [{}, {"feature_keys": ["species"]}],
            "metrics_specs": [
                {
                    "per_slice_thresholds": {"sparse_categorical_accuracy": per_slice},
                    "thresholds": {"example_count": {"value_threshold": {"lower_bound": 10}}},
                }
            ],
        }
    )
    current = {
        "Overall": {"sparse_categorical_accuracy": 0.7, "example_count": 30.0},
        "species:0": {"sparse_categorical_accuracy": 0.5, "example_count": 12.0},  # no threshold on this slice
        "species:2": {"sparse_categorical_accuracy": 0.9, "example_count": 8.0},
    }
    assert sorted(validate(config, current, None)) == [
        "example_count on species:2 = 8 is below the lower bound 10",
        "sparse_categorical_accuracy on species:2 = 0.9 is below the lower bound 0.99",
    ]
    current["Overall"]["sparse_categorical_accuracy"] = 0.5
    assert "sparse_categorical_accuracy on Overall = 0.5 is below the lower bound 0.6" in validate(
        config, current, None
    )


def _evaluator(eval_config: object, **kwargs: object) -> Evaluator:
    model = Importer(source_uri="/nowhere", artifact_type=Model)
    examples = Importer(source_uri="/nowhere", artifact_type=Examples).with_id("examples")
    return Evaluator(
        examples=examples.outputs["result"], model=model.outputs["result"], eval_config=eval_config, **kwargs
    )


LABEL = {"model_specs": [{"label_key": "label"}]}


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({**LABEL, "slicing_spec": [{}]}, "'slicing_spec', which is not a field of tfma.EvalConfig.*'slicing_specs'"),
        ({**LABEL, "slicing_specs": [{"feature_key": ["a"]}]}, r"slicing_specs\[0\] .*Did you mean 'feature_keys'"),
        ({"model_specs": [{"labelkey": "x"}]}, "Did you mean 'label_key'"),
        ({**LABEL, "metrics_specs": [{"metrics": [{"class_nme": "AUC"}]}]}, "Did you mean 'class_name'"),
        ({**LABEL, "options": {"min_slice_sizes": 3}}, "Did you mean 'min_slice_size'"),
    ],
)
def test_a_hand_written_config_with_a_misspelled_field_is_refused_with_the_near_miss(config: dict, match: str) -> None:
    with pytest.raises(DefinitionError, match=match):
        _evaluator(config)


def _spec(**spec: object) -> dict:
    return {**LABEL, "metrics_specs": [{"metrics": [{"class_name": "AUC"}], **spec}]}


@pytest.mark.parametrize(
    ("config", "match"),
    [
        (_spec(binarize={"top_k_list": {"values": [1]}}), "binarize.top_k_list.*class_ids only"),
        (_spec(binarize={"k_list": {"values": [1]}}), "binarize.k_list.*class_ids only"),
        (_spec(aggregate={"macro_average": True}), "aggregate.*not supported.*micro averages"),
        (_spec(aggregate={"micro_average": True}), "aggregate"),
        (_spec(example_weights={"weighted": True}), "example_weights weighted"),
        (_spec(query_key="q"), "query_key"),
        (_spec(output_names=["a"]), "output_names"),
        ({**LABEL, "cross_slicing_specs": [{"baseline_spec": {}}]}, "cross_slicing_specs.*not supported"),
        ({**LABEL, "options": {"compute_confidence_intervals": True}}, "confidence intervals"),
        ({**LABEL, "options": {"compute_confidence_intervals": {"value": True}}}, "confidence intervals"),
        ({"model_specs": [{"label_key": "y", "example_weight_key": "w"}]}, "example weights"),
        (
            {**LABEL, "metrics_specs": [{"metrics": [{"class_name": "Precision", "config": '{"from_logits": true}'}]}]},
            "config key 'from_logits' is not supported.*only on BinaryCrossentropy, SparseCategoricalCrossentropy",
        ),
        (
            {**LABEL, "metrics_specs": [{"metrics": [{"class_name": "Recall", "config": {"class_id": 1}}]}]},
            "'class_id' is not supported.*binarize class_ids",
        ),
        (
            {**LABEL, "metrics_specs": [{"metrics": [{"class_name": "AUC", "config": "{not json"}]}]},
            "config is not JSON",
        ),
        (
            {**LABEL, "metrics_specs": [{"metrics": [{"class_name": "AUCC"}]}]},
            "'AUCC' is not computed by headrace.*Did you mean 'AUC'",
        ),
        (
            _spec(binarize={"class_ids": {"values": [0]}}, metrics=[{"class_name": "SparseCategoricalAccuracy"}]),
            "SparseCategoricalAccuracy is in a MetricsSpec with binarize class_ids",
        ),
    ],
)
def test_options_headrace_does_not_compute_are_refused_when_built(config: dict, match: str) -> None:
    """Never ignored: each names the option and what headrace does instead."""
    with pytest.raises(DefinitionError, match=match):
        _evaluator(config)


def test_what_is_accepted_a_tfma_eval_config_with_from_logits_and_binarize() -> None:
    import tensorflow_model_analysis as tfma

    config = tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(label_key="species")],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[tfma.MetricConfig(class_name="SparseCategoricalCrossentropy", config='{"from_logits": true}')]
            ),
            tfma.MetricsSpec(
                metrics=[tfma.MetricConfig(class_name="Precision")],
                binarize=tfma.BinarizationOptions(class_ids={"values": [0, 2]}),
            ),
        ],
        options=tfma.Options(include_default_metrics={"value": False}, compute_confidence_intervals={"value": False}),
    )
    _evaluator(config)


def test_tfx_feature_slicing_spec_becomes_slicing_specs() -> None:
    from headrace.tfx.proto import evaluator_pb2

    spec = evaluator_pb2.FeatureSlicingSpec(
        specs=[evaluator_pb2.SingleSlicingSpec(), evaluator_pb2.SingleSlicingSpec(column_for_slicing=["kind", "x"])]
    )
    evaluator = _evaluator(LABEL, feature_slicing_spec=spec)
    assert evaluator.exec_properties["eval_config"]["slicing_specs"] == [{}, {"feature_keys": ["kind", "x"]}]
    as_dict = _evaluator(LABEL, feature_slicing_spec={"specs": [{"column_for_slicing": ["kind"]}]})
    assert as_dict.exec_properties["eval_config"]["slicing_specs"] == [{"feature_keys": ["kind"]}]
    empty = _evaluator(LABEL, feature_slicing_spec=evaluator_pb2.FeatureSlicingSpec())
    assert empty.exec_properties["eval_config"]["slicing_specs"] == [{}]
    with pytest.raises(DefinitionError, match=r"both feature_slicing_spec and eval_config\.slicing_specs"):
        _evaluator({**LABEL, "slicing_specs": [{}]}, feature_slicing_spec=spec)
    with pytest.raises(DefinitionError, match=r"must be an evaluator_pb2\.FeatureSlicingSpec"):
        _evaluator(LABEL, feature_slicing_spec={"specs": [{"columns": ["kind"]}]})


def _tfma_data(logits: bool = False) -> tuple:
    """The labels and outputs TFMA 0.47.1's figures below were measured on (run_model_analysis over
    tf.Examples holding them, ModelSpec(label_key='y', prediction_key='p'), no model)."""
    import numpy as np

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    z = rng.normal(size=(300, 3)) + np.eye(3)[y] * 1.5
    return y.astype(float), z if logits else np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


@pytest.mark.parametrize(
    ("metric", "class_id", "tfma"),
    [
        # A multi-class model's top-level metrics: TFMA one-hot encodes the labels and flattens (micro).
        ("Precision", None, 0.7925311203319502),
        ("Recall", None, 0.6366666666666667),
        ("AUC", None, 0.8912333333333333),
        ("BinaryAccuracy", None, 0.8233333333333334),
        ("MeanLabel", None, 0.3333333333333333),
        ("MeanPrediction", None, 0.33333333319466973),
        ("MeanSquaredError", None, 0.12431700541879083),
        ("MeanAbsoluteError", None, 0.27279147028302153),
        # binarize class_ids: the class's label against its output column.
        ("Precision", 0, 0.8333333333333334),
        ("Recall", 0, 0.5555555555555556),
        ("AUC", 2, 0.8974148061104583),
        ("BinaryAccuracy", 2, 0.8266666666666667),
        ("BinaryCrossentropy", 0, 0.392937034368515),
        ("MeanSquaredError", 0, 0.12485925403379178),
        ("MeanLabel", 2, 0.38333333333333336),
        ("MeanPrediction", 2, 0.3692444380512461),
        ("ExampleCount", 2, 300.0),
    ],
)
def test_multi_class_metrics_are_tfmas(metric: str, class_id: int | None, tfma: float) -> None:
    from headrace.components.evaluation._metrics import compute

    y, p = _tfma_data()
    assert compute(metric, y, p, class_id=class_id) == pytest.approx(tfma, rel=1e-4)


def test_from_logits_is_tfmas() -> None:
    from headrace.components.evaluation._metrics import compute

    y, z = _tfma_data(logits=True)
    _, p = _tfma_data()
    assert compute("SparseCategoricalCrossentropy", y, z, from_logits=True) == pytest.approx(0.6522040963172913)
    # from_logits false: the outputs as they are; Keras clips to [1e-7, 1 - 1e-7] and renormalizes each row.
    assert compute("SparseCategoricalCrossentropy", y, z, from_logits=False) == pytest.approx(1.4250497817993164)
    assert compute("SparseCategoricalCrossentropy", y, 2 * p, from_logits=False) == pytest.approx(0.6820562481880188)
    # Without from_logits headrace detects logits (rows that are not distributions): a softmax.
    assert compute("SparseCategoricalCrossentropy", y, z) == pytest.approx(0.6522040963172913)
    gentoo, logit = (y == 2).astype(float), z[:, 2] - z[:, 0]
    assert compute("BinaryCrossentropy", gentoo, logit, from_logits=True) == pytest.approx(0.547991156578064)
    with pytest.raises(ValueError, match="from_logits false, but the model outputs values in"):
        compute("BinaryCrossentropy", gentoo, logit, from_logits=False)


@pytest.mark.parametrize(
    ("metric", "instead"), [("Accuracy", "SparseCategoricalAccuracy"), ("BinaryCrossentropy", "Sparse")]
)
def test_binary_only_metrics_on_a_multi_class_model_raise(metric: str, instead: str) -> None:
    """TFMA raises for Accuracy on class scores; its BinaryCrossentropy compares the class index
    with every probability (and raises with from_logits)."""
    from headrace.components.evaluation._metrics import compute

    y, p = _tfma_data()
    with pytest.raises(ValueError, match=f"{metric} is for a binary model.*3 class scores.*use {instead}"):
        compute(metric, y, p)


def test_a_metrics_own_per_slice_thresholds_and_a_binarized_metrics_threshold_apply() -> None:
    """MetricConfig.per_slice_thresholds (a list, beside `threshold`) hold on the slices they name;
    a binarized metric's threshold holds for each class's value."""
    from headrace.components.evaluation.evaluator import check_config, validate

    bound = {"value_threshold": {"lower_bound": 0.8}}
    config = check_config(
        {
            **LABEL,
            "slicing_specs": [{}, {"feature_keys": ["kind"]}],
            "metrics_specs": [
                {
                    "metrics": [
                        {
                            "class_name": "SparseCategoricalAccuracy",
                            "per_slice_thresholds": [{"slicing_specs": [{}], "threshold": bound}],
                        }
                    ]
                },
                {
                    "binarize": {"class_ids": {"values": [0, 1]}},
                    "metrics": [{"class_name": "Recall", "threshold": bound}],
                },
            ],
        }
    )
    current = {
        "Overall": {"sparse_categorical_accuracy": 0.7, "recall/class_0": 0.9, "recall/class_1": 0.5},
        "kind:a": {"sparse_categorical_accuracy": 0.1, "recall/class_0": 0.95, "recall/class_1": 0.85},
    }
    assert sorted(validate(config, current, None)) == [
        "recall/class_1 on Overall = 0.5 is below the lower bound 0.8",
        "sparse_categorical_accuracy on Overall = 0.7 is below the lower bound 0.8",
    ]
