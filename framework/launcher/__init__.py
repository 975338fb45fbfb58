"""The node launcher (driver -> executor -> publisher) shared by every orchestrator.

Names are loaded on first use, so an executor worker process (which imports
`headrace.launcher.worker`) does not pay for the driver, publisher and store code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headrace.launcher.launcher import NodeLauncher, PreparedExecution
    from headrace.launcher.outcomes import NodeOutcome, final_state, node_outcome, node_outcomes
    from headrace.launcher.runs import RunHandle, attach_run, load_run_ir, new_run_id, resume_run, start_run
    from headrace.launcher.task import ExecutionTask, ExecutorResult

_WHERE = {
    "NodeLauncher": "launcher",
    "NodeOutcome": "outcomes",
    "final_state": "outcomes",
    "node_outcome": "outcomes",
    "node_outcomes": "outcomes",
    "PreparedExecution": "launcher",
    "RunHandle": "runs",
    "attach_run": "runs",
    "load_run_ir": "runs",
    "new_run_id": "runs",
    "resume_run": "runs",
    "start_run": "runs",
    "ExecutionTask": "task",
    "ExecutorResult": "task",
}

__all__ = [
    "ExecutionTask",
    "ExecutorResult",
    "NodeLauncher",
    "NodeOutcome",
    "PreparedExecution",
    "RunHandle",
    "attach_run",
    "final_state",
    "load_run_ir",
    "new_run_id",
    "node_outcome",
    "node_outcomes",
    "resume_run",
    "start_run",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'headrace.launcher' has no attribute '{name}'")
    return getattr(importlib.import_module(f"headrace.launcher.{module}"), name)
