"""Training: the Trainer (TFX's `run_fn` module files) and the DataAccessor its `fn_args` carry."""

from __future__ import annotations

from headrace.components.training.data_accessor import DataAccessor, FnArgs
from headrace.components.training.trainer import Trainer, TrainerError

__all__ = ["DataAccessor", "FnArgs", "Trainer", "TrainerError"]
