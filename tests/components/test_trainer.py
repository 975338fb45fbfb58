"""Trainer on the Palmer Penguins: TFX's penguin_simple module file (ported verbatim but for the import
rewrite) trained in a worker, the data accessor on both payloads, and the module file in the cache key."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from datagen import custom_property, output_uri, run, split_rows

from headrace.components import CsvExampleGen
from headrace.components.training.trainer import Trainer
from headrace.errors import DefinitionError
from headrace.tfx import v1 as tfx

pytestmark = pytest.mark.heavy_imports  # the test process loads the SavedModel and reads datasets: TensorFlow

REPO = Path(__file__).resolve().parents[2]
PORTED = REPO / "tests" / "tfx" / "ported" / "penguin_simple"
MODULE_FILE = PORTED / "penguin_trainer.py"
FEATURES = {
    "culmen_length_mm": "bill_length_mm",
    "culmen_depth_mm": "bill_depth_mm",
    "flipper_length_mm": "flipper_length_mm",
    "body_mass_g": "body_mass_g",
}
SPECIES = {"Adelie": 0, "Chinstrap": 1, "Gentoo": 2}


def write_penguins_processed(path: Path) -> int:
    """TFX's `penguins_processed.csv` from the palmerpenguins CSV: species as 0/1/2, the four numeric
    features min-max scaled to [0, 1], rows with a missing feature dropped."""
    with open(REPO / "pipelines" / "penguin" / "data" / "penguins.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if all(r[c] not in ("", "NA") for c in FEATURES.values())]
    lo = {k: min(float(r[c]) for r in rows) for k, c in FEATURES.items()}
    hi = {k: max(float(r[c]) for r in rows) for k, c in FEATURES.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["species", *FEATURES])
        for r in rows:
            w.writerow([SPECIES[r["species"]], *((float(r[c]) - lo[k]) / (hi[k] - lo[k]) for k, c in FEATURES.items())])
    return len(rows)


@pytest.fixture(scope="module")
def penguin(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """CsvExampleGen (headrace.tfx's: tf.Example, TFX's default) -> Trainer (the tutorial's
    TrainArgs(num_steps=100), EvalArgs(num_steps=5)) in a worker."""
    tmp = tmp_path_factory.mktemp("penguin")
    rows = write_penguins_processed(tmp / "data" / "data.csv")
    module_file = tmp / "module" / "penguin_trainer.py"  # the tutorial writes its module file next to the notebook
    module_file.parent.mkdir()
    module_file.write_text(MODULE_FILE.read_text())
    example_gen = tfx.components.CsvExampleGen(input_base=str(tmp / "data"))
    trainer = tfx.components.Trainer(
        module_file=str(module_file),
        examples=example_gen.outputs["examples"],
        train_args=tfx.proto.TrainArgs(num_steps=100),
        eval_args=tfx.proto.EvalArgs(num_steps=5),
        custom_config={"seed": 1},  # the tutorial's code sets no seed: the Trainer seeds, so the test is stable
    )
    result = run(tmp / "root", example_gen, trainer, name="penguin-simple")
    assert result.state == "COMPLETE", {n: o.error for n, o in result.nodes.items()}
    return {"tmp": tmp, "rows": rows, "result": result, "components": (example_gen, trainer), "module": module_file}


def _eval_split(examples_uri: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    rows = split_rows(examples_uri, "eval")  # tf.Example rows: one-value lists
    features = {k: np.array([r[k] for r in rows], dtype=np.float32).reshape(-1, 1) for k in FEATURES}
    return features, np.array([r["species"][0] for r in rows])


def test_the_tutorial_module_file_trains_a_servable_accurate_model(penguin: dict[str, Any]) -> None:
    import tensorflow as tf

    result, root = penguin["result"], penguin["tmp"] / "root"
    model_uri = output_uri(result, "Trainer", "model")
    serving = os.path.join(model_uri, "Format-Serving")
    assert os.path.isfile(os.path.join(serving, "saved_model.pb"))
    loaded = tf.saved_model.load(serving)
    signature = loaded.signatures["serving_default"]
    assert set(signature.structured_input_signature[1]) == set(FEATURES)
    features, labels = _eval_split(output_uri(result, "CsvExampleGen", "examples"))
    logits = next(iter(signature(**{k: tf.constant(v) for k, v in features.items()}).values())).numpy()
    assert logits.shape == (len(labels), 3)
    accuracy = float((logits.argmax(axis=1) == labels).mean())
    assert accuracy >= 0.8, accuracy
    assert custom_property(root, model_uri, "train_steps") == 100
    assert custom_property(root, model_uri, "eval_steps") == 5
    assert custom_property(root, model_uri, "keras_version") == 2
    assert len(custom_property(root, model_uri, "module_file_sha256")) == 64
    run_uri = output_uri(result, "Trainer", "model_run")
    assert os.path.isfile(os.path.join(run_uri, "metrics.json"))


def test_tensorboards_own_reader_finds_each_runs_scalars_and_hparams(penguin: dict[str, Any]) -> None:
    """The Trainer's logs in model_run, read by TensorBoard's EventAccumulator: per-epoch and final
    scalars, and the HParams session (trial id: the run id) with the run's hyperparameters."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2
    from tensorboard.util import tensor_util

    result = penguin["result"]
    logs = os.path.join(output_uri(result, "Trainer", "model_run"), "tensorboard")
    events = EventAccumulator(logs, size_guidance={"tensors": 0})
    events.Reload()
    tags = set(events.Tags()["tensors"])
    assert {"epoch_loss", "epoch_sparse_categorical_accuracy", "final/sparse_categorical_accuracy"} <= tags, tags
    [final] = events.Tensors("final/sparse_categorical_accuracy")
    metrics = json.loads(Path(output_uri(result, "Trainer", "model_run"), "metrics.json").read_text())
    assert abs(float(tensor_util.make_ndarray(final.tensor_proto)) - metrics["sparse_categorical_accuracy"]) < 1e-6
    assert len(events.Tensors("epoch_loss")) >= 1  # one per epoch
    content = events.PluginTagToContent("hparams")
    session = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hparams = {k: v.number_value or v.string_value for k, v in session.session_start_info.hparams.items()}
    assert hparams == {"train_steps": 100, "eval_steps": 5, "custom_config.seed": 1}
    assert session.session_start_info.group_name == result.run_id
    # `tensorboard --logdir <pipeline root>` finds the run's logs among everything else in the root.
    from tensorboard.backend.event_processing.plugin_event_multiplexer import EventMultiplexer

    found = EventMultiplexer().AddRunsFromDirectory(str(penguin["tmp"] / "root")).Runs()
    assert any(run.endswith("tensorboard") for run in found), found


def test_a_rerun_is_cached_and_editing_the_module_file_retrains_only_the_trainer(penguin: dict[str, Any]) -> None:
    example_gen, trainer = penguin["components"]
    root, module = penguin["tmp"] / "root", penguin["module"]
    again = run(root, example_gen, trainer, name="penguin-simple")
    assert again.nodes["Trainer"].state == "CACHED"
    # The module file now takes its batch size from a neighbour (which enters the key from now on).
    (module.parent / "sizes.py").write_text("_TRAIN_BATCH_SIZE = 16\n")
    module.write_text(MODULE_FILE.read_text().replace("_TRAIN_BATCH_SIZE = 20", "from sizes import _TRAIN_BATCH_SIZE"))
    edited = run(root, example_gen, trainer, name="penguin-simple")
    assert edited.nodes["CsvExampleGen"].state == "CACHED"
    assert edited.nodes["Trainer"].state == "COMPLETE", edited.nodes["Trainer"].error
    new_model = output_uri(edited, "Trainer", "model")
    assert new_model != output_uri(penguin["result"], "Trainer", "model")
    assert custom_property(root, new_model, "module_file_sha256") != custom_property(
        root, output_uri(penguin["result"], "Trainer", "model"), "module_file_sha256"
    )
    assert run(root, example_gen, trainer, name="penguin-simple").nodes["Trainer"].state == "CACHED"


@pytest.mark.parametrize("in_memory", [True, False], ids=["in-memory", "streamed"])
def test_parquet_and_tfrecord_payloads_feed_the_same_datasets(
    penguin: dict[str, Any], in_memory: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not in_memory:
        monkeypatch.setenv("HEADRACE_DATASET_IN_MEMORY_BYTES", "0")
    import tensorflow as tf
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx_bsl.public import tfxio

    from headrace.components.training.data_accessor import data_accessor

    tmp = penguin["tmp"]
    parquet = run(tmp / f"parquet_root_{in_memory}", CsvExampleGen(input_base=str(tmp / "data")), name="parquet")
    uris = {
        "FORMAT_PARQUET": output_uri(parquet, "CsvExampleGen", "examples"),
        "FORMAT_TF_EXAMPLE": output_uri(penguin["result"], "CsvExampleGen", "examples"),
    }
    schema = schema_pb2.Schema()
    for name in FEATURES:
        feature = schema.feature.add(name=name, type=schema_pb2.FLOAT)
        feature.shape.dim.add(size=1)
        feature.presence.min_fraction = 1
    label = schema.feature.add(name="species", type=schema_pb2.INT)
    label.shape.dim.add(size=1)
    label.presence.min_fraction = 1
    options = tfxio.TensorFlowDatasetOptions(batch_size=7, label_key="species", num_epochs=1, shuffle=False)
    seen = {}
    for payload, uri in uris.items():
        accessor = data_accessor(payload)
        dataset = accessor.tf_dataset_factory([os.path.join(uri, "Split-train", "*")], options, schema)
        features, label = dataset.element_spec
        assert set(features) == set(FEATURES)
        assert features["body_mass_g"].dtype == tf.float32 and label.dtype == tf.int64
        assert features["body_mass_g"].shape.as_list() == [None, 1]
        batches = list(dataset.as_numpy_iterator())
        assert batches[0][1].shape == (7, 1)
        rows = sorted(
            (int(lab[0]), *(round(float(f[k][i][0]), 5) for k in FEATURES))
            for f, labels in batches
            for i, lab in enumerate(labels)
        )
        seen[payload] = rows
        unlabelled = accessor.tf_dataset_factory(
            [os.path.join(uri, "Split-eval", "*")], tfxio.TensorFlowDatasetOptions(batch_size=4, num_epochs=1), None
        )
        assert "species" in unlabelled.element_spec  # no schema: inferred from the data
        batch_rows = accessor.record_batch_factory(
            [os.path.join(uri, "Split-train", "*")], tfxio.RecordBatchesOptions(batch_size=50, num_epochs=1), schema
        )
        assert sum(b.num_rows for b in batch_rows) == len(rows)
    assert seen["FORMAT_PARQUET"] == seen["FORMAT_TF_EXAMPLE"]
    assert len(seen["FORMAT_PARQUET"]) > penguin["rows"] // 2


def test_definition_errors_say_what_to_do(penguin: dict[str, Any]) -> None:
    example_gen, _ = penguin["components"]
    examples = example_gen.outputs["examples"]
    with pytest.raises(DefinitionError, match="transform_graph is not supported"):
        Trainer(examples, module_file=str(MODULE_FILE), transform_graph=examples)
    with pytest.raises(DefinitionError, match="module_file"):
        Trainer(examples)
    with pytest.raises(DefinitionError, match="keras_version"):
        Trainer(examples, module_file=str(MODULE_FILE), keras_version=4)
    with pytest.raises(DefinitionError, match="unknown fields"):
        Trainer(examples, module_file=str(MODULE_FILE), train_args={"num_step": 3})


KERAS3_MODULE = """
import tensorflow as tf
from tfx_bsl.public import tfxio

FEATURES = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"]


def run_fn(fn_args):
    assert not tf.keras.__name__.startswith("tf_keras"), tf.keras.__name__
    options = tfxio.TensorFlowDatasetOptions(batch_size=20, label_key="species")
    train = fn_args.data_accessor.tf_dataset_factory(fn_args.train_files, options, None)
    inputs = {k: tf.keras.Input(shape=(1,), name=k) for k in FEATURES}
    hidden = tf.keras.layers.Dense(8, activation="relu")(tf.keras.layers.Concatenate()(list(inputs.values())))
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(3)(hidden))
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(train, steps_per_epoch=fn_args.train_steps, epochs=1, verbose=0)
    model.export(fn_args.serving_model_dir)


def no_model(fn_args):
    pass
"""


def test_keras_3_exports_and_a_run_fn_that_saves_nothing_fails_clearly(penguin: dict[str, Any], tmp_path: Path) -> None:
    example_gen, _ = penguin["components"]
    module = tmp_path / "keras3_module.py"
    module.write_text(KERAS3_MODULE)
    examples = example_gen.outputs["examples"]
    keras3 = Trainer(examples, module_file=module, train_args={"num_steps": 10}, keras_version=3)
    broken = Trainer(examples, module_file=module, run_fn="no_model", keras_version=3).with_id("NoModel")
    result = run(tmp_path / "root", example_gen, keras3, broken, name="keras3")
    assert result.nodes["Trainer"].state == "COMPLETE", result.nodes["Trainer"].error
    model_uri = output_uri(result, "Trainer", "model")
    assert os.path.isfile(os.path.join(model_uri, "Format-Serving", "saved_model.pb"))
    assert custom_property(tmp_path / "root", model_uri, "keras_version") == 3
    with open(os.path.join(output_uri(result, "Trainer", "model_run"), "metrics.json")) as f:
        assert {"loss", "accuracy"} <= set(json.load(f))  # the last fit's final epoch, recorded without help
    assert result.nodes["NoModel"].state == "FAILED"
    assert "wrote no SavedModel to fn_args.serving_model_dir" in str(result.nodes["NoModel"].error)
    assert "model.export(fn_args.serving_model_dir)" in str(result.nodes["NoModel"].error)


def test_tfx_import_paths_serve_the_trainer_and_its_protos() -> None:
    from headrace.tfx.components import Trainer as ComponentsTrainer
    from headrace.tfx.components.trainer.executor import GenericExecutor
    from headrace.tfx.components.trainer.fn_args_utils import DataAccessor, FnArgs
    from headrace.tfx.proto import pusher_pb2, trainer_pb2

    assert tfx.components.Trainer is ComponentsTrainer is Trainer
    assert tfx.components.FnArgs is FnArgs and tfx.components.DataAccessor is DataAccessor
    assert GenericExecutor is Trainer.EXECUTOR_SPEC.executor_class  # type: ignore[attr-defined]
    args = trainer_pb2.TrainArgs(splits=["train"], num_steps=100)
    assert args.SerializeToString() == b"\n\x05train\x10d"  # TFX's field numbers: splits=1, num_steps=2
    assert trainer_pb2.EvalArgs.DESCRIPTOR.full_name == "tfx.components.trainer.EvalArgs"
    destination = tfx.proto.PushDestination(
        filesystem=tfx.proto.PushDestination.Filesystem(base_directory="/serving", versioning=pusher_pb2.UNIX_TIMESTAMP)
    )
    # filesystem=3, base_directory=1, versioning=6
    assert destination.SerializeToString() == b"\x1a\x0c\n\x08/serving0\x01"
    assert pusher_pb2.Versioning.Name(0) == "AUTO"


def test_run_fn_loading_sees_edited_neighbours_and_names_what_is_missing(tmp_path: Path) -> None:
    from headrace.components.training.trainer import TrainerError, load_run_fn

    (tmp_path / "helper_for_trainer_test.py").write_text("VALUE = 1\n")
    module = tmp_path / "module.py"
    module.write_text("import helper_for_trainer_test as h\n\ndef run_fn(fn_args):\n    return h.VALUE\n")
    assert load_run_fn(str(module), None)(None) == 1
    (tmp_path / "helper_for_trainer_test.py").write_text("VALUE = 2\n")
    assert load_run_fn(str(module), None)(None) == 2  # a worker that ran the old one reloads its neighbours
    assert load_run_fn(str(module), "some.package.run_fn")(None) == 2  # TFX's dotted form: the last name counts
    with pytest.raises(TrainerError, match=r"has no function 'train'.*run_fn"):
        load_run_fn(str(module), "train")
    with pytest.raises(TrainerError, match="does not exist"):
        load_run_fn(str(tmp_path / "missing.py"), None)
    assert load_run_fn(None, "json.dumps") is json.dumps
    estimator = tmp_path / "estimator_module.py"
    estimator.write_text("def trainer_fn(trainer_fn_args, schema):\n    return {}\n")  # TFX's estimator form
    with pytest.raises(TrainerError, match=r"estimator-based trainer_fn.*define run_fn\(fn_args\)"):
        load_run_fn(str(estimator), None)


def test_hyperparameters_from_an_artifact_or_a_dict(tmp_path: Path) -> None:
    from headrace.components.training.trainer import _hyperparameters
    from headrace.types.standard_artifacts import HyperParameters

    artifact = HyperParameters()
    artifact.uri = str(tmp_path)
    (tmp_path / "best_hyperparameters.txt").write_text(json.dumps({"space": [], "values": {"units": 8}}))
    assert _hyperparameters({"hyperparameters": [artifact]}, {}) == {"units": 8}  # keras_tuner's config
    (tmp_path / "best_hyperparameters.txt").write_text(json.dumps({"learning_rate": 0.01}))
    assert _hyperparameters({"hyperparameters": [artifact]}, {}) == {"learning_rate": 0.01}
    assert _hyperparameters({}, {"hyperparameters_dict": {"units": 4}}) == {"units": 4}
    assert _hyperparameters({}, {}) is None
