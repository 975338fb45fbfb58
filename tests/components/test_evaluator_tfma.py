"""Evaluator against real TFMA 0.47.1: the same Keras penguin-like classifier, the same eval split
and the same EvalConfig give the same metrics per slice (TFMA's `run_model_analysis` on a
DirectRunner, fed the eval split as TFRecords of tf.Example)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from datagen import run, split_rows

from headrace.components import CsvExampleGen, Evaluator
from headrace.dsl import Importer
from headrace.types.standard_artifacts import Model

pytestmark = [
    pytest.mark.heavy_imports,  # TensorFlow, Beam and TFMA run in this process
    # TFMA 0.47's metric_util converts 1-element arrays with float() (NumPy 1.25 deprecates it), per example.
    pytest.mark.filterwarnings("ignore:Conversion of an array with ndim:DeprecationWarning:tensorflow_model_analysis"),
]

FEATURES = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"]
ISLANDS = ["Biscoe", "Dream", "Torgersen"]
# Each species' mean measurements (Palmer penguins' rough means), scaled noise makes them overlap.
MEANS = np.array([[38.8, 18.3, 190.0, 3700.0], [48.8, 18.4, 196.0, 3730.0], [47.5, 15.0, 217.0, 5080.0]])
SPREAD = np.array([4.0, 1.5, 10.0, 500.0])

TRAIN = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, keras

features, means, spread, out = {features!r}, np.array({means!r}), np.array({spread!r}), sys.argv[1]
keras.utils.set_random_seed(0)
rng = np.random.default_rng(1)
y = rng.integers(0, 3, 600)
x = means[y] + rng.normal(size=(600, 4)) * spread
for name, units, activation, loss, labels in (
    ("multiclass", 3, "softmax", "sparse_categorical_crossentropy", y),
    ("binary", 1, "sigmoid", "binary_crossentropy", (y == 2).astype(int)),  # Gentoo or not
    ("logits", 3, None, keras.losses.SparseCategoricalCrossentropy(from_logits=True), y),  # the penguin module's
    ("binary_logits", 1, None, keras.losses.BinaryCrossentropy(from_logits=True), (y == 2).astype(int)),
):
    inputs = [keras.Input(shape=(1,), name=name) for name in features]
    scale = keras.layers.Normalization(mean=means.mean(axis=0), variance=spread**2 * 4)
    h = keras.layers.Dense(8, activation="relu")(scale(keras.layers.concatenate(inputs)))
    model = keras.Model(inputs, keras.layers.Dense(units, activation=activation)(h))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss)
    model.fit([x[:, i : i + 1] for i in range(4)], labels, epochs=2, batch_size=32, verbose=0)
    model.export(os.path.join(out, name, "Format-Serving"))
"""

MICRO = ("Precision", "Recall", "AUC", "BinaryAccuracy", "MeanLabel", "MeanPrediction", "MeanSquaredError")
MULTICLASS = {
    "model_specs": [{"label_key": "species"}],
    "slicing_specs": [{}, {"feature_keys": ["species"]}, {"feature_keys": ["island"]}],
    "metrics_specs": [
        {
            "metrics": [
                {"class_name": "ExampleCount"},
                {
                    "class_name": "SparseCategoricalAccuracy",
                    "threshold": {"value_threshold": {"lower_bound": 0.5}},  # proto JSON: a wrapper is its number
                },
                {"class_name": "SparseCategoricalCrossentropy"},
                # On class scores TFMA one-hot encodes the labels and flattens: micro averages.
                *({"class_name": name} for name in MICRO),
            ]
        }
    ],
}
BINARY = {
    "model_specs": [{"label_key": "gentoo"}],
    # By species too: slices with one label, where recall (and maybe precision and AUC) are undefined.
    "slicing_specs": [{}, {"feature_keys": ["island"]}, {"feature_keys": ["species"]}],
    "metrics_specs": [
        {
            "metrics": [
                {"class_name": name}
                for name in (
                    "ExampleCount",
                    "BinaryAccuracy",
                    "BinaryCrossentropy",
                    "AUC",
                    "Precision",
                    "Recall",
                    "MeanLabel",
                    "MeanPrediction",
                    "MeanSquaredError",
                    "MeanAbsoluteError",
                )
            ]
        }
    ],
}
# A model that outputs logits: TFX configs tell TFMA's Keras metrics so (headrace detects logits itself).
LOGITS = json.loads(json.dumps(MULTICLASS))
LOGITS["metrics_specs"][0]["metrics"][2]["config"] = json.dumps({"from_logits": True})
# (Not the micro metrics: TFMA thresholds raw logits at 0.5, headrace their softmax.)
del LOGITS["metrics_specs"][0]["metrics"][3:]
# Each class against the rest (TFMA's class_id sub keys, headrace's 'precision/class_k').
BINARIZED = {
    "model_specs": [{"label_key": "species"}],
    "slicing_specs": [{}, {"feature_keys": ["species"]}],
    "metrics_specs": [
        {"metrics": [{"class_name": "ExampleCount"}, {"class_name": "SparseCategoricalAccuracy"}]},
        {
            "binarize": {"class_ids": {"values": [0, 1, 2]}},
            "metrics": [
                {"class_name": name}
                for name in ("Precision", "Recall", "AUC", "BinaryAccuracy", "BinaryCrossentropy", "MeanLabel")
            ],
        },
    ],
}
# A one-logit binary model, its crossentropy with from_logits as TFX configs say it. (Not AUC:
# TFMA's thresholds span [0, 1], so without a sigmoid it is not the AUC of the logits.)
BINARY_LOGITS = {
    "model_specs": [{"label_key": "gentoo"}],
    "slicing_specs": [{}, {"feature_keys": ["island"]}],
    "metrics_specs": [
        {
            "metrics": [
                {"class_name": "ExampleCount"},
                {"class_name": "BinaryCrossentropy", "config": json.dumps({"from_logits": True})},
                {"class_name": "MeanLabel"},
            ]
        }
    ],
}
CONFIGS = {
    "multiclass": MULTICLASS,
    "binary": BINARY,
    "logits": LOGITS,
    "binarized": BINARIZED,
    "binary_logits": BINARY_LOGITS,
}
MODELS = {"binarized": "multiclass"}  # the model each config evaluates (default: its own name)


def _penguins(path: Path, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    species = rng.integers(0, 3, rows)
    x = MEANS[species] + rng.normal(size=(rows, 4)) * SPREAD
    lines = [",".join([*FEATURES, "island", "species", "gentoo"])]
    for i in range(rows):
        # Some rows without an island: in no island slice, in TFMA as in headrace.
        island = ISLANDS[int(rng.integers(0, 3))] if i % 11 else ""
        lines.append(",".join([*(f"{v:.2f}" for v in x[i]), island, str(species[i]), str(int(species[i] == 2))]))
    path.write_text("\n".join(lines) + "\n")


def _tf_examples(rows: list[dict[str, Any]], path: str) -> None:
    import tensorflow as tf

    with tf.io.TFRecordWriter(path) as writer:
        for row in rows:
            feature = {name: tf.train.Feature(float_list=tf.train.FloatList(value=[row[name]])) for name in FEATURES}
            if row["island"]:
                feature["island"] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[row["island"].encode()]))
            for name in ("species", "gentoo"):
                feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=[row[name]]))
            writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())


def _tfma_config(kind: str) -> Any:
    """The EvalConfig for TFMA; for the multi-class model, plus what headrace adds to every
    multi-class evaluation: per-class precision and recall (`precision/class_k`: the argmax
    class, TFMA's top_k=1) and the loss (the crossentropy)."""
    import tensorflow_model_analysis as tfma
    from google.protobuf import json_format

    config = json_format.ParseDict(CONFIGS[kind], tfma.EvalConfig())
    if kind in ("binary", "binary_logits"):
        return config
    per_class = config.metrics_specs.add()
    if kind != "binarized":  # there the config's own precision/class_k (binarized) replace headrace's
        for k in range(3):
            for name in ("Precision", "Recall"):
                per_class.metrics.add(
                    class_name=name, config=json.dumps({"class_id": k, "top_k": 1, "name": f"{name.lower()}/class_{k}"})
                )
    per_class.metrics.add(
        class_name="SparseCategoricalCrossentropy", config=json.dumps({"name": "loss", "from_logits": kind == "logits"})
    )
    return config


def _tfma_metrics(result: Any) -> dict[str, dict[str, float]]:
    """{slice: {metric: value}} of a tfma EvalResult, in headrace's names ('species:0',
    'precision/class_2' for a class_id sub key)."""
    found = {}
    for key, by_output in result.slicing_metrics:
        name = "; ".join(f"{c}:{v.decode() if isinstance(v, bytes) else v}" for c, v in key) or "Overall"
        row = found.setdefault(name, {})
        for sub_key, values in by_output[""].items():
            class_id = sub_key.split()[0].removeprefix("classId:") if sub_key.startswith("classId:") else None
            for metric, value in values.items():
                suffix = f"/class_{class_id}" if class_id is not None and "/class_" not in metric else ""
                row[metric + suffix] = float(value["doubleValue"])  # proto JSON writes NaN as "NaN"
    return found


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both models trained, and evaluated by headrace's Evaluator on one ExampleGen's eval split."""
    tmp = tmp_path_factory.mktemp("agreement")
    script = textwrap.dedent(TRAIN).format(features=FEATURES, means=MEANS.tolist(), spread=SPREAD.tolist())
    subprocess.run([sys.executable, "-c", script, str(tmp / "models")], check=True, timeout=300)
    (tmp / "data").mkdir()
    _penguins(tmp / "data" / "penguins.csv", 600, seed=2)
    examples = CsvExampleGen(input_base=tmp / "data")
    nodes: list[Any] = [examples]
    for kind, config in CONFIGS.items():
        source = tmp / "models" / MODELS.get(kind, kind)
        model = Importer(source_uri=str(source), artifact_type=Model).with_id(f"{kind}_model")
        evaluator = Evaluator(examples=examples.outputs["examples"], model=model.outputs["result"], eval_config=config)
        nodes += [model, evaluator.with_id(kind)]
    result = run(tmp / "root", *nodes)
    assert result.state == "COMPLETE", {n: o.error for n, o in result.nodes.items() if o.error}
    eval_data = str(tmp / "eval.tfrecord")
    _tf_examples(split_rows(result.nodes["CsvExampleGen"].outputs["examples"][0], "eval"), eval_data)
    return {"tmp": tmp, "result": result, "eval_data": eval_data}


def _both(evaluated: dict[str, Any], kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(headrace's metrics by slice, TFMA's) for one model."""
    import tensorflow_model_analysis as tfma

    uri = evaluated["result"].nodes[kind].outputs["evaluation"][0]
    ours = json.loads((Path(uri) / "evaluation.json").read_text())["candidate"]
    config = _tfma_config(kind)
    model = str(evaluated["tmp"] / "models" / MODELS.get(kind, kind) / "Format-Serving")
    shared = tfma.default_eval_shared_model(eval_saved_model_path=model, eval_config=config)
    out = str(evaluated["tmp"] / f"tfma_{kind}")
    data = evaluated["eval_data"]
    result = tfma.run_model_analysis(eval_shared_model=shared, eval_config=config, data_location=data, output_path=out)
    # What TFX users read: headrace's own directory through tfma.load_eval_result gives its numbers.
    read = _tfma_metrics(tfma.load_eval_result(uri))
    _assert_same(read, ours)
    assert tfma.load_validation_result(uri).validation_ok
    tfma.view.render_slicing_metrics(
        tfma.load_eval_result(uri),
        slicing_column="island" if kind.startswith("binary_") or kind == "binary" else "species",
    )
    return ours, _tfma_metrics(result)


def _assert_same(read: dict[str, dict[str, float]], ours: dict[str, dict[str, float]]) -> None:
    assert sorted(read) == sorted(ours)
    for name, row in ours.items():
        assert sorted(read[name]) == sorted(row), name
        for metric, value in row.items():
            assert read[name][metric] == pytest.approx(value, nan_ok=True), (name, metric)


@pytest.mark.parametrize("kind", list(CONFIGS))
def test_headrace_metrics_match_tfma_per_slice(evaluated: dict[str, Any], kind: str) -> None:
    ours, theirs = _both(evaluated, kind)
    for name in ours:  # the figures, for the record (pytest -s)
        for metric, value in sorted(ours[name].items()):
            print(f"{kind:10s} {name:18s} {metric:32s} {value:<22.17g} {theirs.get(name, {}).get(metric)}")
    assert sorted(ours) == sorted(theirs)
    assert "Overall" in ours and ("island:Dream" in ours or "species:0" in ours)
    for name, row in ours.items():
        assert set(row) <= set(theirs[name]), (name, set(row) - set(theirs[name]))
        for metric, value in row.items():
            if metric.startswith("auc") and row["mean_label" + metric.removeprefix("auc")] in (0.0, 1.0):
                # One class only: AUC is undefined; headrace says NaN (no threshold applies), TFMA says 0
                # (docs/MIGRATING_FROM_TFX.md, Evaluator).
                assert math.isnan(value) and theirs[name][metric] == 0.0, name
                continue
            tolerance = 1e-3 if metric == "auc" else 1e-4  # TFMA's AUC: a Riemann sum over 10,000 thresholds
            assert value == pytest.approx(theirs[name][metric], rel=tolerance, abs=1e-6, nan_ok=True), (name, metric)
    overall = ours["Overall"]
    if kind == "binary_logits":
        assert 0.05 < overall["binary_crossentropy"] < 0.6  # a model that errs, taken through a sigmoid
        return
    accuracy = overall.get("binary_accuracy", overall.get("sparse_categorical_accuracy"))
    assert 0.5 < accuracy < 1.0  # a model that errs, so disagreeing definitions would show
    if kind != "logits":
        assert 0.5 < overall["auc/class_2" if kind == "binarized" else "auc"] < 1.0
