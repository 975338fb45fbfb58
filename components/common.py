"""What the data-validation components share: split selection, quiet TensorFlow, the report."""

from __future__ import annotations

import json
import os
from typing import Any

from headrace.components.io.examples import split_names
from headrace.errors import DefinitionError, HeadraceError

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


def check_splits(owner: str, name: str, value: Any) -> list[str]:
    """A list of split names (TFX passes exclude_splits as a list too)."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise DefinitionError(f"{owner}: {name} must be a list of split names, e.g. ['eval'], got {value!r}.")
    return list(value)


def chosen_splits(artifact: Any, exclude: list[str], owner: str) -> list[str]:
    """The artifact's splits minus the excluded ones; an error if none is left."""
    names = split_names(artifact)
    unknown = [s for s in exclude if s not in names]
    if unknown:
        print(f"{owner}: exclude_splits {unknown} are not splits of the input (splits: {names}); ignored.")
    chosen = [s for s in names if s not in exclude]
    if not chosen:
        raise ValueError(f"{owner}: every split of the input ({names}) is excluded; nothing to do.")
    return chosen


def write_report(uri: str, html: str) -> None:
    """Writes `report.html` into the artifact's folder (`headrace show` and notebooks open it)."""
    from headrace.components.reports import write_report as write

    write(uri, html)
