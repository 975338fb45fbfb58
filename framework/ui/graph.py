"""A pipeline's DAG as SVG, laid out by Graphviz's `dot` (Debian's graphviz package).

The layout depends only on the pipeline's shape (its nodes, their types and edges), so it is drawn once
per shape and cached; a page then marks each node's state in the cached drawing. Node `i` (in the
IR's order) is the SVG group `id="node_i"`; its last text line is the state slot, which the page's
script rewrites while a run is in progress. Names go into the DOT source as quoted strings with
backslashes and quotes escaped, and `dot` escapes them again as XML text in the SVG.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import re
import shutil
import subprocess

from headrace.compiler.ir import PipelineIR

_DOT_TIMEOUT_S = 20
_SLOT = "~stateslot{:04d}~~~"  # as wide as a state and a time ("COMPLETE 12.34s"): the box fits both
_SLOT_RE = re.compile(r"~stateslot(\d{4})~~~")
INSTALL_HINT = "install Graphviz (Debian: apt-get install graphviz, or bash scripts/services.sh graphviz)"


class GraphUnavailableError(Exception):
    """The DAG cannot be drawn here (no `dot`, or it failed); the message says why and what to do."""


def _dot_string(text: str) -> str:
    """`text` as a DOT quoted string that `dot` shows literally (no \\N, \\G or \\n escapes)."""
    flat = " ".join(text.split())
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclasses.dataclass(frozen=True)
class GraphNode:
    """A node to draw: its DOT name (letters, digits, '_'; also its SVG group's id), its text lines, its
    shape, CSS classes on its SVG group, and the page it links to."""

    key: str
    lines: tuple[str, ...]
    shape: str = "box"
    css: str = ""
    link: str | None = None


def dot_graph(nodes: list[GraphNode], edges: list[tuple[str, str]]) -> str:
    """The DOT description of a graph of `nodes` and `edges` (pairs of keys), left to right."""
    lines = [
        "digraph g {",
        '  graph [rankdir=LR, bgcolor="transparent", nodesep=0.3, ranksep=0.5, fontname="DejaVu Sans"];',
        '  node [shape=box, style="rounded,filled", fillcolor="#f4f4f4", color="#888888", '
        'fontname="DejaVu Sans", fontsize=11, margin="0.15,0.06"];',
        '  edge [color="#888888", arrowsize=0.7];',
    ]
    for node in nodes:
        label = "\\n".join(_dot_string(part)[1:-1] for part in node.lines)
        extra = f", URL={_dot_string(node.link)}, tooltip={_dot_string(node.lines[0])}" if node.link else ""
        css = "".join(c for c in node.css if c.isalnum() or c in " -_")
        lines.append(f'  {node.key} [id="{node.key}", label="{label}", shape={node.shape}, class="{css}"{extra}];')
    lines += [f"  {a} -> {b};" for a, b in edges]
    lines.append("}")
    return "\n".join(lines)


def draw(nodes: list[GraphNode], edges: list[tuple[str, str]]) -> str:
    """The SVG of a graph (see GraphNode).

    Raises:
        GraphUnavailableError: no `dot` here, or it failed.
    """
    return _layout(dot_graph(nodes, edges))


def dot_source(ir: PipelineIR) -> str:
    """The DOT description of the pipeline's graph; node i's third line is its state slot."""
    index = {n.id: i for i, n in enumerate(ir.nodes)}
    # The component's class name only, and only when the node's id does not say it (the module path is in
    # the page's table): narrow boxes, a readable graph.
    nodes = []
    for i, n in enumerate(ir.nodes):
        kind = n.component_type.rpartition(".")[2]
        nodes.append(GraphNode(f"node_{i}", (n.id, _SLOT.format(i)) if kind == n.id else (n.id, kind, _SLOT.format(i))))
    edges = [(f"node_{index[u]}", f"node_{i}") for i, n in enumerate(ir.nodes) for u in n.upstream if u in index]
    return dot_graph(nodes, edges)


def dag_svg(ir: PipelineIR, states: dict[str, tuple[str, str]]) -> str:
    """The SVG of the pipeline's DAG, each node marked with its (state, text) from `states` (node id ->
    state name and the text shown under the node); nodes not in `states` are NOTRUN.

    Raises:
        GraphUnavailableError: no `dot` here, or it failed.
    """
    svg = _layout(dot_source(ir))
    ids = [n.id for n in ir.nodes]

    def slot(match: re.Match[str]) -> str:
        return html.escape(states.get(ids[int(match.group(1))], ("NOTRUN", "not run"))[1])

    def group(match: re.Match[str]) -> str:
        i = int(match.group(1))
        state = states.get(ids[i], ("NOTRUN", ""))[0]
        cls = "".join(c for c in state if c.isalpha()).upper() or "NOTRUN"
        return f'<g id="node_{i}" class="node state-{cls}"'

    svg = re.sub(r'<g id="node_(\d+)" class="node ?"', group, svg)
    return _SLOT_RE.sub(slot, svg)


@functools.lru_cache(maxsize=128)
def _layout(source: str) -> str:
    """`dot -Tsvg` of `source`, without the XML prolog and doctype (the SVG goes inline in a page)."""
    dot = shutil.which("dot")
    if dot is None:
        raise GraphUnavailableError(f"Graphviz's dot was not found on PATH: {INSTALL_HINT}.")
    try:
        result = subprocess.run([dot, "-Tsvg"], input=source, capture_output=True, text=True, timeout=_DOT_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise GraphUnavailableError(f"Graphviz's dot did not draw the graph: {e}") from None
    if result.returncode != 0:
        raise GraphUnavailableError(f"Graphviz's dot failed (exit {result.returncode}): {result.stderr.strip()[:500]}")
    start = result.stdout.find("<svg")
    if start < 0:
        raise GraphUnavailableError("Graphviz's dot wrote no SVG.")
    svg = result.stdout[start:]
    # No comments (they carry dot's version) and a class to style by.
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    return svg.replace("<svg ", '<svg class="dag" role="img" ', 1)
