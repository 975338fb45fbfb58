"""Orchestrators: each reads the IR and runs nodes through the shared node launcher.

The Beam, Kubeflow and Airflow adapters load on first use, so `import headrace.orchestrators`
imports none of Beam, kfp or Airflow.
"""

from __future__ import annotations

import importlib
from typing import Any

from headrace.orchestrators.base_runner import BaseRunner, RunResult
from headrace.orchestrators.interactive import ExecutionResult, InteractiveContext
from headrace.orchestrators.local_dag_runner import LocalDagRunner

_LAZY = {
    "BeamDagRunner": "beam_dag_runner",
    "KubeflowV2DagRunner": "kubeflow_v2_dag_runner",
    "KubeflowV2DagRunnerConfig": "kubeflow_v2_dag_runner",
    "AirflowDagRunner": "airflow_dag_runner",
    "AirflowPipelineConfig": "airflow_dag_runner",
}

__all__ = ["BaseRunner", "ExecutionResult", "InteractiveContext", "LocalDagRunner", "RunResult", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'headrace.orchestrators' has no attribute '{name}'")
    return getattr(importlib.import_module(f"headrace.orchestrators.{module}"), name)
