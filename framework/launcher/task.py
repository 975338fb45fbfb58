"""What passes between the launcher and an executor process: plain, picklable data."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class ExecutionTask:
    """Everything an executor needs, as plain data (artifacts as dicts)."""

    node_id: str
    executor: dict[str, Any]
    input_dict: dict[str, list[dict[str, Any]]]
    output_dict: dict[str, list[dict[str, Any]]]
    exec_properties: dict[str, Any]
    pipeline_name: str
    pipeline_root: str
    run_id: str
    execution_id: int
    tmp_dir: str
    log_path: str = ""
    beam_pipeline_args: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ExecutorResult:
    """What came back: updated output artifacts, or the error with its original traceback."""

    ok: bool
    output_dict: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)
    error_type: str = ""
    message: str = ""
    traceback: str = ""
    log_path: str = ""  # set when the executor printed anything
    # The error is one headrace raises on purpose (a HeadraceError: bad input data, failed validation),
    # whose message says what to fix: summaries show the message, the log keeps the traceback.
    expected: bool = False
