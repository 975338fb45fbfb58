"""The outcome of a run, as every runner returns it."""

from __future__ import annotations

import dataclasses

from headrace.errors import ExecutorError, run_error
from headrace.launcher.outcomes import NodeOutcome


@dataclasses.dataclass
class RunResult:
    """The outcome of a run.

    Attributes:
        run_id: The run's id (its pipeline_run context name in ML Metadata).
        pipeline_name: The pipeline.
        state: COMPLETE, FAILED or CANCELED.
        nodes: Per-node outcome; states are COMPLETE, CACHED, FAILED, CANCELED,
            SKIPPED (not started: a Cond was false, `by_condition` and not a failure, or an upstream
            node failed; `reason` says which) or REUSED (completed earlier in a resumed run).
        pipeline_root: Where outputs live.
        metadata: Where the ML Metadata store is.
        seconds: Wall time.
    """

    run_id: str
    pipeline_name: str
    state: str
    nodes: dict[str, NodeOutcome]
    pipeline_root: str
    metadata: str
    seconds: float

    @property
    def succeeded(self) -> bool:
        """Whether every node completed (or was cached, reused, or skipped by a false Cond)."""
        return self.state == "COMPLETE"

    @property
    def node_states(self) -> dict[str, str]:
        """Node id -> state."""
        return {k: v.state for k, v in self.nodes.items()}

    @property
    def errors(self) -> list[ExecutorError]:
        """The errors of the nodes that failed."""
        return [n.error for n in self.nodes.values() if n.error is not None and n.state == "FAILED"]

    def raise_for_failure(self) -> None:
        """Raises :class:`PipelineRunError` (naming the first failed node and its error, and
        carrying this result) if the run did not complete; it is also an instance of the failed
        executor's exception class when that class can be found (`headrace.errors.run_error`)."""
        if not self.succeeded:
            failed = [n for n in self.nodes.values() if n.state == "FAILED" and n.error is not None]
            first = failed[0] if failed else None
            raise run_error(self, first.node_id if first else None, first.error if first else None)

    def _repr_html_(self) -> str:
        """A notebook view: the run, then one row per node with its state, time and outputs."""
        from html import escape

        rows = "".join(
            f"<tr><td>{escape(n.node_id)}</td><td>{escape(n.state)}{_reason_html(n.reason)}</td><td>{n.seconds:.2f}s</td>"
            f"<td>{'<br>'.join(escape(f'{k}: {u}') for k, uris in n.outputs.items() for u in uris)}</td></tr>"
            for n in self.nodes.values()
        )
        errors = "".join(f"<pre>{escape(str(e))}</pre>" for e in self.errors)
        return (
            f"<div><b>run {escape(self.run_id)}</b> of '{escape(self.pipeline_name)}': <b>{escape(self.state)}</b> "
            f"in {self.seconds:.2f}s<table><tr><th>node</th><th>state</th><th>time</th><th>outputs</th></tr>"
            f"{rows}</table>{errors}</div>"
        )


def _reason_html(reason: str) -> str:
    from html import escape

    return f"<br><small>{escape(reason)}</small>" if reason else ""
