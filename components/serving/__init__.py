"""Serving and push: InfraValidator (a model loads and answers), Pusher (versioned pushes, rollback;
TF Serving's layout in `model_registry`), BulkInferrer (batch inference). `predictions` (a SavedModel
signature run on record batches) and `serving_dir` (where a Model keeps its SavedModel) serve the
Evaluator too."""

from __future__ import annotations

from headrace.components.serving.bulk_inferrer import BulkInferrer, predictions
from headrace.components.serving.infra_validator import InfraValidator, serving_dir
from headrace.components.serving.pusher import Pusher

__all__ = ["BulkInferrer", "InfraValidator", "Pusher", "predictions", "serving_dir"]
