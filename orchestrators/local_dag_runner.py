"""LocalDagRunner: runs a pipeline on this machine, independent nodes concurrently."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any

from headrace.compiler import PipelineIR
from headrace.errors import DefinitionError
from headrace.launcher import ExecutionTask, ExecutorResult, NodeOutcome, PreparedExecution
from headrace.launcher.executor_runner import run_task
from headrace.launcher.worker import WorkerPool, run_in_time
from headrace.orchestrators.base_runner import BaseRunner, RunOptions, RunSession

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

    retries_in_session = True

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
        super().__init__(metadata_connection_config, enable_cache, quiet, raise_on_failure)
        self.max_workers = max_workers or os.cpu_count() or 1
        self.executor_mode = executor_mode

    @classmethod
    def from_options(cls, options: RunOptions) -> LocalDagRunner:
        """The runner of `headrace run` (--max-workers, --in-process)."""
        return cls(
            max_workers=options.max_workers,
            executor_mode="inprocess" if options.in_process else "process",
            quiet=options.quiet,
            metadata_connection_config=options.metadata_connection_config,
            raise_on_failure=False,
        )

    @contextlib.contextmanager
    def _executors(self, ir: PipelineIR) -> Iterator[WorkerPool | None]:
        # Boot one executor worker now: it starts up on the other core while the store is opened.
        pool = WorkerPool(self.max_workers) if self.executor_mode == "process" else None
        if pool is not None:
            pool.prestart(1)
        try:
            yield pool
        finally:
            if pool is not None:
                pool.close()

    def _schedule(self, session: RunSession) -> None:
        """Drivers and publishers here, executors in the pool (or threads), up to max_workers at once."""
        pool: WorkerPool | None = session.executors
        launcher, nodes = session.launcher, {n.id: n for n in session.ir.nodes}
        backend: WorkerPool | _ThreadBackend = pool if pool is not None else _ThreadBackend(self.max_workers)
        running: dict[str, PreparedExecution] = {}
        try:
            while session.has_pending() or running:
                while len(running) < self.max_workers and (node_id := session.next_ready()) is not None:
                    prepared = launcher.prepare(nodes[node_id])
                    if isinstance(prepared, NodeOutcome):
                        session.finished(prepared)
                        continue
                    session.started(node_id)
                    running[node_id] = prepared
                    backend.submit(node_id, prepared.task)
                retry_in = session.seconds_to_next_retry()  # a failed node waiting to be tried again
                if running:
                    for node_id, result in backend.wait(retry_in):
                        session.finished(launcher.publish(running.pop(node_id), result))
                elif retry_in is not None and not session.has_ready():
                    time.sleep(retry_in)
        except KeyboardInterrupt:
            if pool is not None:
                pool.kill()
            for prepared in running.values():
                session.finished(launcher.cancel(prepared, "The run was interrupted."))
            raise
        finally:
            if isinstance(backend, _ThreadBackend):
                backend.close()


class _ThreadBackend:
    """In-process executors on threads, behind the worker pool's submit/wait interface."""

    def __init__(self, size: int):
        self._threads = cf.ThreadPoolExecutor(max_workers=size, thread_name_prefix="headrace-exec")
        self._keys: dict[cf.Future[ExecutorResult], str] = {}

    def submit(self, key: str, task: ExecutionTask) -> None:
        # A step with a timeout runs in a process of its own, which can be stopped (a thread cannot).
        self._keys[self._threads.submit(run_in_time if task.timeout_seconds else run_task, task)] = key

    def wait(self, timeout: float | None = None) -> list[tuple[str, ExecutorResult]]:
        finished, _ = cf.wait(self._keys, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return [(self._keys.pop(f), f.result()) for f in finished]

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
