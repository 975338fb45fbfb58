"""The node launcher: driver -> executor -> publisher, the same under every orchestrator.

A runner that owns the scheduling (LocalDagRunner) calls `prepare` and `publish` itself
and runs the task wherever it likes in between; a one-process-per-node orchestrator
(Airflow, Kubeflow) calls `launch`.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
import traceback
from collections.abc import Callable
from typing import Any

from headrace.compiler.ir import NodeIR
from headrace.errors import DefinitionError, ExecutorError
from headrace.launcher import conditions, driver, dynamic, parameters, publisher, system_nodes
from headrace.launcher.cache import cache_key, input_fingerprint
from headrace.launcher.executor_runner import run_task
from headrace.launcher.outcomes import (
    CACHED,
    CANCELED,
    COMPLETE,
    FAILED,
    SKIPPED,
    NodeOutcome,
    node_outcomes,
    outputs_summary,
)
from headrace.launcher.runs import RunHandle
from headrace.launcher.task import ExecutionTask, ExecutorResult
from headrace.metadata.store import Metadata
from headrace.metadata.values import set_value
from headrace.types.artifact import Artifact

_CACHED_BATCH = 64


@dataclasses.dataclass
class PreparedExecution:
    """A registered execution waiting for its executor to run."""

    node: NodeIR
    execution: Any
    outputs: dict[str, list[Artifact]]
    cache_key: str | None
    task: ExecutionTask
    started: float


class NodeLauncher:
    """Runs nodes of one pipeline run against ML Metadata.

    Args:
        md: The metadata store handle.
        handle: The run (from `runs.start_run` or `runs.resume_run`).
        enable_cache: Run-level cache switch: False turns caching off for every node;
            None follows the pipeline and component settings.
    """

    def __init__(self, md: Metadata, handle: RunHandle, enable_cache: bool | None = None, owner: str | None = None):
        self.md = md
        self.handle = handle
        self.enable_cache = enable_cache
        self.owner = owner  # host:pid of a one-node launcher, recorded on the executions it registers
        self._pending_cached: list[tuple[NodeIR, dict[str, list[Any]], dict[str, list[Any]], str, NodeOutcome]] = []

    def flush(self) -> None:
        """Writes the CACHED execution records still held back (call before the run ends)."""
        if not self._pending_cached:
            return
        pending, self._pending_cached = self._pending_cached, []
        ids = driver.record_cached(self.md, self.handle, [(n, i, o, k) for n, i, o, k, _ in pending])
        for (node, *_rest, outcome), ex_id in zip(pending, ids, strict=True):
            outcome.execution_id = ex_id
            self.handle.published[node.id] = ex_id

    # -- phase 1: driver ------------------------------------------------------------------
    def prepare(self, node: NodeIR) -> PreparedExecution | NodeOutcome:
        """Resolves inputs, then either finishes the node (system node, cache hit) or registers
        a RUNNING execution and returns the task for an executor."""
        started = time.perf_counter()
        md, handle = self.md, self.handle
        try:
            if node.exit_handler:
                node = _with_final_status(md, handle, node)
            waiting = parameters.unbound_in(node)
            if waiting:
                raise DefinitionError(
                    f"Parameters {waiting} of '{node.id}' take runtime parameters the run was not given values "
                    "for: start the run through a runner (which binds them), or bind the IR with "
                    "headrace.launcher.parameters.bind first."
                )
            if node.conditions:
                false = conditions.false_condition(md, handle, node)
                if false is not None:
                    return self.skip(node, false, started)
            if node.kind == "importer":
                cached = driver.cache_enabled(node, handle.ir.enable_cache, self.enable_cache)
                ex_id, outs, reused = system_nodes.run_importer(md, handle, node, record_cached=cached)
                return self._done(node, CACHED if reused and cached else COMPLETE, ex_id, outs, started)
            if node.kind == "resolver":
                ex_id, outs = system_nodes.run_resolver(md, handle, node)
                return self._done(node, COMPLETE, ex_id, outs, started)
            inputs = driver.resolve_inputs(md, handle, node)
            node, read = dynamic.resolve(md, handle, node)  # values in place: the cache key sees them
            lineage = {**read, **inputs}  # INPUT events: the inputs, and what the parameters read
            key = None
            fingerprint = input_fingerprint(node)  # the declared files' content: keyed, and recorded
            if driver.cache_enabled(node, handle.ir.enable_cache, self.enable_cache):
                key = cache_key(node, {k: [a.id for a in v] for k, v in inputs.items()}, fingerprint)
                hit = driver.lookup_cache(md, node, key)
                if hit is not None:
                    # Written behind, in batches: a fully cached run costs a few transactions in all.
                    # A crash before the write loses only the records; a resume hits the cache again.
                    handle.cached_outputs[node.id] = hit
                    outcome = self._done(node, CACHED, None, hit, started)
                    self._pending_cached.append((node, lineage, hit, key, outcome))
                    if len(self._pending_cached) >= _CACHED_BATCH:
                        self.flush()
                    return outcome
            self.flush()  # keep the store's order: cached records land before later registrations
            execution, outputs = driver.register_execution(
                md, handle, node, lineage, key, launcher=self.owner, input_fingerprint=fingerprint
            )
        except driver.UpstreamSkippedError as e:
            return self.skip(node, str(e), started)
        except Exception as e:  # noqa: BLE001 - reported as this node's failure
            error = _framework_error(node.id, e)
            return NodeOutcome(
                node.id, FAILED, self._record_failure(node, error), error=error, seconds=time.perf_counter() - started
            )
        task = ExecutionTask.for_node(
            handle.ir,
            node,
            run_id=handle.run_id,
            execution_id=execution.id,
            input_dict={k: [md.artifact_from_proto(a).to_dict() for a in v] for k, v in inputs.items()},
            output_dict={k: [a.to_dict() for a in v] for k, v in outputs.items()},
        )
        # Execution ids start again in a recreated store: a tmp dir or log left under the same root by
        # an attempt of the old store (one killed before its publisher cleaned up) is not this one's.
        shutil.rmtree(task.tmp_dir, ignore_errors=True)
        if os.path.lexists(task.log_path):
            os.remove(task.log_path)
        return PreparedExecution(node, execution, outputs, key, task, started)

    def skip(self, node: NodeIR, reason: str, started: float | None = None) -> NodeOutcome:
        """Records that the node is not executed in this run because a condition is false (its own, or
        that of a node whose outputs it needs): an execution in state CANCELED carrying the custom
        property `skipped` (the reason). Returns a SKIPPED outcome; the run goes on."""
        started = time.perf_counter() if started is None else started
        self.flush()  # keep the store's order: cached records land before this one
        ex = driver.new_execution(self.md, self.handle, node, self.md.pb.Execution.CANCELED, skipped=reason)
        ex_id, _, _ = self.md.call(self.md.store.put_execution, ex, [], self.handle.contexts_for(node.id))
        self.handle.skipped[node.id] = reason
        return NodeOutcome(
            node.id, SKIPPED, int(ex_id), seconds=time.perf_counter() - started, reason=reason, by_condition=True
        )

    def _record_failure(self, node: NodeIR, error: ExecutorError) -> int | None:
        """Records a FAILED execution for a node that failed before it could run (its inputs could
        not be resolved, say), so the store tells why; best effort if the store itself failed."""
        try:
            # With the launcher that claimed the attempt (launch_node), so the claim is seen as used.
            ex = driver.new_execution(
                self.md, self.handle, node, self.md.pb.Execution.FAILED, error=_error_text(error), launcher=self.owner
            )
            ex_id, _, _ = self.md.call(self.md.store.put_execution, ex, [], self.handle.contexts_for(node.id))
            return int(ex_id)
        except Exception:  # noqa: BLE001 - the outcome already carries the error
            return None

    # -- phase 3: publisher -----------------------------------------------------------------
    def publish(self, prepared: PreparedExecution, result: ExecutorResult) -> NodeOutcome:
        """Publishes the executor's result: COMPLETE with LIVE outputs, or FAILED with none."""
        node, md = prepared.node, self.md
        error: ExecutorError | None = None
        if result.log_path:
            set_value(prepared.execution.custom_properties["log"], result.log_path)
        if os.path.isdir(prepared.task.tmp_dir):
            shutil.rmtree(prepared.task.tmp_dir, ignore_errors=True)
        if result.ok:
            try:
                outputs = _checked_outputs(prepared, result)
                publisher.publish_success(md, self.handle, node, prepared.execution, outputs, prepared.cache_key)
                return self._finish(prepared, COMPLETE, outputs)
            except Exception as e:  # noqa: BLE001 - a bad result fails the node, not the runner
                error = _framework_error(node.id, e)
        else:
            error = ExecutorError(node.id, result.error_type, result.message, result.traceback, result.expected)
        publisher.publish_failure(md, self.handle, node, prepared.execution, prepared.outputs, _error_text(error))
        return self._finish(prepared, FAILED, {}, error)

    def cancel(self, prepared: PreparedExecution, reason: str) -> NodeOutcome:
        """Marks a registered execution CANCELED and abandons its outputs."""
        publisher.publish_failure(
            self.md, self.handle, prepared.node, prepared.execution, prepared.outputs, reason, state=CANCELED
        )
        return self._finish(prepared, CANCELED, {}, ExecutorError(prepared.node.id, "Canceled", reason))

    # -- all three phases ------------------------------------------------------------------------
    def launch(self, node_id: str, execute: Callable[[ExecutionTask], ExecutorResult] = run_task) -> NodeOutcome:
        """Runs one node: driver, `execute` (in-process by default), publisher."""
        prepared = self.prepare(self.handle.ir.node(node_id))
        if isinstance(prepared, NodeOutcome):
            self.flush()
            return prepared
        return self.publish(prepared, execute(prepared.task))

    def _done(
        self, node: NodeIR, state: str, ex_id: int | None, outs: dict[str, list[Any]], started: float
    ) -> NodeOutcome:
        return NodeOutcome(
            node.id,
            state,
            ex_id,
            {k: [a.uri for a in v] for k, v in outs.items()},
            None,
            time.perf_counter() - started,
            summary=outputs_summary(outs),
        )

    def _finish(
        self,
        prepared: PreparedExecution,
        state: str,
        outputs: dict[str, list[Artifact]],
        error: ExecutorError | None = None,
    ) -> NodeOutcome:
        log = prepared.execution.custom_properties.get("log")
        return NodeOutcome(
            prepared.node.id,
            state,
            prepared.execution.id,
            {k: [a.uri for a in v] for k, v in outputs.items()},
            error,
            time.perf_counter() - prepared.started,
            log.string_value if log is not None else "",
            summary=outputs_summary(outputs) if state == "COMPLETE" else "",
        )


def _with_final_status(md: Metadata, handle: RunHandle, node: NodeIR) -> NodeIR:
    """The exit handler with the run's final status so far: every other node's outcome, from the store."""
    others = {k: v for k, v in node_outcomes(md, handle).items() if k != node.id}
    failed = [(k, o) for k, o in others.items() if o is None or not o.succeeded]
    state = "SUCCEEDED"
    if any(o is not None and o.state == CANCELED for _, o in failed):
        state = "CANCELLED"
    elif failed:
        state = "FAILED"
    error = None
    for node_id, outcome in failed:
        if outcome is not None and outcome.error is not None:
            error = f"'{node_id}' {outcome.state.lower()}: {outcome.error.error_type}: {outcome.error.message}"
            break
    if failed and error is None:
        error = f"'{failed[0][0]}' did not complete"
    return parameters.with_final_status(node, state, handle.run_id, error)


def _checked_outputs(prepared: PreparedExecution, result: ExecutorResult) -> dict[str, list[Artifact]]:
    """The executor's output artifacts, checked against what was registered."""
    if set(result.output_dict) != set(prepared.outputs):
        raise ValueError(
            f"The executor returned outputs {sorted(result.output_dict)}, expected {sorted(prepared.outputs)}."
        )
    outputs: dict[str, list[Artifact]] = {}
    for key, dicts in result.output_dict.items():
        registered = prepared.outputs[key]
        arts = [Artifact.from_dict(d) for d in dicts]
        if [(a.id, a.uri) for a in arts] != [(a.id, a.uri) for a in registered]:
            raise ValueError(f"The executor replaced or moved output '{key}'; set properties on it instead.")
        outputs[key] = arts
    return outputs


def _framework_error(node_id: str, e: Exception) -> ExecutorError:
    # A condition that cannot be evaluated is the pipeline author's to fix: its message says how.
    expected = isinstance(e, (conditions.ConditionError, dynamic.DynamicParameterError, DefinitionError))
    return ExecutorError(node_id, type(e).__name__, str(e), traceback.format_exc(), expected)


def _error_text(error: ExecutorError) -> str:
    return f"{error.error_type}: {error.message}\n{error.traceback_text}".strip()
