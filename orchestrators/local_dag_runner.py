"""LocalDagRunner: runs a pipeline on this machine, independent nodes concurrently."""

from __future__ import annotations

import concurrent.futures as cf
import os
import time
from typing import Any

from headrace.compiler import PipelineIR
from headrace.dsl import Pipeline
from headrace.errors import DefinitionError
from headrace.launcher import (
    ExecutionTask,
    ExecutorResult,
    NodeLauncher,
    NodeOutcome,
    PreparedExecution,
    load_run_ir,
    resume_run,
    start_run,
)
from headrace.launcher.driver import fill_reused_outputs
from headrace.launcher.executor_runner import run_task
from headrace.launcher.runs import CANCELED, COMPLETE, run_state, set_run_state
from headrace.launcher.worker import WorkerPool
from headrace.metadata.config import describe
from headrace.metadata.store import Metadata
from headrace.orchestrators.base_runner import REUSED, SKIPPED, BaseRunner, RunResult, final_state
from headrace.orchestrators.progress import Progress

_MODES = ("process", "inprocess")


class LocalDagRunner(BaseRunner):
    """Runs the IR locally.

    Drivers and publishers run in this process (one writer to the store); executors run
    in reusable worker processes, so a crash in user code cannot take the runner down and
    heavy imports are paid once per worker rather than once per step.

    Args:
        max_workers: How many nodes may execute at once (default: CPU count).
        executor_mode: 'process' (default) or 'inprocess' (executors run in threads of this
            process: handy under a debugger, no crash isolation).
        quiet: No progress output.
        enable_cache: False turns the cache off for this runner's runs; None follows the
            pipeline and component settings.
        metadata_connection_config: Overrides the pipeline's store.
        raise_on_failure: `run()` raises :class:`~headrace.errors.PipelineRunError` when the run
            does not complete (the default, as TFX and kfp do); False returns the result instead.
    """

    def __init__(
        self,
        max_workers: int | None = None,
        executor_mode: str = "process",
        quiet: bool = False,
        enable_cache: bool | None = None,
        metadata_connection_config: Any = None,
        raise_on_failure: bool = True,
    ):
        if executor_mode not in _MODES:
            raise DefinitionError(f"executor_mode must be one of {_MODES}, got {executor_mode!r}.")
        if max_workers is not None and max_workers < 1:
            raise DefinitionError(f"max_workers must be at least 1, got {max_workers}.")
        self.max_workers = max_workers or os.cpu_count() or 1
        self.executor_mode = executor_mode
        self.quiet = quiet
        self.enable_cache = enable_cache
        self.metadata_connection_config = metadata_connection_config
        self.raise_on_failure = raise_on_failure

    def run(
        self,
        pipeline: Pipeline | PipelineIR | None = None,
        run_id: str | None = None,
        resume: str | None = None,
        enable_cache: bool | None = None,
        raise_on_failure: bool | None = None,
    ) -> RunResult:
        """Runs a pipeline, or resumes the failed run `resume`.

        Args:
            pipeline: A Pipeline or its IR. With `resume`, optional: the run's stored IR is used.
            run_id: Id for a new run (default: generated).
            resume: Id of an earlier run of this pipeline: nodes that completed in it are
                reused; the others (the failed node and its descendants) run again.
            enable_cache: Per-run cache switch (False: --no-cache).
            raise_on_failure: Overrides the runner's setting for this run.

        Returns:
            The RunResult (per-node states, outputs, errors).

        Raises:
            PipelineRunError: the run did not complete (unless raise_on_failure is False); it
                names the failed node and its error and carries the RunResult as `.result`.
        """
        started = time.perf_counter()
        started_ms = int(time.time() * 1000)
        cache = self.enable_cache if enable_cache is None else enable_cache
        if pipeline is not None:
            ir = self.to_ir(pipeline)
        elif resume and self.metadata_connection_config is not None:
            ir = self.to_ir(load_run_ir(Metadata(self.metadata_connection_config), resume))  # the run's own IR
        else:
            raise DefinitionError(
                "LocalDagRunner.run needs a pipeline, or resume=RUN_ID with the store given as "
                "LocalDagRunner(metadata_connection_config=...)."
            )
        # Boot one executor worker now: it starts up on the other core while the store is opened.
        pool = WorkerPool(self.max_workers) if self.executor_mode == "process" else None
        if pool is not None:
            pool.prestart(1)
        try:
            result = self._run(ir, pool, run_id, resume, cache, started, started_ms)
        finally:
            if pool is not None:
                pool.close()
        if self.raise_on_failure if raise_on_failure is None else raise_on_failure:
            result.raise_for_failure()
        return result

    def _run(
        self,
        ir: PipelineIR,
        pool: WorkerPool | None,
        run_id: str | None,
        resume: str | None,
        cache: bool | None,
        started: float,
        started_ms: int,
    ) -> RunResult:
        md = self.open_metadata(ir, self.metadata_connection_config)
        if resume:
            handle, done = resume_run(md, resume, ir)
        else:
            handle, done = start_run(md, ir, run_id, started_ms), set()
        ir = handle.ir
        launcher = NodeLauncher(md, handle, enable_cache=cache)
        progress = Progress(self.quiet)
        if resume and run_state(handle) == COMPLETE:
            progress.nothing_to_resume(handle.run_id, describe(md.config))
            outcomes = {n.id: NodeOutcome(n.id, REUSED) for n in ir.nodes}
            fill_reused_outputs(md, handle, outcomes)
            return self._result(handle, ir, COMPLETE, outcomes, md, 0.0)
        progress.start(handle.run_id, ir.pipeline_name, [n.id for n in ir.nodes], describe(md.config), bool(resume))
        try:
            outcomes = self._schedule(ir, launcher, progress, done, pool)
        except KeyboardInterrupt:
            set_run_state(md, handle, CANCELED)
            raise
        state = final_state(outcomes.values())  # a node skipped because a Cond was false does not fail the run
        fill_reused_outputs(md, handle, outcomes)
        set_run_state(md, handle, state)
        result = self._result(handle, ir, state, outcomes, md, time.perf_counter() - started)
        progress.summary(result)
        return result

    @staticmethod
    def _result(
        handle: Any, ir: PipelineIR, state: str, outcomes: dict[str, NodeOutcome], md: Metadata, seconds: float
    ) -> RunResult:
        return RunResult(
            run_id=handle.run_id,
            pipeline_name=ir.pipeline_name,
            state=state,
            nodes={n.id: outcomes[n.id] for n in ir.nodes},
            pipeline_root=ir.pipeline_root,
            metadata=describe(md.config),
            seconds=seconds,
        )

    def _schedule(
        self, ir: PipelineIR, launcher: NodeLauncher, progress: Progress, done: set[str], pool: WorkerPool | None
    ) -> dict[str, NodeOutcome]:
        outcomes: dict[str, NodeOutcome] = {n: NodeOutcome(n, REUSED) for n in done}
        for node in ir.nodes:
            if node.id in done:
                progress.node_finished(outcomes[node.id])
        waiting = {n.id: set(n.upstream) - done for n in ir.nodes if n.id not in done}
        downstream: dict[str, list[str]] = {n.id: [] for n in ir.nodes}
        for n in ir.nodes:
            for up in n.upstream:
                downstream[up].append(n.id)
        order = {n.id: i for i, n in enumerate(ir.nodes)}
        ready = sorted((n for n, deps in waiting.items() if not deps), key=order.__getitem__)
        for n in ready:
            del waiting[n]
        nodes = {n.id: n for n in ir.nodes}
        backend: WorkerPool | _ThreadBackend = pool if pool is not None else _ThreadBackend(self.max_workers)
        running: dict[str, PreparedExecution] = {}

        def finish(outcome: NodeOutcome) -> None:
            outcomes[outcome.node_id] = outcome
            progress.node_finished(outcome)
            # A node skipped by a Cond lets its downstream nodes start: each one is skipped in turn if it
            # needs that node's outputs (the launcher decides), and runs otherwise.
            if outcome.state in ("COMPLETE", "CACHED") or outcome.by_condition:
                for d in downstream[outcome.node_id]:
                    deps = waiting.get(d)
                    if deps is not None:
                        deps.discard(outcome.node_id)
                        if not deps:
                            del waiting[d]
                            ready.append(d)
                ready.sort(key=order.__getitem__)
            else:  # nothing downstream of a failure starts
                for d in sorted(ir.downstream_closure({outcome.node_id}) - {outcome.node_id}, key=order.__getitem__):
                    if d in waiting:
                        del waiting[d]
                        why = f"upstream '{outcome.node_id}' {outcome.state.lower()}"
                        outcomes[d] = NodeOutcome(d, SKIPPED, reason=why)
                        progress.node_finished(outcomes[d])

        try:
            while ready or running:
                while ready and len(running) < self.max_workers:
                    node = nodes[ready.pop(0)]
                    prepared = launcher.prepare(node)
                    if isinstance(prepared, NodeOutcome):
                        finish(prepared)
                        continue
                    progress.node_started(node.id)
                    running[node.id] = prepared
                    backend.submit(node.id, prepared.task)
                if running:
                    for node_id, result in backend.wait():
                        finish(launcher.publish(running.pop(node_id), result))
        except KeyboardInterrupt:
            if pool is not None:
                pool.kill()
            for prepared in running.values():
                finish(launcher.cancel(prepared, "The run was interrupted."))
            for d in list(waiting):
                outcomes[d] = NodeOutcome(d, SKIPPED, reason="the run was interrupted")
            raise
        finally:
            if isinstance(backend, _ThreadBackend):
                backend.close()
            launcher.flush()
        return outcomes


class _ThreadBackend:
    """In-process executors on threads, behind the worker pool's submit/wait interface."""

    def __init__(self, size: int):
        self._threads = cf.ThreadPoolExecutor(max_workers=size, thread_name_prefix="headrace-exec")
        self._keys: dict[cf.Future[ExecutorResult], str] = {}

    def submit(self, key: str, task: ExecutionTask) -> None:
        self._keys[self._threads.submit(run_task, task)] = key

    def wait(self) -> list[tuple[str, ExecutorResult]]:
        finished, _ = cf.wait(self._keys, return_when=cf.FIRST_COMPLETED)
        return [(self._keys.pop(f), f.result()) for f in finished]

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
