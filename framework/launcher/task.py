"""What passes between the launcher and an executor process: plain, picklable data."""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headrace.compiler.ir import NodeIR, PipelineIR


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
    timeout_seconds: float | None = None  # the executor is stopped after this long (with_timeout)

    @classmethod
    def for_node(
        cls,
        ir: PipelineIR,
        node: NodeIR,
        *,
        run_id: str,
        execution_id: int,
        input_dict: dict[str, list[dict[str, Any]]],
        output_dict: dict[str, list[dict[str, Any]]],
        exec_properties: dict[str, Any] | None = None,
        executor: dict[str, Any] | None = None,
        tmp_dir: str | None = None,
        log_path: str | None = None,
    ) -> ExecutionTask:
        """The task of one node of a run, as every launcher builds it (the node launcher, and a container's
        entrypoint from KFP's ExecutorInput). By default the scratch folder and the log live under
        `<pipeline_root>/<node>/.system/` named by the execution id, and the parameters are the node's."""
        system = os.path.join(ir.pipeline_root, node.id, ".system")
        return cls(
            node_id=node.id,
            executor=dict(node.executor) if executor is None else executor,
            input_dict=input_dict,
            output_dict=output_dict,
            exec_properties=dict(node.parameters) if exec_properties is None else exec_properties,
            pipeline_name=ir.pipeline_name,
            pipeline_root=ir.pipeline_root,
            run_id=run_id,
            execution_id=execution_id,
            tmp_dir=os.path.join(system, "tmp", str(execution_id)) if tmp_dir is None else tmp_dir,
            log_path=os.path.join(system, "logs", f"{execution_id}.log") if log_path is None else log_path,
            beam_pipeline_args=list(ir.beam_pipeline_args),
            timeout_seconds=node.timeout_seconds,
        )


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
