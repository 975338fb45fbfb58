"""The node launcher (driver -> executor -> publisher) shared by every orchestrator."""

from headrace.launcher.launcher import NodeLauncher, NodeOutcome, PreparedExecution
from headrace.launcher.runs import RunHandle, attach_run, load_run_ir, new_run_id, resume_run, start_run
from headrace.launcher.task import ExecutionTask, ExecutorResult

__all__ = [
    "ExecutionTask",
    "ExecutorResult",
    "NodeLauncher",
    "NodeOutcome",
    "PreparedExecution",
    "RunHandle",
    "attach_run",
    "load_run_ir",
    "new_run_id",
    "resume_run",
    "start_run",
]
