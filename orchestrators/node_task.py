"""One node of a compiled IR as a task of an outside scheduler (`headrace task run` / `headrace task finish`),
run in headrace's own environment: what each task of the DAG file `headrace compile --target airflow`
writes runs, and what any scheduler that starts one process per node can run.

`run_node` launches the node in the headrace run the scheduler's run maps to (started by whichever task
comes first) through the shared launcher, which is idempotent: a retry of a failed task runs a new
attempt, a retry of a task that had in fact finished reuses it. `finish_run` records the run's final
state once every node's task ended. Neither imports the scheduler.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from headrace.compiler import PipelineIR
from headrace.launcher.outcomes import NodeOutcome
from headrace.orchestrators.base_runner import open_store

log = logging.getLogger(__name__)
_UNSAFE_RUN_ID = re.compile(r"[^A-Za-z0-9_.:+-]")
STARTED_BY = "a scheduler's tasks (headrace task)"  # recorded on a run a node's task started


def headrace_run_id(scheduler_run_id: str) -> str:
    """The headrace run id of a scheduler's run (an Airflow run id, say): the id itself, with characters
    other than [A-Za-z0-9_.:+-] (a '/' in a hand-made run id) replaced by '_'."""
    return _UNSAFE_RUN_ID.sub("_", scheduler_run_id) or "_"


def run_node(
    ir: PipelineIR,
    node_id: str,
    run_id: str,
    try_number: int = 1,
    labels: dict[str, str] | None = None,
    parameters: dict[str, Any] | None = None,
) -> NodeOutcome:
    """Launches `node_id` in the run `run_id` (started now if no task started it yet).

    Args:
        try_number: The scheduler's try of this task. From the second on, an attempt of this node
            still RUNNING in the store is dead, even if its launcher ran on another host: a scheduler
            such as Airflow starts another try only once the earlier one ended or was declared a zombie.
        labels: Recorded on the run's context by the first task (e.g. airflow_run_id, airflow_dag_id).
        parameters: The run's runtime parameter values (text is parsed; the declared defaults fill in).

    Raises:
        KeyError: the IR has no such node.
        DefinitionError: `parameters` do not fit the pipeline's runtime parameters.
        DuplicateLaunchError: another live task is running this node of this run.
    """
    from headrace.launcher.single import ensure_run, launch_node

    ir.node(node_id)
    md = open_store(ir)
    handle = ensure_run(md, ir, headrace_run_id(run_id), parameters, started_by=STARTED_BY)
    _record_labels(md, handle, labels or {})
    stale_after_s = 0.0 if try_number > 1 else None
    outcome = launch_node(md, handle, node_id, execute=_execute, stale_after_s=stale_after_s)
    log.info("headrace run %s, node %s: %s (execution %s)", handle.run_id, node_id, outcome.state, outcome.execution_id)
    return outcome


NEW_DATA_BY = "Airflow (headrace task new-data)"  # who a run started by the DAG's new-data check says started it


def check_new_data(
    ir: PipelineIR,
    run_id: str,
    labels: dict[str, str] | None = None,
    parameters: dict[str, Any] | None = None,
    debounce_s: float = 1.0,
) -> tuple[bool, str]:
    """The new-data check of a DAG compiled `on_new_data`: whether the files the pipeline reads (the IR's
    `file_inputs`) changed since the last run started by new data, and have been still for `debounce_s`.
    If so, the run `run_id` is started here, recording the new files as its trigger; the same check
    retried in the same run says yes again. Checks of one pipeline root take turns (a lock file under
    `<pipeline root>/.system/`), so two at once never start two runs for the same data. Returns (run
    or not, why)."""
    import contextlib
    import fcntl
    import os

    with contextlib.ExitStack() as held:
        try:
            if "://" in ir.pipeline_root:
                raise OSError("not a local folder")
            lock_dir = os.path.join(ir.pipeline_root, ".system")
            os.makedirs(lock_dir, exist_ok=True)
            lock = held.enter_context(open(os.path.join(lock_dir, "new-data.lock"), "a"))
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file closes, or the process dies
        except OSError:
            pass  # a pipeline root that is not a local folder (gs://...): Airflow's max_active_runs alone
        return _check_new_data(ir, run_id, labels, parameters, debounce_s)


def _check_new_data(
    ir: PipelineIR,
    run_id: str,
    labels: dict[str, str] | None,
    parameters: dict[str, Any] | None,
    debounce_s: float,
) -> tuple[bool, str]:
    import json
    import os
    import time

    from headrace.launcher.single import ensure_run
    from headrace.metadata.reader import MetadataReader
    from headrace.orchestrators.scheduler import latest_triggered, new_data_trigger, watched_files

    files = watched_files(ir)
    if not files:
        inputs = sorted({str(n.parameters.get(k, "")) for n in ir.nodes for k in n.file_inputs})
        return False, f"no files yet under {', '.join(inputs) or 'the pipeline inputs'}"
    newest_s = max(m for _size, m in files.values()) / 1e9
    if time.time() - newest_s < debounce_s:
        return False, f"files changed {time.time() - newest_s:.1f} s ago: waiting for them to settle"
    md = open_store(ir)
    own_id = headrace_run_id(run_id)
    last = latest_triggered(MetadataReader(md), ir.pipeline_name, lambda t: t.get("kind") == "on-new-data")
    if last is not None and last[0].run_id == own_id:
        return True, f"run {own_id} was started by new data (this check, tried again)"
    trigger = new_data_trigger(files, last[1] if last else None, NEW_DATA_BY)
    if last is not None and last[1].get("data") == trigger["data"]:
        return False, f"no new data since run {last[0].run_id}"
    handle = ensure_run(
        md, ir, own_id, parameters, started_by=STARTED_BY, trigger=json.dumps({**trigger, "run_id": own_id})
    )
    _record_labels(md, handle, labels or {})
    named = ", ".join(os.path.basename(f) for f in trigger["new_files"][:5]) or "changed files"
    return True, f"new data ({named}): run {own_id} started"


def _execute(task: Any) -> Any:
    """This process runs this one step: its fds 1 and 2 are the step's (its log, and the task's log under
    HEADRACE_VERBOSE=1, which `headrace task run` sets). A step with a timeout runs in a worker process
    that is killed at the timeout (the step FAILED, nothing published)."""
    from headrace.launcher.executor_runner import run_task
    from headrace.launcher.worker import run_in_time

    if task.timeout_seconds and not task.executor.get("image"):
        return run_in_time(task)
    return run_task(task, capture_logs=True)


def finish_run(
    ir: PipelineIR, run_id: str, labels: dict[str, str] | None = None, parameters: dict[str, Any] | None = None
) -> tuple[bool, dict[str, str]]:
    """Records COMPLETE on the run if every node completed, was cached, reused or skipped by a Cond,
    FAILED otherwise; returns whether it completed and each node's state (NOT_RUN: the scheduler never
    started its task, as Airflow does downstream of a failed task)."""
    from headrace.launcher.outcomes import COMPLETE, FAILED, node_outcomes
    from headrace.launcher.runs import set_run_state
    from headrace.launcher.single import ensure_run

    md = open_store(ir)
    handle = ensure_run(md, ir, headrace_run_id(run_id), parameters, started_by=STARTED_BY)  # if no task ran
    _record_labels(md, handle, labels or {})
    outcomes = node_outcomes(md, handle)
    states = {n: o.state if o is not None else "NOT_RUN" for n, o in outcomes.items()}
    ok = all(o is not None and o.succeeded for o in outcomes.values())
    set_run_state(md, handle, COMPLETE if ok else FAILED)
    log.info("headrace run %s: %s %s", handle.run_id, COMPLETE if ok else FAILED, states)
    return ok, states


def _record_labels(md: Any, handle: Any, labels: dict[str, str]) -> None:
    """Records the labels on the run context, once (the first task that carries them)."""
    from headrace.metadata.values import set_value

    props = handle.run_context.custom_properties
    missing = {k: v for k, v in labels.items() if k not in props}
    if not missing:
        return
    for key, value in missing.items():
        set_value(props[key], str(value))
    md.call(md.store.put_contexts, [handle.run_context])
