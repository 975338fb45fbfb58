"""The Compare page: two or more runs side by side (parameters, code, node states, output metrics; the
rows that differ marked), from the same facts `headrace runs compare` prints."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from headrace.cli.compare import compare
from headrace.ui.render import error_page, found, page
from headrace.ui.store import Store

MAX_RUNS = 12


def compare_page(request: Request) -> Response:
    """GET /compare?run=A&run=B[&diff=1]"""
    run_ids = list(dict.fromkeys(request.query_params.getlist("run")))
    if not 2 <= len(run_ids) <= MAX_RUNS:
        return error_page(
            request,
            400,
            f"Compare takes 2 to {MAX_RUNS} runs (run=ID&run=ID...), got {len(run_ids)}: "
            "tick them on the runs page and press Compare.",
        )
    only_differences = request.query_params.get("diff") == "1"
    store: Store = request.app.state.store
    with store.reader() as reader:
        for run_id in run_ids:
            found(reader.run, run_id)  # an unknown run is a 404 naming it
        table = compare(reader.md, run_ids)
    rows = [r for r in table["rows"] if r["differs"] or not only_differences]
    sections: dict[str, list] = {}
    for row in rows:
        sections.setdefault(row["section"], []).append(row)
    return page(
        request,
        "compare.html",
        "Compare runs",
        run_ids=run_ids,
        sections=sections,
        differing=sum(r["differs"] for r in table["rows"]),
        total=len(table["rows"]),
        only_differences=only_differences,
    )


ROUTES = [Route("/compare", compare_page, name="compare")]
