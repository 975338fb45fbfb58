"""Serving: InfraValidator (a model loads and answers requests), Pusher (versioned pushes in TF Serving's
layout, and rolling back), BulkInferrer (batch inference, in process or on Beam).

Modules: `infra_validator`, `pusher`, `bulk_inferrer` (the components), `model_registry` (TF Serving's
model directory: versions, pushes recorded in ML Metadata, rollback; `headrace models` reads it). What the
rest of headrace may use is exported here: `serving_dir` (where a Model artifact's SavedModel is) and
`predictions` (a signature's outputs over a split, as the Evaluator needs them)."""

from __future__ import annotations

from headrace.components.serving import model_registry
from headrace.components.serving.bulk_inferrer import BulkInferrer, predictions
from headrace.components.serving.infra_validator import InfraValidator, serving_dir
from headrace.components.serving.pusher import Pusher, rollback

__all__ = ["BulkInferrer", "InfraValidator", "Pusher", "model_registry", "predictions", "rollback", "serving_dir"]
