"""What happened to node N in run R: the one rule that turns ML Metadata's executions into a node's outcome.

Every orchestrator asks this module, whether it drove the node itself (LocalDagRunner), launched it in
another process (a Beam step, an Airflow task) or resumes a run: the launcher records executions, and
their states mean one thing everywhere:

=====================================  ===========================================================
execution                              outcome
=====================================  ===========================================================
COMPLETE                               COMPLETE
CACHED                                 CACHED (outputs of an earlier execution reused)
CANCELED with custom property skipped  SKIPPED by a false Cond (`by_condition`; not a failure)
CANCELED                               CANCELED
FAILED                                 FAILED (the error text is the custom property `error`)
NEW / RUNNING                          RUNNING
=====================================  ===========================================================

A node's outcome in a run is its successful execution there, if it has one (COMPLETE, CACHED or
skipped: final, a later launch reuses it), else its latest attempt; no execution at all means it was
never launched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from headrace.errors import ExecutorError
from headrace.metadata.store import Metadata
from headrace.metadata.values import filter_string, get_value

if TYPE_CHECKING:
    from headrace.launcher.runs import RunHandle

COMPLETE, CACHED, FAILED, CANCELED, SKIPPED = "COMPLETE", "CACHED", "FAILED", "CANCELED", "SKIPPED"
REUSED, RUNNING = "REUSED", "RUNNING"
SUCCEEDED = (COMPLETE, CACHED, REUSED)


@dataclasses.dataclass
class NodeOutcome:
    """How one node ended in this run."""

    node_id: str
    state: str
    execution_id: int | None = None
    outputs: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # key -> URIs
    error: ExecutorError | None = None
    seconds: float = 0.0
    log: str = ""  # what the step printed, if anything
    # SKIPPED: why. `by_condition`: a Cond was false (for this node or the node whose outputs it
    # needs), which is not a failure; otherwise an upstream node failed.
    reason: str = ""
    by_condition: bool = False
    summary: str = ""  # the one line the step's outputs say about themselves (custom property `summary`)

    @property
    def succeeded(self) -> bool:
        """Completed, cached, reused, or skipped by a false Cond: its downstream nodes may run."""
        return self.state in SUCCEEDED or self.by_condition


def final_state(outcomes: Iterable[NodeOutcome]) -> str:
    """The run's state from its nodes' outcomes: COMPLETE when every node succeeded (a skip by a false
    Cond is not a failure), CANCELED if a node was canceled, else FAILED."""
    found = list(outcomes)
    if any(o.state == CANCELED for o in found):
        return CANCELED
    return COMPLETE if all(o.succeeded for o in found) else FAILED


def outputs_summary(outs: dict[str, list[Any]]) -> str:
    """The `summary` custom properties of a node's outputs (headrace artifacts or MLMD protos)."""
    lines = []
    for arts in outs.values():
        for a in arts:
            if hasattr(a, "get_custom_property"):
                text = a.get_custom_property("summary", "")
            else:
                found = a.custom_properties.get("summary")
                text = found.string_value if found is not None else ""
            if text and text not in lines:
                lines.append(str(text))
    return "; ".join(lines)


def outcome_of(md: Metadata, node_id: str, execution: Any, with_outputs: bool = False) -> NodeOutcome:
    """The outcome an execution records (see the module docstring); `with_outputs` also reads its
    output URIs and their one-line summary from the store."""
    pb, props = md.pb.Execution, execution.custom_properties
    seconds = max(0, execution.last_update_time_since_epoch - execution.create_time_since_epoch) / 1000
    log = str(get_value(props["log"])) if "log" in props else ""
    found = execution.last_known_state
    outcome = NodeOutcome(node_id, RUNNING, execution.id, seconds=seconds, log=log)
    if found == pb.CANCELED and "skipped" in props:
        outcome.state, outcome.by_condition = SKIPPED, True
        outcome.reason = str(get_value(props["skipped"]))
    elif found in (pb.COMPLETE, pb.CACHED):
        outcome.state = COMPLETE if found == pb.COMPLETE else CACHED
    elif found in (pb.FAILED, pb.CANCELED):
        outcome.state = FAILED if found == pb.FAILED else CANCELED
        text = str(get_value(props["error"])) if "error" in props else ""
        outcome.error = _error_from_text(node_id, text, outcome.state)
    if with_outputs and outcome.state in (COMPLETE, CACHED):
        fill_outputs(md, [outcome])
    return outcome


def _error_from_text(node_id: str, text: str, state: str) -> ExecutorError:
    """The error a FAILED or CANCELED execution recorded as 'Type: message\\ntraceback'."""
    first, _, rest = text.partition("\n")
    error_type, sep, message = first.partition(": ")
    if not sep or " " in error_type:
        error_type, message, rest = ("Canceled" if state == CANCELED else "Error"), first, rest
    return ExecutorError(node_id, error_type, message, rest)


def run_executions(md: Metadata, handle: RunHandle, node_id: str) -> list[Any]:
    """The executions of `node_id` in this run, oldest first."""
    found = md.call(md.store.get_executions_by_context, handle.node_contexts[node_id].id)
    run_id = handle.run_id
    mine = [e for e in found if "run_id" in e.custom_properties and get_value(e.custom_properties["run_id"]) == run_id]
    return sorted(mine, key=lambda e: e.id)


def node_outcome(
    md: Metadata, handle: RunHandle, node_id: str, executions: list[Any] | None = None
) -> NodeOutcome | None:
    """What happened to `node_id` in the run: see the module docstring. None if it was never launched.

    Args:
        md: The store.
        handle: The run.
        node_id: The node.
        executions: The node's executions in the run, if the caller read them already.
    """
    found = run_executions(md, handle, node_id) if executions is None else executions
    return _decide(md, node_id, found)


def node_outcomes(md: Metadata, handle: RunHandle) -> dict[str, NodeOutcome | None]:
    """Every node's outcome in the run (one read of the run's executions); None for a node never launched."""
    found = decide_all(md, md.call(md.store.get_executions_by_context, handle.run_context.id))
    return {n.id: found.get(n.id) for n in handle.ir.nodes}


def decide_all(md: Metadata, executions: Iterable[Any]) -> dict[str, NodeOutcome]:
    """The outcome of each node that has executions among `executions` (all of one run), by node id."""
    by_node: dict[str, list[Any]] = {}
    for ex in executions:
        if "node_id" in ex.custom_properties:
            by_node.setdefault(str(get_value(ex.custom_properties["node_id"])), []).append(ex)
    decided = {n: _decide(md, n, sorted(exs, key=lambda e: e.id)) for n, exs in by_node.items()}
    return {n: o for n, o in decided.items() if o is not None}


def outcomes_by_run(md: Metadata, run_ids: list[str]) -> dict[str, dict[str, NodeOutcome]]:
    """Each run's node outcomes (nodes never launched left out), for many runs in one read of the store."""
    import ml_metadata as mlmd

    by_run: dict[str, list[Any]] = {r: [] for r in run_ids}
    if run_ids:
        names = ", ".join(filter_string(r) for r in run_ids)
        options = mlmd.ListOptions(filter_query=f"custom_properties.run_id.string_value IN ({names})")
        for ex in md.call(md.store.get_executions, list_options=options):
            run_id = str(get_value(ex.custom_properties["run_id"]))
            if run_id in by_run:
                by_run[run_id].append(ex)
    return {r: decide_all(md, exs) for r, exs in by_run.items()}


def _decide(md: Metadata, node_id: str, executions: list[Any]) -> NodeOutcome | None:
    if not executions:
        return None
    outcomes = [outcome_of(md, node_id, ex) for ex in executions]
    settled = [o for o in outcomes if o.succeeded]
    return settled[-1] if settled else outcomes[-1]


def fill_outputs(md: Metadata, outcomes: Iterable[NodeOutcome]) -> None:
    """Gives outcomes that know their execution but not its outputs the output URIs and summary."""
    from headrace.launcher.driver import outputs_of

    wanted = [o for o in outcomes if o.execution_id is not None and not o.outputs]
    found = outputs_of(md, [o.execution_id for o in wanted if o.execution_id is not None])
    for outcome in wanted:
        outs = found.get(outcome.execution_id or 0, {})
        outcome.outputs = {k: [a.uri for a in arts] for k, arts in outs.items()}
        outcome.summary = outcome.summary or outputs_summary(outs)
