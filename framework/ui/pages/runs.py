"""The Runs page: every run of every pipeline in the store, newest first, a page at a time."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from headrace.launcher.outcomes import CACHED, CANCELED, COMPLETE, FAILED, SKIPPED, outcomes_by_run
from headrace.ui.render import error_page, page, url

RUN_STATES = ("RUNNING", COMPLETE, FAILED, CANCELED)
PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def _int_arg(request: Request, name: str) -> int | None:
    text = request.query_params.get(name, "")
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(f"'{name}' must be a whole number, got {text!r}.")
    return int(text)


def runs_page(request: Request) -> Response:
    """GET /runs?pipeline=&state=&before=&after=&limit="""
    pipeline = request.query_params.get("pipeline") or None
    state = request.query_params.get("state") or None
    if state is not None and state not in RUN_STATES:
        return error_page(request, 400, f"Unknown run state {state!r}: use one of {', '.join(RUN_STATES)}.")
    try:
        before, after, limit = _int_arg(request, "before"), _int_arg(request, "after"), _int_arg(request, "limit")
    except ValueError as e:
        return error_page(request, 400, str(e))
    limit = min(max(limit or PAGE_SIZE, 1), MAX_PAGE_SIZE)
    store = request.app.state.store
    with store.reader() as reader:
        pipelines = reader.pipelines()
        found, more = reader.runs_page(pipeline, state, before, after, limit)
        outcomes = outcomes_by_run(reader.md, [r.run_id for r in found])
        rows = []
        for r in found:
            states = [o.state for o in outcomes[r.run_id].values()]
            rows.append(
                {
                    "run": r,
                    "nodes": store.node_count(reader, r.run_id),
                    "done": states.count(COMPLETE),
                    "cached": states.count(CACHED),
                    "failed": states.count(FAILED) + states.count(CANCELED),
                    "skipped": states.count(SKIPPED),
                }
            )
    filters = {"pipeline": pipeline, "state": state, "limit": limit if limit != PAGE_SIZE else None}
    # Paging to older runs: more lie beyond unless this page came from `after`; newer: the reverse.
    older = more if after is None else True
    newer = (before is not None) if after is None else more
    links = {
        "older": url(request, "runs", {**filters, "before": found[-1].context_id}) if found and older else None,
        "newer": url(request, "runs", {**filters, "after": found[0].context_id}) if found and newer else None,
        "newest": url(request, "runs", filters) if before is not None or after is not None else None,
    }
    return page(
        request,
        "runs.html",
        "Runs",
        rows=rows,
        pipelines=pipelines,
        states=RUN_STATES,
        pipeline=pipeline or "",
        state=state or "",
        links=links,
    )


def home(request: Request) -> Response:
    """GET / : the runs page."""
    return RedirectResponse(url(request, "runs"), status_code=307)


ROUTES = [Route("/", home, name="home"), Route("/runs", runs_page, name="runs")]
