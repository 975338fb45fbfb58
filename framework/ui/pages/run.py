"""A run's page: its DAG with each node's state, its nodes, parameters and code fingerprints, and for a
failed run what failed, why, the end of its log and the resume command. While the run is in progress
the page's script polls the small JSON status (`/api/status/{run_id}`) and updates in place."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from headrace.compiler.ir import PipelineIR
from headrace.errors import MetadataError, NotInStoreError
from headrace.launcher.outcomes import CANCELED, FAILED, RUNNING, NodeOutcome, outcomes_by_run
from headrace.metadata import MetadataReader, RunInfo
from headrace.ui.files import read_tail
from headrace.ui.graph import GraphUnavailableError, dag_svg
from headrace.ui.render import duration, found, page, url
from headrace.ui.store import Store

LOG_TAIL_LINES = 40
_LOG_TAIL_BYTES = 64 * 1024


def node_text(outcome: NodeOutcome | None) -> tuple[str, str]:
    """A node's (state, short text) for the graph and the status: 'COMPLETE 0.42s', 'CACHED', 'not run'."""
    if outcome is None:
        return "NOTRUN", "not run"
    if outcome.state in (RUNNING, "CACHED", "SKIPPED"):
        return outcome.state, outcome.state
    return outcome.state, f"{outcome.state} {duration(outcome.seconds)}"


def _read(store: Store, reader: MetadataReader, run_id: str) -> tuple[RunInfo, PipelineIR, dict[str, NodeOutcome]]:
    """The run, its IR and its nodes' outcomes; NotInStoreError if there is no such run."""
    info = reader.run(run_id)
    return info, store.run_ir(reader, run_id), outcomes_by_run(reader.md, [run_id])[run_id]


def _status(request: Request, info: RunInfo, ir: PipelineIR, outcomes: dict[str, NodeOutcome]) -> dict[str, Any]:
    """What the page shows of a run that changes while it runs."""
    nodes = []
    for i, node in enumerate(ir.nodes):
        outcome = outcomes.get(node.id)
        state, text = node_text(outcome)
        execution = outcome.execution_id if outcome is not None else None
        nodes.append(
            {
                "index": i,
                "id": node.id,
                "state": state,
                "text": text,
                "seconds": outcome.seconds if outcome is not None and outcome.state != RUNNING else None,
                "execution": url(request, "execution", execution_id=execution) if execution else None,
            }
        )
    return {
        "run_id": info.run_id,
        "state": info.state,
        "in_progress": info.state == RUNNING,
        "duration": duration(info.seconds),
        "nodes": nodes,
    }


def _log_tail(root: str, log: str) -> str | None:
    """The last lines of a step's log."""
    text = read_tail(root, log, _LOG_TAIL_BYTES)
    return "\n".join(text.splitlines()[-LOG_TAIL_LINES:]) if text is not None else None


def run_page(request: Request) -> Response:
    """GET /runs/{run_id}"""
    run_id = request.path_params["run_id"]
    store: Store = request.app.state.store
    with store.reader() as reader:
        info, ir, outcomes = found(_read, store, reader, run_id)
        status = _status(request, info, ir, outcomes)
        attempts: dict[str, int] = {}
        for execution in reader.executions(run_id):
            attempts[execution.node_id] = attempts.get(execution.node_id, 0) + 1
        root = store.pipeline_root(reader, run_id)
    states = {n["id"]: (n["state"], n["text"]) for n in status["nodes"]}
    try:
        svg, graph_error = dag_svg(ir, states), None
    except GraphUnavailableError as e:
        svg, graph_error = None, str(e)
    failures = []
    for node in ir.nodes:
        outcome = outcomes.get(node.id)
        if outcome is not None and outcome.state in (FAILED, CANCELED):
            failures.append({"outcome": outcome, "log_tail": _log_tail(root, outcome.log)})
    nodes = []
    for node, shown in zip(ir.nodes, status["nodes"], strict=True):
        code = node.executor.get("code")
        nodes.append(
            {
                **shown,
                "component_type": node.component_type,
                "attempts": attempts.get(node.id, 0),
                "code": str(code)[:12] if code else "",
                "parameters": node.parameters,
            }
        )
    return page(
        request,
        "run.html",
        f"Run {run_id}",
        info=info,
        ir=ir,
        status=status,
        nodes=nodes,
        svg=svg,
        graph_error=graph_error,
        failures=failures,
        resume=f"headrace run --resume {run_id} --metadata {store.describe()}",
        status_url=url(request, "run_status", run_id=run_id),
    )


def run_status(request: Request) -> Response:
    """GET /api/status/{run_id}: the run's state and each node's, for the page's live updates."""
    store: Store = request.app.state.store
    with store.reader() as reader:
        try:
            status = _status(request, *_read(store, reader, request.path_params["run_id"]))
        except MetadataError as e:  # no such run (404), or the store cannot be read now (503)
            return JSONResponse({"error": str(e)}, status_code=404 if isinstance(e, NotInStoreError) else 503)
    return JSONResponse(status, headers={"cache-control": "no-store"})


ROUTES = [
    Route("/runs/{run_id:path}", run_page, name="run"),
    Route("/api/status/{run_id:path}", run_status, name="run_status"),
]
