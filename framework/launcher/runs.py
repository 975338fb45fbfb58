"""Pipeline runs in ML Metadata: the pipeline, run and node contexts, start, resume, finish."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import os
import secrets
import socket
import time
import zlib
from typing import Any

from headrace.compiler.ir import PipelineIR, load
from headrace.errors import MetadataError, NotInStoreError
from headrace.launcher.layout import remove_output
from headrace.launcher.outcomes import CACHED, COMPLETE, RUNNING, node_outcomes
from headrace.metadata.store import NODE, PIPELINE, PIPELINE_RUN, Metadata
from headrace.metadata.values import get_value, set_value

# Run states recorded on the run context are the node states' names: RUNNING, COMPLETE, FAILED, CANCELED.


def new_run_id() -> str:
    """A sortable, unique run id such as 20261123-101112-3fa2."""
    return datetime.datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def node_context_name(pipeline_name: str, node_id: str) -> str:
    """The node context's name: nodes are scoped by pipeline."""
    return f"{pipeline_name}.{node_id}"


@dataclasses.dataclass
class RunHandle:
    """A run being executed: its contexts and which execution published each node."""

    run_id: str
    ir: PipelineIR
    pipeline_context: Any
    run_context: Any
    node_contexts: dict[str, Any]
    published: dict[str, int] = dataclasses.field(default_factory=dict)  # node id -> execution id
    cached_outputs: dict[str, dict[str, list[Any]]] = dataclasses.field(default_factory=dict)  # cache hits
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)  # node id -> why (a Cond was false)

    def contexts_for(self, node_id: str) -> list[Any]:
        """The contexts every execution of the node is associated with."""
        return [self.pipeline_context, self.run_context, self.node_contexts[node_id]]


def start_run(
    md: Metadata,
    ir: PipelineIR,
    run_id: str | None = None,
    started_ms: int | None = None,
    parameters: dict[str, Any] | None = None,
    started_by: str = "",
    trigger: str = "",
) -> RunHandle:
    """Registers a new run (and, first time, the pipeline and node contexts).

    Args:
        md: The store.
        ir: The pipeline, its runtime parameters bound (`headrace.launcher.parameters.bind`).
        run_id: The run's id (default: generated).
        started_ms: When the run started (epoch ms; default now), so the recorded duration
            is the one the runner reports.
        parameters: The runtime parameter values bound into `ir`, recorded on the run.
        started_by: What started the run (the orchestrator: LocalDagRunner, a scheduler's tasks...),
            recorded on the run as `started_by` for those who ask why it ran.
        trigger: Why it was started, as its starter says it (`headrace schedule`: a JSON object with the
            schedule time or the new files), recorded on the run as `trigger`.
    """
    if not run_id:
        run_id = new_run_id()
        while md.get_context(PIPELINE_RUN, run_id) is not None:  # another run drew the same second and suffix
            run_id = new_run_id()
    elif md.get_context(PIPELINE_RUN, run_id) is not None:
        raise MetadataError(f"A run with id '{run_id}' already exists in {md.describe()}.")
    started_ms = started_ms or int(time.time() * 1000)
    # The run context carries its IR, so a run can be resumed (or inspected) from the store alone.
    run_ctx = md.pb.Context(type_id=md.context_type_id(PIPELINE_RUN), name=run_id)
    for key, value in {
        "pipeline_name": ir.pipeline_name,
        "state": RUNNING,
        "started_ms": started_ms,
        "attempt_started_ms": started_ms,
        "runner": runner_id(),
        "ir_zlib": _pack_ir(ir),
        **({"runtime_parameters": json.dumps(parameters, sort_keys=True)} if parameters else {}),
        **({"started_by": started_by} if started_by else {}),
        **({"trigger": trigger} if trigger else {}),
    }.items():
        set_value(run_ctx.custom_properties[key], value)
    [run_ctx.id] = md.call(md.store.put_contexts, [run_ctx])
    handle = _handle(md, ir, run_id, run_ctx)
    _link_run_to_pipeline(md, handle)
    return handle


def _handle(md: Metadata, ir: PipelineIR, run_id: str, run_ctx: Any) -> RunHandle:
    """A run handle, with the pipeline and node contexts found or created."""
    wanted = [(PIPELINE, ir.pipeline_name)] + [(NODE, node_context_name(ir.pipeline_name, n.id)) for n in ir.nodes]
    contexts = md.ensure_contexts(wanted)
    return RunHandle(run_id, ir, contexts[0], run_ctx, {n.id: c for n, c in zip(ir.nodes, contexts[1:], strict=True)})


def _link_run_to_pipeline(md: Metadata, handle: RunHandle) -> None:
    parent = md.pb.ParentContext(child_id=handle.run_context.id, parent_id=handle.pipeline_context.id)
    try:
        md.call(md.store.put_parent_contexts, [parent])
    except MetadataError:
        pass  # already linked (resume)


def run_parameters(md: Metadata, run_id: str) -> dict[str, Any]:
    """The runtime parameter values run `run_id` was started with ({} if none)."""
    ctx = md.get_context(PIPELINE_RUN, run_id)
    if ctx is None or "runtime_parameters" not in ctx.custom_properties:
        return {}
    values: dict[str, Any] = json.loads(str(get_value(ctx.custom_properties["runtime_parameters"])))
    return values


def load_run_ir(md: Metadata, run_id: str) -> PipelineIR:
    """The IR a run was started with."""
    ctx = md.get_context(PIPELINE_RUN, run_id)
    if ctx is None:
        raise NotInStoreError(
            f"No run '{run_id}' in {md.describe()}. List runs with: headrace runs list --metadata {md.describe()}"
        )
    return _unpack_ir(get_value(ctx.custom_properties["ir_zlib"]))


def _pack_ir(ir: PipelineIR) -> str:
    """The IR as stored on the run: compressed, and without a database password."""
    if ir.metadata_connection and "password" in ir.metadata_connection.get("mysql", {}):
        mysql = {**ir.metadata_connection["mysql"], "password": ""}
        ir = dataclasses.replace(ir, metadata_connection={**ir.metadata_connection, "mysql": mysql})
    return base64.b64encode(zlib.compress(ir.dump(indent=None).encode(), 6)).decode()


def _unpack_ir(packed: str) -> PipelineIR:
    return load(zlib.decompress(base64.b64decode(packed)).decode())


def attach_run(md: Metadata, run_id: str, ir: PipelineIR | None = None) -> RunHandle:
    """A handle on an existing run, for a process that launches one of its nodes (the way a
    one-task-per-node orchestrator does). Upstream outputs are then resolved from the store."""
    stored_ir = load_run_ir(md, run_id)
    ir = ir or stored_ir
    if ir.pipeline_name != stored_ir.pipeline_name:
        raise MetadataError(
            f"Run '{run_id}' belongs to pipeline '{stored_ir.pipeline_name}', not '{ir.pipeline_name}'."
        )
    return _handle(md, ir, run_id, md.get_context(PIPELINE_RUN, run_id))


def resume_run(md: Metadata, run_id: str, ir: PipelineIR | None = None) -> tuple[RunHandle, set[str]]:
    """Re-opens a finished run. Returns the handle and the node ids that already completed
    in it (to be reused); a run that completed is returned untouched (every node done).
    Executions left RUNNING by a runner that died are marked FAILED, their outputs ABANDONED
    and their output directories removed."""
    handle = attach_run(md, run_id, ir)
    run_ctx = handle.run_context
    _refuse_if_still_running(md, run_ctx)
    for ex in md.call(md.store.get_executions_by_context, run_ctx.id):
        if ex.last_known_state == md.pb.Execution.RUNNING and "node_id" in ex.custom_properties:
            abandon_execution(md, ex, "The runner stopped while this step was running.")

    done: set[str] = set()
    outcomes = node_outcomes(md, handle)
    for node in handle.ir.nodes:  # topological: a node is reused only if everything upstream is too
        outcome = outcomes[node.id]
        if outcome is not None and outcome.state in (COMPLETE, CACHED) and done.issuperset(node.upstream):
            done.add(node.id)
            handle.published[node.id] = outcome.execution_id or 0
    if run_state(handle) == COMPLETE and done.issuperset(n.id for n in handle.ir.nodes):
        return handle, done  # nothing to do: the run is left as it was
    set_run_state(md, handle, RUNNING)
    return handle, done


def abandon_execution(md: Metadata, execution: Any, message: str) -> None:
    """Marks a RUNNING execution FAILED, its PENDING outputs ABANDONED, and removes their data."""
    events = md.call(md.store.get_events_by_execution_ids, [execution.id])
    out_ids = [e.artifact_id for e in events if e.type == md.pb.Event.OUTPUT]
    artifacts = md.call(md.store.get_artifacts_by_id, out_ids) if out_ids else []
    pending = [a for a in artifacts if a.state == md.pb.Artifact.PENDING]
    for a in pending:
        a.state = md.pb.Artifact.ABANDONED
        remove_output(a.uri)  # a folder, or a value file and its attempt folder
    execution.last_known_state = md.pb.Execution.FAILED
    set_value(execution.custom_properties["error"], message)
    md.call(md.store.put_execution, execution, [(a, None) for a in pending], [])


def runner_id() -> str:
    """host:pid of this process, recorded on the runs it drives and the executions it launches."""
    return f"{socket.gethostname()}:{os.getpid()}"


def local_process_alive(owner: str) -> bool | None:
    """For a `runner_id()` recorded on this host: whether that process may still be running (this
    process itself counts as not running it: it is here, not there). None for another host's id,
    which a pid cannot tell."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _refuse_if_still_running(md: Metadata, run_ctx: Any) -> None:
    """A run whose runner is alive on this host is not resumed under it."""
    props = run_ctx.custom_properties
    if "state" not in props or get_value(props["state"]) != RUNNING or "runner" not in props:
        return
    runner = str(get_value(props["runner"]))
    if local_process_alive(runner):
        pid = runner.rpartition(":")[2]
        raise MetadataError(
            f"Run '{run_ctx.name}' is still running (runner pid {pid} on this host); wait for it or stop it first."
        )


def run_state(handle: RunHandle) -> str:
    """The state recorded on the run."""
    props = handle.run_context.custom_properties
    return str(get_value(props["state"])) if "state" in props else ""


def set_run_state(md: Metadata, handle: RunHandle, state: str) -> None:
    """Records the run's state; a final state also records the end time and adds this attempt's
    duration to the run's `active_ms` (a resumed run's duration is the time it actually ran)."""
    ctx = handle.run_context
    props = ctx.custom_properties
    now_ms = int(time.time() * 1000)
    set_value(props["state"], state)
    if state == RUNNING:
        set_value(props["runner"], runner_id())
        set_value(props["attempt_started_ms"], now_ms)
    else:
        attempt = int(get_value(props["attempt_started_ms"])) if "attempt_started_ms" in props else now_ms
        active = int(get_value(props["active_ms"])) if "active_ms" in props else 0
        set_value(props["active_ms"], active + max(0, now_ms - attempt))
        set_value(props["finished_ms"], now_ms)
    md.call(md.store.put_contexts, [ctx])
