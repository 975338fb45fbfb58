"""Orchestrators: each reads the IR and runs nodes through the shared node launcher."""

from headrace.orchestrators.base_runner import BaseRunner, RunResult
from headrace.orchestrators.interactive import ExecutionResult, InteractiveContext
from headrace.orchestrators.local_dag_runner import LocalDagRunner

__all__ = ["BaseRunner", "ExecutionResult", "InteractiveContext", "LocalDagRunner", "RunResult"]
