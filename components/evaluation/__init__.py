"""Evaluation: the Evaluator (tfma.EvalConfig, no TFMA needed), its metrics, thresholds and TFMA's output layout."""

from __future__ import annotations

from headrace.components.evaluation.evaluator import Evaluator

__all__ = ["Evaluator"]
