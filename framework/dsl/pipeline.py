"""`Pipeline`: a named set of components, validated when it is constructed."""

from __future__ import annotations

import heapq
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

from headrace.dsl.base_component import BaseComponent, checked_arguments
from headrace.errors import DefinitionError

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class Pipeline:
    """A pipeline definition.

    Components reachable upstream of the listed ones (through input channels or
    `add_upstream_node`) are added automatically, so listing the last component is enough.

    Args:
        pipeline_name: Letters, digits, '_', '.', '-'.
        pipeline_root: Directory under which outputs (and, by default, the SQLite
            metadata store) live.
        components: The components (order does not matter).
        metadata_connection_config: An ML Metadata ConnectionConfig (see
            `headrace.metadata`); default: SQLite at `{pipeline_root}/metadata.sqlite`.
        enable_cache: Reuse results of identical earlier executions (default True: the cache key
            covers the code, parameters and input artifacts; TFX's default is False). Turn it off
            per component with `.with_enable_cache(False)`, or for a run with `--no-cache`.
        beam_pipeline_args: Arguments for Beam-based executors.
        default_image: A Docker image every function and custom component runs in (as with
            `component.with_image(...)`) unless it sets its own.
        exit_handler: A component that runs after every other node, whatever happened to them
            (TFX's exit handler, KFP's `dsl.ExitHandler`, Airflow's all_done). Give a str
            parameter of it `FinalStatusStr()` to receive the run's final status as JSON. It takes
            no inputs from the pipeline's nodes.

    Raises:
        DefinitionError: on a bad name, a duplicate component id or a cycle.
    """

    @checked_arguments  # an unknown argument is a DefinitionError naming the near miss
    def __init__(
        self,
        pipeline_name: str,
        pipeline_root: str | os.PathLike[str],
        components: Sequence[BaseComponent] = (),
        metadata_connection_config: Any = None,
        enable_cache: bool = True,
        beam_pipeline_args: Sequence[str] | None = None,
        default_image: str | None = None,
        exit_handler: BaseComponent | None = None,
    ):
        if not isinstance(pipeline_name, str) or not _NAME_RE.match(pipeline_name):
            raise DefinitionError(
                f"Invalid pipeline_name {pipeline_name!r}: use letters, digits, '_', '.', '-' (at most 100)."
            )
        if not isinstance(pipeline_root, (str, os.PathLike)) or not str(pipeline_root) or "\0" in str(pipeline_root):
            raise DefinitionError(f"pipeline_root must be a directory path, got {pipeline_root!r}.")
        if metadata_connection_config is not None and not hasattr(metadata_connection_config, "WhichOneof"):
            raise DefinitionError(
                "metadata_connection_config must be an ML Metadata ConnectionConfig, e.g. "
                "headrace.metadata.sqlite_metadata_connection_config(path); "
                f"got {type(metadata_connection_config).__name__}."
            )
        self.pipeline_name = pipeline_name
        self.pipeline_root = os.fspath(pipeline_root)
        self.metadata_connection_config = metadata_connection_config
        self.enable_cache = bool(enable_cache)
        self.beam_pipeline_args = list(beam_pipeline_args or [])
        if default_image is not None and (not isinstance(default_image, str) or not default_image.strip()):
            raise DefinitionError(
                f"default_image must be an image reference like 'headrace-runtime:1.0', got {default_image!r}."
            )
        self.default_image = default_image
        self.components = sort_components(components)
        self.exit_handler: BaseComponent | None = None
        if exit_handler is not None:
            self.set_exit_handler(exit_handler)

    def set_exit_handler(self, component: BaseComponent | Sequence[BaseComponent]) -> None:
        """Makes `component` the pipeline's exit handler (see the `exit_handler` argument; TFX's list
        of one component is taken too).

        Raises:
            DefinitionError: it is not a component, is one of the pipeline's nodes, or reads their outputs.
        """
        component = one_exit_handler(component)
        if any(c is component for c in self.components):
            raise DefinitionError(
                f"The exit handler '{component.id}' is also a node of the pipeline: leave it out of the components."
            )
        if component.upstream_nodes:
            raise DefinitionError(
                f"The exit handler '{component.id}' reads the outputs of "
                f"{', '.join(repr(u.id) for u in component.upstream_nodes)} or runs after them: it runs after every "
                "node whatever happened, so it takes no inputs from them (give it FinalStatusStr() for the run's "
                "status)."
            )
        if any(c.id == component.id for c in self.components):
            raise DefinitionError(
                f"The exit handler's id '{component.id}' is taken by a node of the pipeline; give it another "
                "with .with_id('...')."
            )
        self.exit_handler = component

    def __repr__(self) -> str:
        return f"Pipeline({self.pipeline_name!r}, {len(self.components)} components)"


def one_exit_handler(component: BaseComponent | Sequence[BaseComponent]) -> BaseComponent:
    """The one component given as an exit handler (a component, or TFX's list of one)."""
    if isinstance(component, (list, tuple)) and len(component) == 1:
        component = component[0]
    if not isinstance(component, BaseComponent):
        raise DefinitionError(f"An exit handler is one component, got {component!r} ({type(component).__name__}).")
    return component


def sort_components(components: Iterable[BaseComponent]) -> list[BaseComponent]:
    """All components reachable upstream, topologically sorted (stable), checked for
    duplicate ids and cycles."""
    if isinstance(components, (str, bytes)) or not isinstance(components, Iterable):
        raise DefinitionError(f"Pipeline components must be a list of components, got {components!r}.")
    listed = list(components)
    for c in listed:
        if not isinstance(c, BaseComponent):
            raise DefinitionError(f"Pipeline components must be components, got {c!r} ({type(c).__name__}).")
    # Collect the closure, keeping first-seen order; each node's upstream list is computed once.
    order: list[BaseComponent] = []
    ups: dict[int, list[BaseComponent]] = {}
    stack = list(reversed(listed))
    while stack:
        c = stack.pop()
        if id(c) in ups:
            continue
        ups[id(c)] = c.upstream_nodes
        order.append(c)
        stack.extend(reversed(ups[id(c)]))
    by_id: dict[str, BaseComponent] = {}
    for c in order:
        other = by_id.setdefault(c.id, c)
        if other is not c:
            raise DefinitionError(
                f"Two components have the id '{c.id}' ({type(other).__name__} and {type(c).__name__}). "
                f"Give one a unique id with .with_id('...')."
            )
    _check_acyclic(order, ups)
    # Kahn's algorithm; ties broken by first-seen position so the order is stable.
    position = {id(c): i for i, c in enumerate(order)}
    indegree = {id(c): len(ups[id(c)]) for c in order}
    downstream: dict[int, list[BaseComponent]] = {id(c): [] for c in order}
    for c in order:
        for up in ups[id(c)]:
            downstream[id(up)].append(c)
    ready = [(position[id(c)], id(c), c) for c in order if indegree[id(c)] == 0]
    heapq.heapify(ready)
    result: list[BaseComponent] = []
    while ready:
        _, _, c = heapq.heappop(ready)
        result.append(c)
        for d in downstream[id(c)]:
            indegree[id(d)] -= 1
            if indegree[id(d)] == 0:
                heapq.heappush(ready, (position[id(d)], id(d), d))
    return result


def _check_acyclic(nodes: list[BaseComponent], ups: dict[int, list[BaseComponent]]) -> None:
    white, grey, black = 0, 1, 2
    color = {id(n): white for n in nodes}
    for root in nodes:
        if color[id(root)] != white:
            continue
        path: list[BaseComponent] = []
        stack: list[tuple[BaseComponent, int]] = [(root, 0)]
        while stack:
            node, i = stack.pop()
            node_ups = ups[id(node)]
            if i == 0:
                color[id(node)] = grey
                path.append(node)
            if i < len(node_ups):
                stack.append((node, i + 1))
                up = node_ups[i]
                if color[id(up)] == grey:
                    cycle = [*path[path.index(up) :], up]
                    raise DefinitionError(
                        "The pipeline has a cycle: "
                        + " <- ".join(n.id for n in cycle)
                        + ". Remove one of these dependencies."
                    )
                if color[id(up)] == white:
                    stack.append((up, 0))
            else:
                color[id(node)] = black
                path.pop()
