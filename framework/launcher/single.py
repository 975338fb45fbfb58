"""One node of a run, launched on its own: what a one-task-per-node orchestrator calls (a Beam step,
an Airflow task, a container on Kubeflow), with the same driver -> executor -> publisher.

Launching is idempotent per run and node, because such orchestrators repeat work: Beam may run a
bundle twice, Airflow retries a task, a zombie and its retry can race.

- A node that already COMPLETED (or was CACHED, or SKIPPED by a Cond) in this run is not run again:
  the launch returns REUSED with the published outputs.
- Each attempt first claims `<run>/<node>/<attempt>` as a context of type `headrace.NodeAttempt`,
  whose unique name makes the claim atomic in ML Metadata (SQLite or MySQL): of two racing launches
  exactly one runs the node, the other fails with :class:`DuplicateLaunchError`.
- An attempt left RUNNING by a launcher that died (same host, pid gone; or on another host, older
  than the caller's `stale_after_s`) is marked FAILED, its outputs ABANDONED, and a new attempt runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from headrace.compiler.ir import PipelineIR
from headrace.errors import HeadraceError, MetadataError
from headrace.launcher.launcher import NodeLauncher
from headrace.launcher.outcomes import FAILED, REUSED, NodeOutcome, fill_outputs, node_outcome, run_executions
from headrace.launcher.parameters import bind, bind_for_run
from headrace.launcher.retries import next_retry
from headrace.launcher.runs import (
    RunHandle,
    abandon_execution,
    attach_run,
    local_process_alive,
    runner_id,
    start_run,
)
from headrace.launcher.task import ExecutionTask, ExecutorResult
from headrace.launcher.worker import run_in_time
from headrace.metadata.store import Metadata
from headrace.metadata.values import get_value, set_value

ATTEMPT = "headrace.NodeAttempt"


class DuplicateLaunchError(HeadraceError):
    """Another launcher is running (or just claimed) this node of this run."""


def ensure_run(
    md: Metadata,
    ir: PipelineIR,
    run_id: str,
    parameters: Mapping[str, Any] | None = None,
    started_by: str = "",
    trigger: str = "",
) -> RunHandle:
    """The run `run_id`, started now if no launcher started it yet (several may try at once), with its
    runtime parameters bound: `parameters` (checked; text is parsed) for a new run, else the run's own.
    `started_by` and `trigger` are recorded on a run started here (see `start_run`).

    Raises:
        DefinitionError: `parameters` do not fit the pipeline's runtime parameters, or differ from the
            values the run was started with.
    """
    if md.get_context("pipeline_run", run_id) is not None:
        return attach_run(md, run_id, bind_for_run(md, ir, run_id, parameters))
    bound, values = bind(ir, parameters)
    try:
        return start_run(md, bound, run_id, parameters=values, started_by=started_by, trigger=trigger)
    except MetadataError:
        return attach_run(md, run_id, bind_for_run(md, ir, run_id, parameters))  # another launcher started it first


def launch_node(
    md: Metadata,
    handle: RunHandle,
    node_id: str,
    enable_cache: bool | None = None,
    execute: Callable[[ExecutionTask], ExecutorResult] = run_in_time,
    stale_after_s: float | None = None,
) -> NodeOutcome:
    """Runs `node_id` of the run once (see the module docstring); returns its outcome.

    Raises:
        DuplicateLaunchError: another live launcher holds this node of this run.
    """
    handle.ir.node(node_id)  # KeyError for a node the pipeline does not have
    executions = run_executions(md, handle, node_id)
    earlier = node_outcome(md, handle, node_id, executions)
    if earlier is not None and earlier.succeeded:
        reused = NodeOutcome(node_id, REUSED, earlier.execution_id)
        fill_outputs(md, [reused])
        return reused
    for ex in executions:
        if ex.last_known_state == md.pb.Execution.RUNNING:
            owner = _owner(ex)
            if _alive(owner, ex, stale_after_s):
                raise DuplicateLaunchError(
                    f"Node '{node_id}' of run '{handle.run_id}' is already running (launcher {owner}); this launch "
                    "does nothing. Wait for it, or stop it and launch again."
                )
            abandon_execution(md, ex, f"Its launcher ({owner}) stopped while this step was running.")
    _claim(md, handle, node_id, executions, stale_after_s)
    launcher = NodeLauncher(md, handle, enable_cache=enable_cache, owner=runner_id())
    try:
        return launcher.launch(node_id, execute)
    finally:
        launcher.flush()


def launch_with_retries(
    md: Metadata,
    handle: RunHandle,
    node_id: str,
    enable_cache: bool | None = None,
    execute: Callable[[ExecutionTask], ExecutorResult] = run_in_time,
    stale_after_s: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> NodeOutcome:
    """`launch_node`, tried again after a failure as the node's retry policy says (waiting between
    attempts): for engines that launch a node once and have no retries of their own (a Beam step).
    Each attempt is its own execution; only the last one's outputs are published."""
    retries = 0
    while True:
        outcome = launch_node(md, handle, node_id, enable_cache, execute, stale_after_s)
        delay = next_retry(handle.ir.node(node_id), retries) if outcome.state == FAILED else None
        if delay is None:
            return outcome
        retries += 1
        sleep(delay)


def _claim(md: Metadata, handle: RunHandle, node_id: str, executions: list[Any], stale_after_s: float | None) -> None:
    """Claims the node's next attempt number. Each earlier claim is matched with an execution its launcher
    registered; a claim without one belongs to a launcher between its claim and its registration (alive:
    this launch is a duplicate) or to one that died there (a SIGKILL between the two writes), which is
    passed over so it cannot block the node for ever."""
    registered: dict[str, int] = {}
    for ex in executions:
        registered[_owner(ex)] = registered.get(_owner(ex), 0) + 1
    attempt = 0
    while (earlier := md.get_context(ATTEMPT, f"{handle.run_id}/{node_id}/{attempt}")) is not None:
        owner = _owner(earlier)
        if registered.get(owner, 0) > 0:
            registered[owner] -= 1
        elif owner == runner_id() or _alive(owner, earlier, stale_after_s):
            raise DuplicateLaunchError(
                f"Node '{node_id}' of run '{handle.run_id}' was claimed by another launcher ({owner}) that has "
                "not started it yet; this launch does nothing."
            )
        attempt += 1
    ctx = md.pb.Context(type_id=md.context_type_id(ATTEMPT), name=f"{handle.run_id}/{node_id}/{attempt}")
    set_value(ctx.custom_properties["launcher"], runner_id())
    try:
        md.call(md.store.put_contexts, [ctx])
    except MetadataError:
        raise DuplicateLaunchError(
            f"Node '{node_id}' of run '{handle.run_id}' was claimed by another launcher at the same moment "
            f"(attempt {attempt}); this launch does nothing."
        ) from None


def _owner(ex: Any) -> str:
    return str(get_value(ex.custom_properties["launcher"])) if "launcher" in ex.custom_properties else ""


def _alive(owner: str, ex: Any, stale_after_s: float | None) -> bool:
    """Whether the launcher that registered `ex` may still be running it."""
    alive = local_process_alive(owner)
    if alive is not None:
        return alive
    if stale_after_s is None:
        return bool(owner)  # another host: assume alive unless told how long a step may take
    age_s = time.time() - ex.last_update_time_since_epoch / 1000
    return age_s < stale_after_s
