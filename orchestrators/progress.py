"""Live progress a person can follow, and the end-of-run summary."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from headrace.launcher import NodeOutcome
from headrace.launcher.capture import write_terminal

if TYPE_CHECKING:
    from headrace.orchestrators.result import RunResult

_MARK = {
    "COMPLETE": "done",
    "CACHED": "cached",
    "FAILED": "FAILED",
    "CANCELED": "canceled",
    "SKIPPED": "skipped",
    "REUSED": "reused",
}


class Progress:
    """Prints one line per node event to a stream (stderr by default); silent when quiet."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.total = 0
        self.finished = 0
        self.width = 12

    def _print(self, text: str) -> None:
        if not self.quiet:
            # To the terminal even while steps on threads have fds 1 and 2 pointed at their logs.
            write_terminal(self.stream, text + "\n")

    def start(self, run_id: str, pipeline: str, node_ids: list[str], metadata: str, resumed: bool) -> None:
        """The run's header line."""
        self.total = len(node_ids)
        self.width = max([12] + [len(n) for n in node_ids])
        verb = "resuming" if resumed else "run"
        self._print(f"headrace {verb} {run_id} · pipeline '{pipeline}' · {self.total} nodes · metadata {metadata}")

    def nothing_to_resume(self, run_id: str, metadata: str) -> None:
        """Resuming a run that already completed."""
        self._print(f"run {run_id} already COMPLETE: nothing to resume (metadata {metadata})")

    def _count(self) -> str:
        """[finished/total], the count padded so the node names line up past [9/10]."""
        return f"[{self.finished:>{len(str(self.total))}}/{self.total}]"

    def node_started(self, node_id: str) -> None:
        """A node's executor started."""
        self._print(f"  {self._count()} {node_id:<{self.width}}  running")

    def node_finished(self, outcome: NodeOutcome) -> None:
        """A node ended (done, cached, failed, skipped, reused), with its time and error."""
        self.finished += 1
        mark = _MARK.get(outcome.state, outcome.state)
        line = f"  {self._count()} {outcome.node_id:<{self.width}}  {mark}"
        if outcome.state in ("COMPLETE", "CACHED", "FAILED"):
            line += f"  {outcome.seconds:.2f}s"
        if outcome.error is not None and outcome.state == "FAILED":
            line += f"  {outcome.error.error_type}: {_first_line(outcome.error.message)}"
        if outcome.state == "SKIPPED" and outcome.reason:
            line += f"  ({_first_line(outcome.reason)})"
        self._print(line)

    def node_retrying(self, outcome: NodeOutcome, retry: int, retries: int, delay: float) -> None:
        """A node failed and will be tried again (its retry policy)."""
        error = f"  {outcome.error.error_type}: {_first_line(outcome.error.message)}" if outcome.error else ""
        self._print(
            f"  {self._count()} {outcome.node_id:<{self.width}}  failed  {outcome.seconds:.2f}s{error}"
            f"  (retry {retry} of {retries} in {delay:g}s)"
        )

    def summary(self, result: RunResult) -> None:
        """The end-of-run table, the errors with their original tracebacks, and where to look next."""
        if self.quiet:
            return
        counts: dict[str, int] = {}
        for n in result.nodes.values():
            counts[n.state] = counts.get(n.state, 0) + 1
        parts = ", ".join(f"{v} {_MARK.get(k, k).lower()}" for k, v in sorted(counts.items()))
        lines = [f"run {result.run_id} {result.state} in {result.seconds:.2f}s ({parts})"]
        for n in result.nodes.values():
            outs = _outputs_text(n)
            why = f"  {n.reason}" if n.state == "SKIPPED" and n.reason else ""
            lines.append(f"  {n.node_id:<{self.width}}  {n.state:<9} {n.seconds:6.2f}s  {outs}{why}")
            if n.summary and n.state in ("COMPLETE", "CACHED"):
                lines.append(f"  {'':<{self.width}}  {'':<9} {'':>7}  {n.summary}")
        for n in result.nodes.values():
            if n.error is not None and n.state == "FAILED":
                lines.append("")
                lines.append(str(n.error))
                if n.log:
                    lines.append(f"what '{n.node_id}' printed: {n.log}")
        lines.append(f"outputs under {result.pipeline_root}")
        cli, store = cli_command(), _quoted(result.metadata)
        password_note = " (export MYSQL_PWD=<password> first)" if result.metadata.startswith("mysql://") else ""
        lines.append(f"inspect with: {cli} runs show {result.run_id} --metadata {store}{password_note}")
        if result.state != "COMPLETE":
            lines.append(f"rerun what did not complete with: {cli} run --resume {result.run_id} --metadata {store}")
        self._print("\n".join(lines))


def _outputs_text(outcome: NodeOutcome) -> str:
    """The node's outputs for the summary table. A channel with no artifact is said in words: only a
    resolver completes without outputs, and then it found nothing that qualifies yet (on a first run,
    LatestBlessedModelStrategy has no blessed model to give the Evaluator as a baseline; on a cached re-run
    the blessed model is this run's candidate, which is never its own baseline)."""
    outputs = outcome.outputs
    if outputs and not any(outputs.values()) and outcome.state in ("COMPLETE", "CACHED"):
        if "model_blessing" in outputs or "blessing" in outputs:
            return "nothing resolved: no blessed model to compare with yet"
        return f"nothing resolved: no {' or '.join(outputs)} yet"
    return "; ".join(f"{k}: {', '.join(v) if v else 'none'}" for k, v in outputs.items())


def cli_command() -> str:
    """How to call the `headrace` command from here, in a form that can be pasted: `headrace` when
    that is on PATH (and is this environment's), else the full path of this environment's."""
    import os
    import shutil

    local = os.path.join(os.path.dirname(sys.executable), "headrace")
    found = shutil.which("headrace")
    if found and (not os.path.exists(local) or os.path.realpath(found) == os.path.realpath(local)):
        return "headrace"
    if os.path.exists(local):
        return local
    return f"{sys.executable} -m headrace"


def _quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:160]
