"""An artifact's lineage across runs, as a graph: the executions that produced it and its inputs,
upstream, and those that consumed it and what they made, downstream (`MetadataReader.lineage_graph`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from headrace.ui.graph import GraphNode, GraphUnavailableError, draw
from headrace.ui.render import error_page, found, page, state_class, url
from headrace.ui.store import Store

DEPTH, MAX_DEPTH = 3, 10
MAX_NODES = 200


def lineage_page(request: Request) -> Response:
    """GET /lineage/{artifact_id}?depth="""
    artifact_id = request.path_params["artifact_id"]
    text = request.query_params.get("depth", str(DEPTH))
    if not text.isdigit() or not 1 <= int(text) <= MAX_DEPTH:
        return error_page(request, 400, f"'depth' must be a whole number from 1 to {MAX_DEPTH}, got {text!r}.")
    depth = int(text)
    store: Store = request.app.state.store
    with store.reader() as reader:
        graph = found(reader.lineage_graph, artifact_id, depth, MAX_NODES)
    nodes = []
    for a in graph.artifacts.values():
        focus = " focus" if a.id == graph.root else ""
        nodes.append(
            GraphNode(
                f"a{a.id}",
                (f"{a.type_name} #{a.id}", a.state),
                shape="note",
                css=f"artifact {state_class(a.state)}{focus}",
                link=url(request, "artifact", artifact_id=a.id),
            )
        )
    for e in graph.executions.values():
        nodes.append(
            GraphNode(
                f"e{e.id}",
                (e.node_id, f"run {e.properties.get('run_id', '?')}"),
                css=f"execution {state_class(e.state)}",
                link=url(request, "execution", execution_id=e.id),
            )
        )
    try:
        svg, graph_error = draw(nodes, sorted(graph.edges)), None
    except GraphUnavailableError as e:
        svg, graph_error = None, str(e)
    runs = sorted({str(e.properties.get("run_id", "")) for e in graph.executions.values()} - {""})
    return page(
        request,
        "lineage.html",
        f"Lineage of #{artifact_id}",
        root=graph.artifacts[graph.root],
        graph=graph,
        svg=svg,
        graph_error=graph_error,
        runs=runs,
        depth=depth,
        deeper=url(request, "lineage", {"depth": depth + 1}, artifact_id=artifact_id) if depth < MAX_DEPTH else None,
    )


ROUTES = [Route("/lineage/{artifact_id:int}", lineage_page, name="lineage")]
