"""InteractiveContext: run components one at a time in a notebook, as TFX's labs do.

Each `run(component)` is a one-node pipeline run against the context's ML Metadata store,
through the same node launcher as every runner (driver, cache check, executor, publisher).
Inputs come from the outputs of components run earlier in this context; after a run, the
component's output channels hold the artifacts it produced (`channel.get()`), and `show`
displays them.
"""

from __future__ import annotations

import dataclasses
import datetime
import html
import os
import tempfile
import time
from typing import Any

from headrace.compiler import PipelineIR, compile_component, runtime_parameters_of
from headrace.dsl import BaseComponent
from headrace.errors import DefinitionError
from headrace.launcher import NodeLauncher, start_run
from headrace.launcher.driver import outputs_of
from headrace.launcher.executor_runner import run_task
from headrace.launcher.outcomes import final_state
from headrace.launcher.parameters import bind
from headrace.launcher.runs import set_run_state
from headrace.metadata.config import describe, sqlite_metadata_connection_config
from headrace.metadata.store import Metadata
from headrace.orchestrators.result import RunResult
from headrace.types import Artifact, Channel


@dataclasses.dataclass
class ExecutionResult:
    """What `InteractiveContext.run` returns.

    Attributes:
        component: The component that ran.
        execution_id: Its execution in ML Metadata.
        state: COMPLETE, CACHED, or SKIPPED (its Cond was false: nothing ran, no outputs).
        run: The one-node run's result.
    """

    component: BaseComponent
    execution_id: int | None
    state: str
    run: RunResult

    @property
    def outputs(self) -> dict[str, list[Artifact]]:
        """The artifacts the component produced (or reused), by output key."""
        return {k: ch.get() for k, ch in self.component.outputs.items()}

    def __repr__(self) -> str:
        outs = ", ".join(f"{k}: {[a.uri for a in v]}" for k, v in self.outputs.items())
        return f"ExecutionResult({self.component.id}, execution {self.execution_id}, {self.state}, {outs})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{_html(a)}</td></tr>" for k, v in self.outputs.items() for a in v
        )
        return (
            f"<div><b>{html.escape(self.component.id)}</b> ({html.escape(self.component.type)}): "
            f"<b>{html.escape(self.state)}</b>, execution #{self.execution_id}, {self.run.seconds:.2f}s"
            f"<table>{rows}</table></div>"
        )


class InteractiveContext:
    """Runs components one at a time (in a notebook), TFX's `InteractiveContext`.

    Args:
        pipeline_name: Name the runs are recorded under (default: 'interactive-<time>').
        pipeline_root: Where outputs go (default: a new temporary directory).
        metadata_connection_config: The ML Metadata store (default: SQLite under the root).
        beam_pipeline_args: Arguments for Beam-based executors.
        executor_mode: 'inprocess' (default: the kernel runs the code, so prints show in the
            cell and a debugger works) or 'process' (a worker process per run).
    """

    def __init__(
        self,
        pipeline_name: str | None = None,
        pipeline_root: str | os.PathLike[str] | None = None,
        metadata_connection_config: Any = None,
        beam_pipeline_args: list[str] | None = None,
        executor_mode: str = "inprocess",
    ):
        if executor_mode not in ("inprocess", "process"):
            raise DefinitionError(f"executor_mode must be 'inprocess' or 'process', got {executor_mode!r}.")
        self.pipeline_name = pipeline_name or "interactive-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.pipeline_root = os.path.abspath(
            os.fspath(pipeline_root) if pipeline_root else tempfile.mkdtemp(prefix=f"headrace-{self.pipeline_name}-")
        )
        self.metadata_connection_config = metadata_connection_config or sqlite_metadata_connection_config(
            os.path.join(self.pipeline_root, "metadata.sqlite")
        )
        self.beam_pipeline_args = list(beam_pipeline_args or [])
        self.executor_mode = executor_mode
        self._md: Metadata | None = None
        self._ran: dict[int, tuple[BaseComponent, int]] = {}  # id(component) -> (component, execution id)

    @property
    def metadata(self) -> Metadata:
        """The context's store, opened on first use."""
        if self._md is None:
            self._md = Metadata(self.metadata_connection_config)
        return self._md

    def run(
        self, component: BaseComponent, enable_cache: bool = True, beam_pipeline_args: list[str] | None = None
    ) -> ExecutionResult:
        """Runs one component on the outputs of components run earlier in this context.

        Raises:
            DefinitionError: an input's producer has not been run in this context.
            PipelineRunError: the component failed (its error and traceback are in the message).
        """
        if not isinstance(component, BaseComponent):
            raise DefinitionError(f"InteractiveContext.run expects a component, got {type(component).__name__}.")
        started, started_ms = time.perf_counter(), int(time.time() * 1000)
        upstream = self._upstream_executions(component)
        node = compile_component(component)
        ir = PipelineIR(
            pipeline_name=self.pipeline_name,
            pipeline_root=self.pipeline_root,
            nodes=(node,),
            metadata_connection=None,
            enable_cache=enable_cache,
            beam_pipeline_args=tuple(beam_pipeline_args or self.beam_pipeline_args),
            runtime_parameters=runtime_parameters_of([component]),
        )
        ir, values = bind(ir, None)  # a RuntimeParameter takes its default here
        md = self.metadata
        handle = start_run(
            md,
            ir,
            f"{self.pipeline_name}-{started_ms}-{node.id}",
            started_ms,
            parameters=values,
            started_by="InteractiveContext",
        )
        handle.published.update(upstream)
        launcher = NodeLauncher(md, handle, enable_cache=None if enable_cache else False)
        outcome = launcher.launch(node.id, execute=self._execute)
        state = final_state([outcome])
        set_run_state(md, handle, state)
        seconds = time.perf_counter() - started
        result = RunResult(
            handle.run_id, ir.pipeline_name, state, {node.id: outcome}, ir.pipeline_root, describe(md.config), seconds
        )
        result.raise_for_failure()
        assert outcome.execution_id is not None
        self._ran[id(component)] = (component, outcome.execution_id)
        produced = outputs_of(md, [outcome.execution_id]).get(outcome.execution_id, {})
        for key, channel in component.outputs.items():
            channel.set_artifacts([md.artifact_from_proto(a) for a in produced.get(key, [])])
        return ExecutionResult(component, outcome.execution_id, outcome.state, result)

    def _execute(self, task: Any) -> Any:
        if self.executor_mode == "inprocess":
            return run_task(task)
        from headrace.launcher.worker import WorkerPool

        pool = WorkerPool(1)
        try:
            return pool.run(task)
        finally:
            pool.close()

    def _upstream_executions(self, component: BaseComponent) -> dict[str, int]:
        found: dict[str, int] = {}
        for key, channel in component.inputs.items():
            producer = channel.producer
            if producer is None:
                continue
            ran = self._ran.get(id(producer))
            if ran is None:
                raise DefinitionError(
                    f"Input '{key}' of '{component.id}' comes from '{producer.id}', which has not been run in this "
                    f"context. Run it first: context.run({producer.id.lower()})."
                )
            found[producer.id] = ran[1]
        for up in component.upstream_nodes:
            if id(up) in self._ran:
                found.setdefault(up.id, self._ran[id(up)][1])
        return found

    def show(self, item: Any) -> None:
        """Displays an artifact, a channel's artifacts, a run's result or a component's outputs:
        rich HTML in a notebook, text elsewhere.

        An artifact whose directory holds an HTML report (`report.html`, written by the data
        components) shows that report inline, in a sandboxed frame, below its summary; outside a
        notebook its `file://` URL is printed.
        """
        if isinstance(item, BaseComponent):
            parts = [ch for ch in item.outputs.values()]
        elif isinstance(item, Channel):
            parts = [item]
        else:
            parts = [item]
        for part in parts:
            if isinstance(part, Channel):
                artifacts = part.get() if part.resolved else []  # before the run: only the placeholder
                if not artifacts:
                    _display_text(f"{part!r}: no artifacts yet; run its producer with context.run(...) first.")
                for art in artifacts:
                    _display(art)
                    _display_report(art)
            else:
                _display(part)
                if isinstance(part, ExecutionResult):  # and the reports of what it produced
                    for artifacts in part.outputs.values():
                        for art in artifacts:
                            _display_report(art)
                else:
                    _display_report(part)


def _html(obj: Any) -> str:
    render = getattr(obj, "_repr_html_", None)
    return str(render()) if callable(render) else html.escape(repr(obj))


def _display(obj: Any) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display

        in_notebook = get_ipython() is not None
    except ImportError:
        in_notebook = False
    if in_notebook and hasattr(obj, "_repr_html_"):
        display(HTML(_html(obj)))
        return
    _display_text(repr(obj))


def _display_text(text: str) -> None:
    print(text)


_REPORT_NAME = "report.html"  # written at the top of an artifact's URI by headrace.components.reports.write_report
_REPORT_HEIGHT = 600  # pixels: a screenful of the report, which scrolls inside its frame


def _display_report(obj: Any) -> None:
    """The artifact's HTML report, if it has one: inline in a notebook, its URL elsewhere."""
    uri = getattr(obj, "uri", None) if isinstance(obj, Artifact) else None
    path = os.path.join(uri, _REPORT_NAME) if uri else None
    if path is None or not os.path.isfile(path):
        return
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display

        in_notebook = get_ipython() is not None
    except ImportError:
        in_notebook = False
    if not in_notebook:
        import pathlib

        _display_text(f"report: {pathlib.Path(path).resolve().as_uri()}")
        return
    with open(path, encoding="utf-8") as f:
        display(HTML(_report_frame(f.read())))


def _report_frame(report_html: str, height: int = _REPORT_HEIGHT) -> str:
    """An iframe holding a whole HTML document: it keeps the report's CSS out of the notebook's,
    and the empty sandbox lets it run nothing (the reports need no scripts). The div around it
    keeps IPython from warning that a bare iframe could be an IPython.display.IFrame (a URL,
    which a notebook served from elsewhere could not load)."""
    return (
        f'<div class="headrace-report"><iframe srcdoc="{html.escape(report_html, quote=True)}" sandbox="" '
        f'style="width:100%;height:{height}px;border:1px solid #ddd"></iframe></div>'
    )


__all__ = ["ExecutionResult", "InteractiveContext"]
