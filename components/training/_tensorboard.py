"""The Trainer's TensorBoard logs: each run's hyperparameters (TensorBoard's HParams) and its training
metrics, written into the `model_run` artifact as TFX's Trainer leaves its logs there, so that
`tensorboard --logdir <pipeline root>` lists every run and compares them on the HParams dashboard.

`<model_run>/tensorboard/` holds one event file: the HParams session of the run (trial id: the
pipeline run id) with its hyperparameters, and the scalars: each metric of each Keras `fit` per epoch
(`epoch_<metric>`, as Keras' own TensorBoard callback names them) and the final metrics
(`final/<metric>`), which the HParams dashboard pairs with the hyperparameters. Logs the user's
`run_fn` writes itself into `fn_args.model_run_dir` (a TensorBoard callback) stay beside them.
"""

from __future__ import annotations

import os
from typing import Any

TENSORBOARD_DIR = "tensorboard"


def hparams_of(
    hyperparameters: dict[str, Any] | None, custom_config: dict[str, Any] | None, steps: dict[str, int]
) -> dict[str, Any]:
    """The run's hyperparameters as HParams values (bool, number or string): the hyperparameters given to
    the Trainer, its custom_config's plain values (prefixed `custom_config.`) and the step counts."""
    found: dict[str, Any] = {}
    for prefix, source in (("", hyperparameters or {}), ("custom_config.", custom_config or {})):
        for key, value in source.items():
            if isinstance(value, (bool, int, float, str)):
                found[f"{prefix}{key}"] = value
            elif isinstance(value, dict) and "value" in value and isinstance(value["value"], (bool, int, float, str)):
                found[f"{prefix}{key}"] = value["value"]  # keras-tuner's {'class_name':..., 'config':..., 'value':...}
    found.update({k: v for k, v in steps.items() if v})
    return found


def write_logs(
    model_run_dir: str, run_id: str, hparams: dict[str, Any], histories: list[Any], metrics: dict[str, float]
) -> str:
    """Writes the run's TensorBoard logs; returns their folder."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    folder = os.path.join(model_run_dir, TENSORBOARD_DIR)
    writer = tf.summary.create_file_writer(folder)
    with writer.as_default():
        hp.hparams(hparams, trial_id=run_id or None)
        step = 0
        for history in histories:
            values = {k: v for k, v in getattr(history, "history", {}).items() if v}
            for epoch in range(max((len(v) for v in values.values()), default=0)):
                for name, series in values.items():
                    if epoch < len(series):
                        tf.summary.scalar(f"epoch_{name}", float(series[epoch]), step=step + epoch)
            step += max((len(v) for v in values.values()), default=0)
        for name, value in metrics.items():
            tf.summary.scalar(f"final/{name}", value, step=max(step - 1, 0))
    writer.flush()
    writer.close()
    return folder
