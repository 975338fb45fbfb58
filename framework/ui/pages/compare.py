"""The Compare page: two or more runs side by side (parameters, code, node states, output metrics; the
rows that differ marked), from the same facts `headrace runs compare` prints."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from headrace.cli.compare import compare, results
from headrace.ui.charts import line_chart
from headrace.ui.render import error_page, found, page, url
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
        runs = [found(reader.run, run_id) for run_id in run_ids]  # an unknown run is a 404 naming it
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
        charts=_charts(request, runs, table["rows"]),
        pipelines=sorted({r.pipeline_name for r in runs}),
    )


def _charts(request: Request, runs: list, rows: list[dict]) -> list:
    """A chart of each output number that at least two of the runs recorded, the runs oldest first."""
    order = sorted(range(len(runs)), key=lambda i: (runs[i].started_ms, runs[i].context_id))
    charts = []
    for name, values in results([(r["name"], r["values"]) for r in rows if r["section"] == "outputs"]):
        points = [
            (runs[i].run_id, float(values[i]), url(request, "run", run_id=runs[i].run_id))
            for i in order
            if values[i] is not None
        ]
        charts.append(line_chart(name, points))
    return charts


ROUTES = [Route("/compare", compare_page, name="compare")]
