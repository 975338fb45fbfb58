"""Serving and push: InfraValidator (a model loads and answers), Pusher (versioned pushes, rollback; TF
Serving's layout in `model_registry`), BulkInferrer (batch inference)."""

from __future__ import annotations

from headrace.components.serving.bulk_inferrer import BulkInferrer
from headrace.components.serving.infra_validator import InfraValidator
from headrace.components.serving.pusher import Pusher

__all__ = ["BulkInferrer", "InfraValidator", "Pusher"]
