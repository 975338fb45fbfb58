"""The penguin classifier's trainer module: `run_fn(fn_args)`, called by headrace's Trainer.

A small Keras 3 network over the four scaled measurements, exported with `model.export()` so the
SavedModel's serving signature takes the raw features by name (what InfraValidator, Evaluator and
BulkInferrer call).
"""

from __future__ import annotations

from typing import Any

FEATURES = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"]
LABEL = "species"


def _dataset(fn_args: Any, files: list[str], batch_size: int) -> Any:
    from tfx_bsl.public import tfxio

    options = tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=LABEL)
    return fn_args.data_accessor.tf_dataset_factory(files, options).repeat()


def _model() -> Any:
    import keras

    inputs = [keras.Input(shape=(1,), name=name) for name in FEATURES]
    x = keras.layers.concatenate(inputs)
    for _ in range(2):
        x = keras.layers.Dense(8, activation="relu")(x)
    outputs = keras.layers.Dense(3)(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    return model


def run_fn(fn_args: Any) -> Any:
    """Trains on the train split, validates on eval, exports the serving model."""
    import keras

    keras.utils.set_random_seed(int((fn_args.custom_config or {}).get("seed", 42)))
    model = _model()
    history = model.fit(
        _dataset(fn_args, fn_args.train_files, 20),
        steps_per_epoch=fn_args.train_steps,
        validation_data=_dataset(fn_args, fn_args.eval_files, 10),
        validation_steps=fn_args.eval_steps,
        verbose=2,
    )
    model.export(fn_args.serving_model_dir)
    return history
