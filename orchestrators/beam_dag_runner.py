"""BeamDagRunner: runs a pipeline as one Apache Beam pipeline, each node a launch of the shared node launcher.

Usage::

    from headrace.orchestrators import BeamDagRunner

    BeamDagRunner().run(pipeline)  # the DirectRunner, one thread per core (multi_threading)
    BeamDagRunner(beam_pipeline_args=["--direct_running_mode=multi_processing", "--direct_num_workers=2"]).run(pipeline)
    BeamDagRunner(beam_pipeline_args=["--runner=DaskRunner", "--dask_client_address=tcp://127.0.0.1:8786"]).run(pipeline)

How it runs:

- The run is registered in ML Metadata first (`ensure_run`); then one Beam pipeline runs the nodes.
  Nodes are grouped by depth (the longest upstream path): each depth is one Beam step whose elements
  are its node ids, and each element calls `headrace.launcher.single.launch_node` (driver ->
  executor -> publisher) with its own ML Metadata connection, so a step may run in another process.
  A step takes the outcomes of all shallower steps as a side input, which orders it after them; the
  nodes of one depth are independent and run in parallel as far as the Beam runner allows (with the
  DirectRunner: `--direct_num_workers` threads with `--direct_running_mode=multi_threading`, the
  default here, or processes with `--direct_running_mode=multi_processing`; `in_memory` runs one node
  at a time). One step per depth rather than one per node, because
  the DirectRunner runs its steps one after another: only the elements of one step run in parallel.
- On a Dask cluster (`--runner=DaskRunner` with `--dask_client_address`; `scripts/services.sh dask`
  starts one here): each node is its own Dask task, run in a worker's process, and each depth is its
  own Beam pipeline (Beam's DaskRunner would recompute every side input inside the task reading it).
  The cluster is checked before the run is registered. The workers must import what the nodes need
  (headrace, the libraries) and reach the pipeline root and the store, like any Beam worker. A worker
  killed while it runs a node: Dask gives the task to another worker, whose launch marks the dead
  attempt FAILED (its outputs ABANDONED) and runs the node again.
- A node whose upstream node failed is not launched: it is SKIPPED, as under LocalDagRunner.
- Beam may run a bundle twice (a retry, or `--direct_runner_bundle_repeat`): `launch_node` makes the
  repeat harmless (one COMPLETE execution per node per run; the repeat is REUSED), and a launch that
  races another one of the same node waits for it.
- Outcomes come back through small JSON files under `<pipeline_root>/.system/beam/<run_id>/` (removed
  after the run), so the pipeline root must be reachable by every Beam worker, as it must anyway for
  the artifacts. The runner then records the run's final state, prints LocalDagRunner's summary and
  returns the same :class:`~headrace.orchestrators.RunResult`. The per-node progress lines are printed
  when the Beam pipeline has finished (a step may run in another process), not live.
- A repeat of a node that FAILED is a new attempt (`launch_node` retries failures), so under
  `--direct_runner_bundle_repeat` a failing node records one FAILED execution per repeat.

`beam_pipeline_args` select the Beam runner and are also handed to Beam-based executors and to the
Beam pipeline of an `@component` function's BeamPipeline argument (after the pipeline's own
`beam_pipeline_args`, before a component's own, `BeamExecutorSpec(beam_pipeline_args=...)` or
`with_beam_pipeline_args`: later flags win). `beam_orchestrator_args` (TFX's name) reach only the
orchestrating pipeline.

`import headrace.orchestrators` does not import Apache Beam: `run()` does.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from headrace import beam_runners
from headrace.compiler import PipelineIR
from headrace.compiler.ir import load
from headrace.errors import DefinitionError, ExecutorError
from headrace.launcher.outcomes import CANCELED, FAILED, REUSED, SKIPPED, NodeOutcome, outcome_of
from headrace.metadata.store import Metadata
from headrace.orchestrators.base_runner import BaseRunner, RunOptions, RunSession

_INSTALL_HINT = "BeamDagRunner needs Apache Beam: pip install 'apache-beam>=2.59'."
_WAIT_FOR_OTHER_LAUNCH_S = 0.5


class BeamDagRunner(BaseRunner):
    """Runs the IR as one Apache Beam pipeline (see the module docstring).

    Args:
        beam_pipeline_args: Beam options: they pick the Beam runner (default: the DirectRunner with
            one worker thread per core) and are handed to Beam-based executors too.
        metadata_connection_config: Overrides the pipeline's store.
        enable_cache: False turns the cache off for this runner's runs; None follows the pipeline
            and component settings.
        quiet: No progress output.
        raise_on_failure: `run()` raises :class:`~headrace.errors.PipelineRunError` when the run does
            not complete (the default); False returns the result instead.
        beam_orchestrator_args: Beam options for the orchestrating pipeline only (TFX's argument).
    """

    continues_existing_run_ids: ClassVar[bool] = True  # a repeated run id carries that run on

    def __init__(
        self,
        beam_pipeline_args: Sequence[str] | None = None,
        metadata_connection_config: Any = None,
        enable_cache: bool | None = None,
        quiet: bool = False,
        raise_on_failure: bool = True,
        beam_orchestrator_args: Sequence[str] | None = None,
    ):
        super().__init__(metadata_connection_config, enable_cache, quiet, raise_on_failure)
        self.beam_pipeline_args = _strings("beam_pipeline_args", beam_pipeline_args)
        self.beam_orchestrator_args = _strings("beam_orchestrator_args", beam_orchestrator_args)

    @classmethod
    def from_options(cls, options: RunOptions) -> BeamDagRunner:
        """The runner of `headrace run --runner beam` (--beam-arg)."""
        return cls(
            beam_pipeline_args=list(options.beam_args),
            metadata_connection_config=options.metadata_connection_config,
            quiet=options.quiet,
            raise_on_failure=False,
        )

    def _prepare_ir(self, ir: PipelineIR) -> PipelineIR:
        try:  # before the run is registered: a missing Beam is the user's to install, not a failed run
            import apache_beam  # noqa: F401
        except ImportError as e:
            raise ImportError(_INSTALL_HINT) from e
        # A DaskRunner without a reachable cluster is refused here, naming the flag, before the run exists.
        beam_runners.resolve([*self.beam_pipeline_args, *self.beam_orchestrator_args])
        if not self.beam_pipeline_args:
            return ir
        return dataclasses.replace(ir, beam_pipeline_args=(*ir.beam_pipeline_args, *self.beam_pipeline_args))

    def _schedule(self, session: RunSession) -> None:
        """One Beam pipeline: a step per depth of the nodes left to run; outcomes reported when it ends.
        On Dask, one Beam pipeline per depth (see `_run_depths_one_by_one`)."""
        ir, run_id = session.ir, session.handle.run_id
        spec = _StepSpec(
            ir_json=ir.dump(indent=None),
            config=session.md.config.SerializeToString(),
            run_id=run_id,
            enable_cache=session.enable_cache,
            results_dir=os.path.join(ir.pipeline_root, ".system", "beam", run_id),
            started_ms=session.started_ms,
            reused=tuple(sorted(session.done)),
        )
        os.makedirs(spec.results_dir, exist_ok=True)
        args = _orchestrator_args([*self.beam_pipeline_args, *self.beam_orchestrator_args])
        depths = _depths(ir, set(session.todo))
        try:
            if beam_runners.is_dask(args):
                _run_depths_one_by_one(args, depths, spec)
            else:
                _run_depths_in_one_pipeline(args, depths, spec)
            outcomes = _collect(session.todo, spec.results_dir)
        finally:
            shutil.rmtree(spec.results_dir, ignore_errors=True)
        for node_id in session.todo:
            session.finished(outcomes[node_id])


def _run_depths_in_one_pipeline(args: list[str], depths: list[list[str]], spec: _StepSpec) -> None:
    """A step per depth; a step takes the outcomes of all shallower steps as a side input."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    with beam.Pipeline(options=PipelineOptions(args)) as p:
        done: list[Any] = []
        for depth, ids in enumerate(depths):
            step = p | f"Nodes at depth {depth}: {', '.join(ids)}" >> beam.Create(ids)
            if len(ids) > 1:  # one element per worker: the nodes of a depth run in parallel
                step = step | f"Spread depth {depth}" >> beam.Reshuffle()
            before: Any = []
            if done:
                before = beam.pvalue.AsList(tuple(done) | f"Done before depth {depth}" >> beam.Flatten())
            done.append(step | f"Launch depth {depth}" >> beam.Map(_launch_step, before, spec))


def _run_depths_one_by_one(args: list[str], depths: list[list[str]], spec: _StepSpec) -> None:
    """One Beam pipeline per depth, each given the outcomes so far as a plain argument. Beam 2.72's
    DaskRunner computes a side input inside the task that reads it, by computing its whole graph
    again: in one pipeline every step would launch all shallower nodes again (harmless, as a repeat
    is REUSED, but each depth repeats every earlier one and blocks a worker thread while it does)."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    done: list[tuple[str, str, str]] = []
    for depth, ids in enumerate(depths):
        with beam.Pipeline(options=PipelineOptions(args)) as p:
            _ = (
                p
                | f"Nodes at depth {depth}: {', '.join(ids)}" >> beam.Create(ids)
                | f"Launch depth {depth}" >> beam.Map(_launch_step, list(done), spec)
            )
        beam_runners.close_dask_client(p)
        done += [_passed_on(o) for o in _collect(ids, spec.results_dir).values()]


def _strings(name: str, args: Sequence[str] | None) -> list[str]:
    if isinstance(args, str):
        raise DefinitionError(
            f"BeamDagRunner: {name} must be a list of strings, got the string {args!r}; write [{args!r}]."
        )
    found = list(args or [])
    bad = [a for a in found if not isinstance(a, str)]
    if bad:
        raise DefinitionError(f"BeamDagRunner: {name} must be strings, got {bad[0]!r}.")
    return found


def _orchestrator_args(args: list[str]) -> list[str]:
    """The Beam arguments of the orchestrating pipeline. `--runner=DaskRunner` is resolved and its
    cluster checked (`headrace.beam_runners.resolve`), and each node is its own Dask partition (its
    own task), so the nodes of a depth run on different workers. The DirectRunner runs one worker
    unless told otherwise: without a running mode or a worker count, give it one thread per core, so
    the nodes of a depth run in parallel by default, as under LocalDagRunner."""
    args = beam_runners.resolve(args)
    if beam_runners.is_dask(args):
        if not any(a.startswith(("--dask_npartitions", "--dask_partition_size")) for a in args):
            args.append("--dask_partition_size=1")
        return args
    if any(a.startswith(("--direct_num_workers", "--direct_running_mode")) for a in args):
        return args
    return [*args, "--direct_running_mode=multi_threading", f"--direct_num_workers={os.cpu_count() or 1}"]


def _depths(ir: PipelineIR, todo: set[str]) -> list[list[str]]:
    """The nodes to run grouped by the length of their longest upstream path among them (the IR is
    topological; a reused node counts as done before the first step)."""
    depth: dict[str, int] = {}
    for node in ir.nodes:
        if node.id in todo:
            depth[node.id] = 1 + max((depth[u] for u in node.upstream if u in depth), default=-1)
    groups: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node in ir.nodes:
        if node.id in todo:
            groups[depth[node.id]].append(node.id)
    return groups


@dataclasses.dataclass(frozen=True)
class _StepSpec:
    """What every step needs, in a form Beam can send to another process."""

    ir_json: str
    config: bytes  # the ML Metadata ConnectionConfig, serialized
    run_id: str
    enable_cache: bool | None
    results_dir: str
    started_ms: int
    reused: tuple[str, ...] = ()  # nodes of the resumed run that completed earlier: done before the first step


@functools.lru_cache(maxsize=4)
def _ir(ir_json: str) -> PipelineIR:
    return load(ir_json)


def _launch_step(node_id: str, done: list[tuple[str, str, str]], spec: _StepSpec) -> tuple[str, str, str]:
    """One node of the run: skipped if an upstream node did not succeed, else launched. Returns
    (node id, state, why) for the steps after it; the full outcome goes to the results folder."""
    ir = _ir(spec.ir_json)
    upstream = {n: (state, why) for n, state, why in done}
    upstream.update((n, (REUSED, "")) for n in spec.reused)
    outcome = None
    node = ir.node(node_id)
    for up in () if node.exit_handler else node.upstream:  # an exit handler runs whatever happened
        state, why = upstream.get(up, (SKIPPED, f"upstream '{up}' did not run"))
        if state == FAILED or state == CANCELED:
            outcome = NodeOutcome(node_id, SKIPPED, reason=f"upstream '{up}' {state.lower()}")
        elif state == SKIPPED and why:  # a skip because of a failure further up: name that failure
            outcome = NodeOutcome(node_id, SKIPPED, reason=why)
        if outcome is not None:
            break
    if outcome is None:
        outcome = _launch(ir, node_id, spec)
    _write(spec.results_dir, outcome)
    return _passed_on(outcome)


def _passed_on(outcome: NodeOutcome) -> tuple[str, str, str]:
    """What the steps after a node need of its outcome: (node id, state, why). A skip by a false
    Cond is not a failure: downstream nodes go on (and their launcher decides)."""
    return (outcome.node_id, outcome.state, "" if outcome.by_condition else outcome.reason)


def _launch(ir: PipelineIR, node_id: str, spec: _StepSpec) -> NodeOutcome:
    from ml_metadata.proto import metadata_store_pb2

    from headrace.launcher.runs import attach_run
    from headrace.launcher.single import DuplicateLaunchError, launch_with_retries

    started = time.perf_counter()
    try:
        md = Metadata(metadata_store_pb2.ConnectionConfig.FromString(spec.config))
        handle = attach_run(md, spec.run_id, ir)
        while True:
            try:
                outcome = launch_with_retries(md, handle, node_id, enable_cache=spec.enable_cache)
                break
            except DuplicateLaunchError:  # another launch of this node (a repeated bundle) runs it: wait
                time.sleep(_WAIT_FOR_OTHER_LAUNCH_S)
        if outcome.state == REUSED and outcome.execution_id is not None:
            outcome = _reused_in_this_run(md, outcome, spec.started_ms)
        return outcome
    except Exception as e:  # noqa: BLE001 - a framework failure fails this node, not the Beam pipeline
        import traceback

        error = ExecutorError(node_id, type(e).__name__, str(e), traceback.format_exc())
        return NodeOutcome(node_id, FAILED, error=error, seconds=time.perf_counter() - started)


def _reused_in_this_run(md: Metadata, outcome: NodeOutcome, started_ms: int) -> NodeOutcome:
    """A REUSED outcome whose execution this very run recorded (an earlier launch of a repeated bundle)
    is reported as what that execution was: COMPLETE, CACHED, or SKIPPED by a Cond."""
    [ex] = md.call(md.store.get_executions_by_id, [outcome.execution_id])
    if ex.create_time_since_epoch < started_ms:
        return outcome  # done by an earlier runner of this run id: reused indeed
    return outcome_of(md, outcome.node_id, ex, with_outputs=True)


def _write(results_dir: str, outcome: NodeOutcome) -> None:
    """The outcome as JSON, written whole (a repeated step replaces it with its own)."""
    data = dataclasses.asdict(dataclasses.replace(outcome, error=None))
    error = outcome.error
    if error is not None:
        data["error"] = {
            "error_type": error.error_type,
            "message": error.message,
            "traceback_text": error.traceback_text,
            "expected": error.expected,
        }
    path = os.path.join(results_dir, f"{outcome.node_id}.json")
    tmp = f"{path}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def _collect(node_ids: list[str], results_dir: str) -> dict[str, NodeOutcome]:
    outcomes: dict[str, NodeOutcome] = {}
    for node_id in node_ids:
        path = os.path.join(results_dir, f"{node_id}.json")
        if not os.path.exists(path):
            outcomes[node_id] = NodeOutcome(node_id, SKIPPED, reason="the Beam pipeline did not run this step")
            continue
        with open(path) as f:
            data = json.load(f)
        error = data.pop("error")
        outcomes[node_id] = NodeOutcome(**data, error=ExecutorError(node_id, **error) if error is not None else None)
    return outcomes
