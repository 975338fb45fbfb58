"""The Evaluator against TFMA: the same Keras penguin-like classifier, eval split and EvalConfig
(overall and by species and island), evaluated by headrace's Evaluator and by TFMA 0.47.1's
`run_model_analysis` on Beam's DirectRunner (what TFX's Evaluator runs), each in a fresh process.

    .venv/bin/python bench/bench_evaluator.py [--rows 60000]

Figures: the Evaluator node's time in a LocalDagRunner run (its worker, TensorFlow's import and the
model load included), TFMA's run_model_analysis time (its imports done before), each fresh process's
wall, and the ratio headrace / TFMA (budget: <= 1, headrace is not slower). Needs TFMA (a dev-only
dependency); skipped with a note where it is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time

import benchlib
from benchlib import Figure

ROWS = 60_000
FEATURES = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"]
EVAL_CONFIG = {
    "model_specs": [{"label_key": "species"}],
    "slicing_specs": [{}, {"feature_keys": ["species"]}, {"feature_keys": ["island"]}],
    "metrics_specs": [
        {
            "metrics": [
                {"class_name": "ExampleCount"},
                {"class_name": "SparseCategoricalAccuracy"},
                {"class_name": "SparseCategoricalCrossentropy"},
            ]
        }
    ],
}


def _setup(work: str, rows: int) -> None:
    """Child: the CSV, a trained model (softmax), and the eval split as gzip TFRecords of tf.Example."""
    import keras
    import numpy as np

    means = np.array([[38.8, 18.3, 190.0, 3700.0], [48.8, 18.4, 196.0, 3730.0], [47.5, 15.0, 217.0, 5080.0]])
    spread = np.array([4.0, 1.5, 10.0, 500.0])
    rng = np.random.default_rng(0)
    species = rng.integers(0, 3, rows)
    x = means[species] + rng.normal(size=(rows, 4)) * spread
    islands = np.array(["Biscoe", "Dream", "Torgersen"])[rng.integers(0, 3, rows)]
    os.makedirs(os.path.join(work, "data"))
    with open(os.path.join(work, "data", "penguins.csv"), "w") as f:
        f.write(",".join([*FEATURES, "island", "species"]) + "\n")
        f.writelines(
            f"{a:.2f},{b:.2f},{c:.2f},{d:.2f},{i},{s}\n" for (a, b, c, d), i, s in zip(x, islands, species, strict=True)
        )
    keras.utils.set_random_seed(0)
    inputs = [keras.Input(shape=(1,), name=name) for name in FEATURES]
    scale = keras.layers.Normalization(mean=means.mean(axis=0), variance=spread**2 * 4)
    h = keras.layers.Dense(8, activation="relu")(scale(keras.layers.concatenate(inputs)))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(h))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    model.fit([x[:5000, i : i + 1] for i in range(4)], species[:5000], epochs=3, verbose=0)
    model.export(os.path.join(work, "model", "Format-Serving"), verbose=False)

    from headrace import LocalDagRunner
    from headrace.components import CsvExampleGen
    from headrace.components.io.examples import iter_batches, write_tf_examples
    from headrace.dsl import Pipeline

    gen = CsvExampleGen(input_base=os.path.join(work, "data"))
    root = os.path.join(work, "setup_root")
    result = LocalDagRunner(quiet=True).run(Pipeline(pipeline_name="setup", pipeline_root=root, components=[gen]))
    uri = result.nodes["CsvExampleGen"].outputs["examples"][0]
    count = write_tf_examples(os.path.join(work, "eval.tfrecord.gz"), iter_batches(uri, "eval", "FORMAT_PARQUET"))
    benchlib.emit({"eval_rows": count})


def _headrace(work: str) -> None:
    """Child: CsvExampleGen -> Evaluator on a fresh root; the Evaluator node's seconds."""
    started = time.perf_counter()
    from headrace import LocalDagRunner
    from headrace.components import CsvExampleGen, Evaluator
    from headrace.dsl import Importer, Pipeline
    from headrace.types.standard_artifacts import Model

    gen = CsvExampleGen(input_base=os.path.join(work, "data"))
    model = Importer(source_uri=os.path.join(work, "model"), artifact_type=Model)
    evaluator = Evaluator(examples=gen.outputs["examples"], model=model.outputs["result"], eval_config=EVAL_CONFIG)
    root = tempfile.mkdtemp(prefix="root-", dir=work)
    pipeline = Pipeline(pipeline_name="bench", pipeline_root=root, components=[gen, model, evaluator])
    result = LocalDagRunner(quiet=True).run(pipeline)
    node = result.nodes["Evaluator"]
    uri = node.outputs["evaluation"][0]
    with open(os.path.join(uri, "evaluation.json")) as f:
        accuracy = json.load(f)["candidate"]["Overall"]["sparse_categorical_accuracy"]
    benchlib.emit({"seconds": node.seconds, "wall": time.perf_counter() - started, "accuracy": accuracy})


def _tfma(work: str) -> None:
    """Child: tfma.run_model_analysis on the same eval split (DirectRunner), imports timed apart."""
    started = time.perf_counter()
    import tensorflow_model_analysis as tfma
    from google.protobuf import json_format

    imported = time.perf_counter()
    config = json_format.ParseDict(EVAL_CONFIG, tfma.EvalConfig())
    model = os.path.join(work, "model", "Format-Serving")
    shared = tfma.default_eval_shared_model(eval_saved_model_path=model, eval_config=config)
    result = tfma.run_model_analysis(
        eval_shared_model=shared,
        eval_config=config,
        data_location=os.path.join(work, "eval.tfrecord.gz"),
        output_path=tempfile.mkdtemp(prefix="tfma-", dir=work),
    )
    seconds = time.perf_counter() - imported
    overall = next(m for key, m in result.slicing_metrics if key == ())
    accuracy = overall[""][""]["sparse_categorical_accuracy"]["doubleValue"]
    benchlib.emit({"seconds": seconds, "wall": time.perf_counter() - started, "accuracy": accuracy})


def main(rows: int = ROWS) -> list[Figure]:
    if importlib.util.find_spec("tensorflow_model_analysis") is None:
        print("evaluator: skipped, tensorflow_model_analysis is not installed (a dev dependency)")
        return []
    work = tempfile.mkdtemp(prefix="headrace-bench-evaluator-")
    try:
        setup = benchlib.run_child("bench_evaluator.py", ["setup", work, str(rows)], timeout=600)
        ours = benchlib.run_child("bench_evaluator.py", ["headrace", work], timeout=600)
        theirs = benchlib.run_child("bench_evaluator.py", ["tfma", work], timeout=1800)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = setup["eval_rows"]
    if abs(ours["accuracy"] - theirs["accuracy"]) > 1e-4:
        raise RuntimeError(f"headrace and TFMA disagree on accuracy: {ours['accuracy']} vs {theirs['accuracy']}")
    ratio = ours["seconds"] / theirs["seconds"]
    print(
        f"evaluator on {n} eval rows (3 slicings): headrace {ours['seconds']:.1f} s (process {ours['wall']:.1f} s), "
        f"TFMA {theirs['seconds']:.1f} s (process {theirs['wall']:.1f} s); accuracy {ours['accuracy']:.4f} both"
    )
    note = f"{n} eval rows, overall + species + island"
    return [
        Figure("evaluator: headrace Evaluator node", ours["seconds"], "s", note=f"{note}; worker + TF import + model"),
        Figure(
            "evaluator: TFMA run_model_analysis", theirs["seconds"], "s", note=f"{note}; DirectRunner, imports apart"
        ),
        Figure("evaluator: headrace process (ExampleGen too)", ours["wall"], "s", counted=False),
        Figure("evaluator: TFMA process (imports too)", theirs["wall"], "s", counted=False),
        Figure("evaluator: headrace / TFMA time", ratio, "x", 1.0, note="the same numbers, per slice"),
    ]


if __name__ == "__main__":
    if benchlib.is_child(sys.argv):
        kind, work = sys.argv[2], sys.argv[3]
        if kind == "setup":
            _setup(work, int(sys.argv[4]))
        else:
            (_headrace if kind == "headrace" else _tfma)(work)
    else:
        rows = int(sys.argv[sys.argv.index("--rows") + 1]) if "--rows" in sys.argv else ROWS
        print(benchlib.figures_table(main(rows)))
