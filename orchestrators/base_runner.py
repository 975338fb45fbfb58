"""The runner contract: `BaseRunner.run()` is the run's lifecycle, written once; a runner implements
only where and when nodes execute, in one hook, `_schedule(session)`.

The lifecycle (`run`): compile the pipeline (or take its IR, or a resumed run's stored IR), open the
store, start the run or resume it (nodes that completed in it are REUSED), hand the run to the
adapter's hook, collect every node's outcome, record the run's final state, print the summary, and
raise :class:`~headrace.errors.PipelineRunError` if the run did not complete.

The hook receives a :class:`RunSession`: the run's store, handle and IR, the nodes left to run, and
the bookkeeping every adapter shares. An adapter that schedules node by node (LocalDagRunner) takes
`session.next_ready()` and reports `session.finished(outcome)`; one that hands the whole graph to
another engine (BeamDagRunner) reads `session.todo` and reports each outcome when the engine is done.
The session starts a node's downstream nodes when it succeeds (or was skipped by a false Cond) and
skips them, with the reason, when it fails.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from headrace.compiler import PipelineIR, compile_pipeline
from headrace.dsl import BaseComponent, Pipeline
from headrace.dsl.pipeline import one_exit_handler
from headrace.errors import DefinitionError
from headrace.launcher import NodeLauncher, NodeOutcome, load_run_ir, resume_run, start_run
from headrace.launcher.outcomes import CANCELED, COMPLETE, FAILED, REUSED, SKIPPED, fill_outputs, final_state
from headrace.launcher.parameters import bind, bind_for_run, resolve
from headrace.launcher.retries import next_retry
from headrace.launcher.runs import RunHandle, run_state, set_run_state
from headrace.metadata.config import connection_config_from_dict, describe
from headrace.metadata.store import Metadata
from headrace.orchestrators.base_target import with_exit_handler
from headrace.orchestrators.progress import Progress
from headrace.orchestrators.result import RunResult


def to_ir(pipeline: Pipeline | PipelineIR) -> PipelineIR:
    """Compiles a Pipeline; passes an IR through; makes the pipeline root absolute."""
    if isinstance(pipeline, Pipeline):
        ir = compile_pipeline(pipeline)
    elif isinstance(pipeline, PipelineIR):
        ir = pipeline
    else:
        raise DefinitionError(f"A runner runs a Pipeline or a PipelineIR, got {type(pipeline).__name__}.")
    root = os.path.abspath(ir.pipeline_root)
    return ir if root == ir.pipeline_root else dataclasses.replace(ir, pipeline_root=root)


def open_store(ir: PipelineIR, override: Any = None) -> Metadata:
    """The store of this pipeline: `override` (a ConnectionConfig) if given, else the pipeline's own
    (the SQLite default under the pipeline root if it names none)."""
    config = override if override is not None else connection_config_from_dict(ir.metadata_connection, ir.pipeline_root)
    return Metadata(config)


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """What `headrace run` was told, for `BaseRunner.from_options` (each runner takes what applies to it)."""

    metadata_connection_config: Any = None
    quiet: bool = False
    max_workers: int | None = None
    in_process: bool = False
    beam_args: tuple[str, ...] = ()


class RunSession:
    """One run being executed: what a runner's `_schedule` hook works with.

    Attributes:
        md: The store.
        handle: The run (its contexts, its IR as `handle.ir`).
        launcher: The node launcher of this run (driver -> executor -> publisher) for adapters that
            launch nodes from this process; adapters whose nodes run elsewhere launch them there.
        enable_cache: The run-level cache switch (False: --no-cache; None: the pipeline's settings).
        done: Nodes reused from the run being resumed (they do not run again).
        executors: What the runner's `_executors` context gave (a worker pool, say), or None.
        started_ms: When `run()` started (epoch ms).
    """

    def __init__(
        self,
        md: Metadata,
        handle: RunHandle,
        done: set[str],
        enable_cache: bool | None,
        progress: Progress,
        executors: Any,
        started_ms: int,
        retries: bool = False,
    ):
        self.md, self.handle, self.done, self.enable_cache = md, handle, done, enable_cache
        self.launcher = NodeLauncher(md, handle, enable_cache=enable_cache)
        self.executors, self.started_ms = executors, started_ms
        self.progress = progress
        ir = handle.ir
        self.outcomes: dict[str, NodeOutcome] = {n: NodeOutcome(n, REUSED) for n in done}
        self._order = {n.id: i for i, n in enumerate(ir.nodes)}
        self._waiting = {n.id: set(n.upstream) - done for n in ir.nodes if n.id not in done}
        self._retrying = retries  # whether failed nodes are retried here (BaseRunner.retries_in_session)
        self._retries: dict[str, int] = {}  # node -> retries started (its retry policy)
        self._delayed: list[tuple[float, str]] = []  # (monotonic time it is ready, node) of retries waiting
        self._handlers = [
            n.id for n in ir.nodes if n.exit_handler
        ]  # they run after every other node, whatever happened
        self._downstream: dict[str, list[str]] = {n.id: [] for n in ir.nodes}
        for n in ir.nodes:
            for up in n.upstream:
                self._downstream[up].append(n.id)
        self._ready = sorted((n for n, deps in self._waiting.items() if not deps), key=self._order.__getitem__)
        for n in self._ready:
            del self._waiting[n]

    @property
    def ir(self) -> PipelineIR:
        """The run's pipeline."""
        return self.handle.ir

    @property
    def todo(self) -> list[str]:
        """The nodes this run still has to run (not reused), in the IR's topological order."""
        return [n.id for n in self.ir.nodes if n.id not in self.done]

    def has_ready(self) -> bool:
        """Whether a node is ready to start (everything upstream of it succeeded; a retry's wait is over)."""
        self._due_retries()
        return bool(self._ready)

    def has_pending(self) -> bool:
        """Whether a node is ready, or will be once a retry's wait is over."""
        return self.has_ready() or bool(self._delayed)

    def next_ready(self) -> str | None:
        """Takes the first ready node (in the IR's order), or None if none is ready now."""
        self._due_retries()
        return self._ready.pop(0) if self._ready else None

    def started(self, node_id: str) -> None:
        """Reports that a node's executor started (a progress line)."""
        self.progress.node_started(node_id)

    def finished(self, outcome: NodeOutcome) -> None:
        """Records how a node ended. A success (or a skip by a false Cond: its downstream nodes then
        decide for themselves) makes its downstream nodes ready once their other inputs are; anything
        else skips everything downstream of it, saying why."""
        node_id = outcome.node_id
        if self._retrying and outcome.state == FAILED and node_id not in self.outcomes and self._retry_later(outcome):
            return
        if node_id in self.outcomes:
            if outcome.state == SKIPPED and self.outcomes[node_id].state == SKIPPED:
                return  # the engine skipped it too, for the same failure upstream
            raise RuntimeError(f"Node '{node_id}' was reported finished twice in run {self.handle.run_id}.")
        self.outcomes[node_id] = outcome
        self.progress.node_finished(outcome)
        if outcome.succeeded:
            self._release(node_id, self._downstream[node_id])
            return
        why = f"upstream '{node_id}' {outcome.state.lower()}"
        for d in sorted(self.ir.downstream_closure({node_id}) - {node_id}, key=self._order.__getitem__):
            if d in self._handlers:
                continue  # an exit handler runs whatever happened
            if d in self._waiting or d in self._ready:
                self._waiting.pop(d, None)
                if d in self._ready:
                    self._ready.remove(d)
                self.outcomes[d] = NodeOutcome(d, SKIPPED, reason=why)
                self.progress.node_finished(self.outcomes[d])
                self._release(d, self._handlers)
        self._release(node_id, self._handlers)

    def _retry_later(self, outcome: NodeOutcome) -> bool:
        """Whether the failed node's retry policy tries it again: then it becomes ready after the wait."""
        node = self.ir.node(outcome.node_id)
        retries = self._retries.get(node.id, 0)
        delay = next_retry(node, retries)
        if delay is None:
            return False
        self._retries[node.id] = retries + 1
        self.progress.node_retrying(outcome, retries + 1, int((node.retry or {}).get("max_retries", 0)), delay)
        self._delayed.append((time.monotonic() + delay, node.id))
        self._delayed.sort()
        return True

    def seconds_to_next_retry(self) -> float | None:
        """How long until the next node waiting for a retry is ready (0 if one is), or None if none waits."""
        if not self._delayed:
            return None
        return max(0.0, self._delayed[0][0] - time.monotonic())

    def _due_retries(self) -> None:
        now = time.monotonic()
        while self._delayed and self._delayed[0][0] <= now:
            _, node_id = self._delayed.pop(0)
            self._ready.append(node_id)
            self._ready.sort(key=self._order.__getitem__)

    def _release(self, node_id: str, downstream: Iterable[str]) -> None:
        """`node_id` has finished: those of `downstream` that waited only for it become ready."""
        for d in downstream:
            deps = self._waiting.get(d)
            if deps is not None and node_id in deps:
                deps.discard(node_id)
                if not deps:
                    del self._waiting[d]
                    self._ready.append(d)
        self._ready.sort(key=self._order.__getitem__)

    def abandon(self, reason: str) -> None:
        """Skips every node that has not started (the run was interrupted, say)."""
        delayed = [n for _, n in self._delayed]
        for d in [*self._ready, *delayed, *sorted(self._waiting, key=self._order.__getitem__)]:
            self.outcomes.setdefault(d, NodeOutcome(d, SKIPPED, reason=reason))
        self._ready.clear()
        self._delayed.clear()
        self._waiting.clear()


class BaseRunner(abc.ABC):
    """Base class of runners that execute a pipeline (see the module docstring).

    Args:
        metadata_connection_config: Overrides the pipeline's store.
        enable_cache: False turns the cache off for this runner's runs; None follows the pipeline
            and component settings.
        quiet: No progress output.
        raise_on_failure: `run()` raises :class:`~headrace.errors.PipelineRunError` when the run does
            not complete (the default, as TFX and kfp do); False returns the result instead.
    """

    #: A `run_id` that names an existing run of the pipeline carries that run on (as `resume` does)
    #: rather than being refused; for engines that repeat a whole run to recover (Beam).
    continues_existing_run_ids: ClassVar[bool] = False
    #: The session tries a failed node again as its retry policy says (it becomes ready again after the
    #: wait), for adapters that take nodes from `next_ready` until none is pending; an adapter whose engine
    #: launches each node once retries in the launcher instead (`launch_with_retries`).
    retries_in_session: ClassVar[bool] = False

    def __init__(
        self,
        metadata_connection_config: Any = None,
        enable_cache: bool | None = None,
        quiet: bool = False,
        raise_on_failure: bool = True,
    ):
        self.metadata_connection_config = metadata_connection_config
        self.enable_cache = enable_cache
        self.quiet = quiet
        self.raise_on_failure = raise_on_failure

    @classmethod
    @abc.abstractmethod
    def from_options(cls, options: RunOptions) -> BaseRunner:
        """The runner `headrace run --runner ...` uses, built from the command's options."""

    @abc.abstractmethod
    def _schedule(self, session: RunSession) -> None:
        """Runs `session.todo` and reports each node's outcome with `session.finished` (the one hook)."""

    def _executors(self, ir: PipelineIR) -> contextlib.AbstractContextManager[Any]:
        """Optional: a context holding what executes the run's nodes (a worker pool), entered before the
        store is opened, so it can start up meanwhile; what it yields is `session.executors`."""
        return contextlib.nullcontext()

    def _prepare_ir(self, ir: PipelineIR) -> PipelineIR:
        """Optional: the IR this runner runs (BeamDagRunner adds its Beam arguments)."""
        return ir

    _exit_handler: BaseComponent | None = None

    def set_exit_handler(self, component: BaseComponent | Sequence[BaseComponent]) -> None:
        """Gives the pipelines this runner runs an exit handler (TFX's form of
        `Pipeline(..., exit_handler=...)`; a list of one component is taken too)."""
        self._exit_handler = one_exit_handler(component)

    def to_ir(self, pipeline: Pipeline | PipelineIR) -> PipelineIR:
        """Compiles a Pipeline; passes an IR through; makes the pipeline root absolute."""
        if isinstance(pipeline, Pipeline):
            pipeline = with_exit_handler(pipeline, self._exit_handler)
        return to_ir(pipeline)

    def open_metadata(self, ir: PipelineIR, override: Any = None) -> Metadata:
        """The store of this pipeline (the runner's override, else the pipeline's own)."""
        return open_store(ir, override if override is not None else self.metadata_connection_config)

    def run(
        self,
        pipeline: Pipeline | PipelineIR | None = None,
        run_id: str | None = None,
        resume: str | None = None,
        enable_cache: bool | None = None,
        raise_on_failure: bool | None = None,
        parameters: Mapping[str, Any] | None = None,
        trigger: str = "",
    ) -> RunResult:
        """Runs a pipeline, or resumes the run `resume`.

        Args:
            pipeline: A Pipeline or its IR. With `resume`, optional if the runner was given the store
                (`metadata_connection_config`): the run's stored IR is used.
            run_id: Id for a new run (default: generated).
            resume: Id of an earlier run of this pipeline: nodes that completed in it are reused; the
                others (the failed node and its descendants) run again.
            enable_cache: Per-run cache switch (False: --no-cache).
            raise_on_failure: Overrides the runner's setting for this run.
            parameters: Values of the pipeline's runtime parameters, by name (text is parsed, as from
                `--param name=value`); the others take their defaults. Recorded on the run, and part of
                the cache key. A resumed run keeps the values it was started with.
            trigger: Why the run starts, recorded on it as `trigger` (`headrace schedule` records the
                schedule time or the new files); `runs show` and `headrace ui` show it.

        Returns:
            The RunResult (per-node states, outputs, errors).

        Raises:
            PipelineRunError: the run did not complete (unless raise_on_failure is False); it names
                the failed node and its error and carries the RunResult as `.result`.
            DefinitionError: before anything runs, for a runtime parameter the pipeline does not
                declare, a required one without a value, or a value of the wrong type.
        """
        started, started_ms = time.perf_counter(), int(time.time() * 1000)
        cache = self.enable_cache if enable_cache is None else enable_cache
        ir = self._prepare_ir(self._ir_to_run(pipeline, resume))
        if not resume:
            resolve(ir, parameters)  # a bad value is refused before any worker starts
        with self._executors(ir) as executors:
            md = self.open_metadata(ir)
            if run_id and not resume and self.continues_existing_run_ids and md.get_context("pipeline_run", run_id):
                resume, run_id = run_id, None
            if resume:
                handle, done = resume_run(md, resume, bind_for_run(md, ir, resume, parameters))
            else:
                bound, values = bind(ir, parameters)
                started_by = type(self).__name__
                handle = start_run(
                    md, bound, run_id, started_ms, parameters=values, started_by=started_by, trigger=trigger
                )
                done = set()
            progress = Progress(self.quiet)
            session = RunSession(md, handle, done, cache, progress, executors, started_ms, self.retries_in_session)
            if resume and run_state(handle) == COMPLETE:
                progress.nothing_to_resume(handle.run_id, describe(md.config))
                return self._finish(session, started, resumed_complete=True, raise_on_failure=raise_on_failure)
            ids = [n.id for n in handle.ir.nodes]
            progress.start(handle.run_id, handle.ir.pipeline_name, ids, describe(md.config), bool(resume))
            for node_id in ids:
                if node_id in done:
                    progress.node_finished(session.outcomes[node_id])
            try:
                self._schedule(session)
            except KeyboardInterrupt:
                session.abandon("the run was interrupted")
                set_run_state(md, handle, CANCELED)
                raise
            except BaseException:
                set_run_state(md, handle, FAILED)  # the runner itself failed, not a node
                raise
            finally:
                session.launcher.flush()
            return self._finish(session, started, resumed_complete=False, raise_on_failure=raise_on_failure)

    def _ir_to_run(self, pipeline: Pipeline | PipelineIR | None, resume: str | None) -> PipelineIR:
        if pipeline is not None:
            return self.to_ir(pipeline)
        if resume and self.metadata_connection_config is not None:
            return self.to_ir(load_run_ir(Metadata(self.metadata_connection_config), resume))  # the run's own IR
        raise DefinitionError(
            f"{type(self).__name__}.run needs a pipeline, or resume=RUN_ID with the store given as "
            f"{type(self).__name__}(metadata_connection_config=...)."
        )

    def _finish(
        self, session: RunSession, started: float, resumed_complete: bool, raise_on_failure: bool | None
    ) -> RunResult:
        """Every node's outcome, the run's final state recorded, the summary printed, raise if asked."""
        md, handle, ir = session.md, session.handle, session.ir
        session.abandon("the runner did not run it")  # a node the adapter never reported
        reused = [o for o in session.outcomes.values() if o.state == REUSED and o.node_id in handle.published]
        for outcome in reused:
            outcome.execution_id = outcome.execution_id or handle.published[outcome.node_id]
        fill_outputs(md, reused)
        if resumed_complete:
            state, seconds = COMPLETE, 0.0  # nothing ran: the run is left as it was
        else:
            state = final_state(session.outcomes.values())
            set_run_state(md, handle, state)
            seconds = time.perf_counter() - started
        result = RunResult(
            run_id=handle.run_id,
            pipeline_name=ir.pipeline_name,
            state=state,
            nodes={n.id: session.outcomes[n.id] for n in ir.nodes},
            pipeline_root=ir.pipeline_root,
            metadata=describe(md.config),
            seconds=seconds,
        )
        if not resumed_complete:
            session.progress.summary(result)
        if self.raise_on_failure if raise_on_failure is None else raise_on_failure:
            result.raise_for_failure()
        return result
