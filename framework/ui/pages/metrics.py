"""Metrics over runs: a pipeline's numbers (training and evaluation metrics, row counts, pushed versions:
the numeric outputs `headrace runs compare` reads) plotted over its runs, oldest to newest: the
experiment-tracking view."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from headrace.cli.compare import results, run_facts
from headrace.ui.charts import line_chart
from headrace.ui.render import error_page, page, url
from headrace.ui.store import Store

RUNS, MAX_RUNS = 50, 200


def metrics_page(request: Request) -> Response:
    """GET /metrics?pipeline=NAME&limit=50"""
    pipeline = request.query_params.get("pipeline", "")
    text = request.query_params.get("limit", str(RUNS))
    if not text.isdigit() or not 1 <= int(text) <= MAX_RUNS:
        return error_page(request, 400, f"'limit' must be a whole number from 1 to {MAX_RUNS}, got {text!r}.")
    store: Store = request.app.state.store
    with store.reader() as reader:
        pipelines = reader.pipelines()
        if not pipeline:
            return page(request, "metrics.html", "Metrics over runs", pipelines=pipelines, pipeline="", charts=[])
        if pipeline not in pipelines:
            return error_page(request, 404, f"No pipeline {pipeline!r} in {store.describe()}.")
        runs, _more = reader.runs_page(pipeline, None, limit=int(text))
        facts = [(r, run_facts(reader.md, r.run_id)["outputs"]) for r in reversed(runs)]  # oldest first
    names = sorted({name for _r, outputs in facts for name, v in outputs.items() if numeric(v)})
    charts = []
    for name, values in results([(n, [outputs.get(n) for _r, outputs in facts]) for n in names]):
        points = [
            (r.run_id, float(v), url(request, "run", run_id=r.run_id))
            for (r, _outputs), v in zip(facts, values, strict=True)
            if v is not None
        ]
        charts.append(line_chart(name, points))
    return page(
        request, "metrics.html", f"Metrics of {pipeline}", pipelines=pipelines, pipeline=pipeline, charts=charts
    )


def numeric(value: object) -> bool:
    """A number to plot (a bool is not one)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


ROUTES = [Route("/metrics", metrics_page, name="metrics")]
