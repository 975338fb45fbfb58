"""Dynamic parameters resolved when a node runs (TFX's dynamic execution properties).

A parameter given `upstream.outputs['num'].future()[0].value` (or `.uri`, a property, `+` with strings,
`.b64encode()`) is `{"$placeholder": EXPR, "ptype": TYPE}` in the IR. Before the cache lookup, the
launcher reads what EXPR reads from the producer's outputs in this run, checks the value against the
parameter's type, and puts it in place: the cache key, the execution record and the executor see the
value, never the placeholder. So the same upstream value hits the cache, and another value runs the node.
The artifacts read are recorded as INPUT events of the node's execution, keyed by the parameter (lineage,
as TFX resolves them as inputs); the executor does not see them as inputs, and the cache key holds their
values, not their ids.

A producer skipped by a false Cond skips the node (as a node needing a skipped node's output is skipped);
a value that cannot be read or does not fit the parameter fails the node, naming the parameter.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from headrace.compiler.ir import NodeIR
from headrace.errors import HeadraceError
from headrace.launcher import driver
from headrace.launcher.conditions import read_future
from headrace.launcher.runs import RunHandle
from headrace.metadata.store import Metadata
from headrace.types.placeholder_ir import (
    PLACEHOLDER_KEY,
    coerce_resolved,
    evaluate,
    expression_futures,
    expression_text,
    is_placeholder_ir,
)


class DynamicParameterError(HeadraceError):
    """A dynamic parameter could not be resolved: its upstream output is missing or unreadable, or the
    value does not fit the parameter's type."""


def dynamic_keys(node: NodeIR) -> list[str]:
    """The node's parameters that are resolved when it runs."""
    return [k for k, v in node.parameters.items() if is_placeholder_ir(v)]


def resolve(md: Metadata, handle: RunHandle, node: NodeIR) -> tuple[NodeIR, dict[str, list[Any]]]:
    """The node with each dynamic parameter replaced by its value in this run (the node itself if it
    has none), and the artifacts (protos) each parameter read, by parameter name.

    Raises:
        driver.UpstreamSkippedError: a producer the parameters read was skipped by a false Cond.
        DynamicParameterError: see the class.
    """
    keys = dynamic_keys(node)
    if not keys:
        return node, {}
    producers = {f["producer"] for k in keys for f in expression_futures(node.parameters[k][PLACEHOLDER_KEY])}
    outputs = driver.producer_outputs(md, handle, producers)
    for p in sorted(producers):
        if outputs[p] is None:
            skipped = driver.skipped_reason(md, handle, p)
            if skipped is not None:
                raise driver.UpstreamSkippedError(f"upstream '{p}', which a parameter reads, was skipped ({skipped})")
            raise DynamicParameterError(
                f"The parameters {keys} of '{node.id}' read the outputs of '{p}', which has no successful execution "
                f"in run {handle.run_id}."
            )
    params = dict(node.parameters)
    read: dict[str, list[Any]] = {}
    for key in keys:
        params[key] = _value(md, node, key, outputs, {"pipeline_run_id": handle.run_id})
        futures = expression_futures(node.parameters[key][PLACEHOLDER_KEY])
        arts = [outputs[f["producer"]][f["output_key"]][f["index"]] for f in futures]  # read above: they exist
        if arts:
            read[key] = list({a.id: a for a in arts}.values())
    return dataclasses.replace(node, parameters=params), read


def _value(md: Metadata, node: NodeIR, key: str, outputs: dict[str, Any], run: dict[str, str]) -> Any:
    ir = node.parameters[key]
    expr = ir[PLACEHOLDER_KEY]

    def read(future: dict[str, Any]) -> Any:
        return read_future(md, future, outputs[future["producer"]], DynamicParameterError)

    try:
        return coerce_resolved(node.id, key, evaluate(expr, read, run), ir["ptype"])
    except DynamicParameterError as e:
        raise DynamicParameterError(f"Parameter '{key}' of '{node.id}' ({expression_text(expr)}): {e}") from None
    except ValueError as e:
        raise DynamicParameterError(f"Parameter '{key}' of '{node.id}' ({expression_text(expr)}): {e}.") from None
