"""The Trainer's Keras handling: which Keras `tf.keras` is (TF_USE_LEGACY_KERAS, set before TensorFlow
resolves it and put back after the step, so concurrent in-process Trainers and later steps see the
caller's setting), and what `fit` reported (the final metrics recorded on the Model)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from headrace.components.training.errors import TrainerError


def choose_keras(version: int | None) -> int:
    """Sets TF_USE_LEGACY_KERAS for `version` (None: the user's setting, else Keras 2) before
    tf.keras is first resolved, and returns the Keras major version tf.keras then is."""
    if version == 3:
        os.environ["TF_USE_LEGACY_KERAS"] = "0"
    elif version == 2:
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
    else:
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    wanted = 2 if os.environ["TF_USE_LEGACY_KERAS"].lower() in ("1", "true", "yes") else 3
    import tensorflow as tf

    try:
        got = 2 if tf.keras.__name__.startswith("tf_keras") else 3
    except (ImportError, RecursionError, AttributeError) as e:
        # TensorFlow's lazy tf.keras loader is left broken for the life of the process when its first
        # resolution fails (e.g. another step imported Keras 3 before TF_USE_LEGACY_KERAS was set).
        raise TrainerError(
            f"Trainer: tf.keras cannot be resolved in this process ({type(e).__name__}); another step that ran "
            f"here first loaded a different Keras. Run the Trainer in its own process (executor_mode='process', "
            f"the default) or set keras_version=3 to use the Keras already loaded."
        ) from None
    if got != wanted:
        raise TrainerError(
            f"Trainer: this process resolved tf.keras to Keras {got} before the Trainer ran, but the Trainer needs "
            f"Keras {wanted}. Keep Trainers with different keras_version in separate runs, or set TF_USE_LEGACY_KERAS "
            "before anything imports tf.keras."
        )
    return got


class _KerasEnv:
    """TF_USE_LEGACY_KERAS as the caller had it, while Trainers run in this process."""

    lock = threading.Lock()
    users = 0
    saved: str | None = None


@contextmanager
def caller_keras_setting() -> Iterator[None]:
    """Puts the caller's TF_USE_LEGACY_KERAS back once the last Trainer running in this process ends
    (in-process Trainers may run at once on threads: the first saves the value, the last restores it)."""
    with _KerasEnv.lock:
        if _KerasEnv.users == 0:
            _KerasEnv.saved = os.environ.get("TF_USE_LEGACY_KERAS")
        _KerasEnv.users += 1
    try:
        yield
    finally:
        with _KerasEnv.lock:
            _KerasEnv.users -= 1
            if _KerasEnv.users == 0:
                if _KerasEnv.saved is None:
                    os.environ.pop("TF_USE_LEGACY_KERAS", None)
                else:
                    os.environ["TF_USE_LEGACY_KERAS"] = _KerasEnv.saved


@contextmanager
def watch_fit(seen: list[Any]) -> Iterator[None]:
    """Records the History of each Keras `Model.fit` the user's code calls (both Keras packages)."""
    patched: list[tuple[Any, Any]] = []
    for module_name in ("tf_keras", "keras"):
        module = sys.modules.get(module_name)
        model = getattr(module, "Model", None) if module is not None else None
        # Keras 3 defines fit on a backend trainer class the Model inherits from: patch that class.
        model_cls = next((c for c in getattr(model, "__mro__", ()) if "fit" in vars(c)), None)
        if model_cls is None or any(model_cls is done for done, _ in patched):
            continue
        original = vars(model_cls)["fit"]

        def fit(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            history = __original(self, *args, **kwargs)
            seen.append(history)
            return history

        model_cls.fit = fit
        patched.append((model_cls, original))
    try:
        yield
    finally:
        for model_cls, original in patched:
            model_cls.fit = original


def final_metrics(returned: Any, histories: list[Any]) -> dict[str, float]:
    """Numbers from what run_fn returned (a dict, a History), else from the last fit's last epoch."""
    source = returned
    if source is None and histories:
        source = histories[-1]
    if hasattr(source, "history"):
        source = {k: v[-1] for k, v in source.history.items() if v}
    if not isinstance(source, dict):
        return {}
    out = {}
    for k, v in source.items():
        try:
            out[str(k)] = float(v)
        except (TypeError, ValueError):
            continue
    return out


__all__ = ["caller_keras_setting", "choose_keras", "final_metrics", "watch_fit"]
