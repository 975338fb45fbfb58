"""TensorFlow in a step: the worker group the TensorFlow steps share (TensorFlow is imported once per
worker), a quiet start-up, and loading a SavedModel with an error a user can act on."""

from __future__ import annotations

import os
from typing import Any

from headrace.errors import HeadraceError

TFDV_GROUP = "tensorflow"  # one worker runs every TFDV step of a run: TensorFlow is imported once


class ModelLoadError(HeadraceError):
    """A Model artifact does not hold a TensorFlow SavedModel that loads."""


def load_saved_model(owner: str, model_dir: str, tags: Any = None) -> Any:
    """`tf.saved_model.load`, with a model that does not load reported as a ModelLoadError naming
    the folder and the fix (TensorFlow's own OSError says only which file it could not parse)."""
    quiet_tensorflow()
    import tensorflow as tf

    try:
        return tf.saved_model.load(model_dir, tags=tags)
    except Exception as e:
        raise ModelLoadError(
            f"{owner}: the model at {model_dir} does not load as a TensorFlow SavedModel "
            f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}). Wire a Model a Trainer wrote "
            "(its SavedModel in Format-Serving/), or check the Importer's source_uri."
        ) from e


def quiet_tensorflow() -> None:
    """TensorFlow's C++ start-up chatter (no CUDA, no TensorRT on a CPU machine) and Google's
    client libraries' Python-version notices are noise in a step's log; a user who sets
    TF_CPP_MIN_LOG_LEVEL keeps their setting."""
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.api_core")


__all__ = ["TFDV_GROUP", "ModelLoadError", "load_saved_model", "quiet_tensorflow"]
