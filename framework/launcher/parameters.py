"""The values a run gives: runtime parameters bound into the IR before anything runs, and the final
status an exit handler receives.

`bind(ir, values)` checks the values against the IR's declarations (an unknown name, a missing
required value or a value of the wrong type is a DefinitionError before any node runs) and returns
the IR with every `{"$runtime_parameter": NAME}` replaced by the value. The bound IR is what the run
stores and runs, so the values are part of each node's cache key, and a resumed run keeps them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from headrace.compiler.ir import NodeIR, PipelineIR
from headrace.errors import DefinitionError, did_you_mean
from headrace.launcher.runs import run_parameters
from headrace.metadata.store import Metadata
from headrace.types.runtime import coerce, final_status_json, is_final_status, ptype_named, runtime_parameter_name


def resolve(ir: PipelineIR, values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every declared runtime parameter's value for a run: the given one (text is parsed, as from a
    command line), else its default.

    Raises:
        DefinitionError: a name the pipeline does not declare, a required parameter without a value,
            or a value of the wrong type.
    """
    values = dict(values or {})
    declared = ir.runtime_parameters
    for name in values:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "(none)"
            raise DefinitionError(
                f"Pipeline '{ir.pipeline_name}' has no runtime parameter '{name}'."
                + did_you_mean(name, list(declared))
                + f" Its runtime parameters: {known}."
            )
    resolved: dict[str, Any] = {}
    for name, decl in declared.items():
        ptype = ptype_named(decl["ptype"])
        if name in values:
            resolved[name] = coerce(name, ptype, values[name])
        elif "default" in decl:
            resolved[name] = coerce(name, ptype, decl["default"])
        else:
            raise DefinitionError(
                f"Runtime parameter '{name}' ({decl['ptype']}) of pipeline '{ir.pipeline_name}' has no default: give "
                f"it a value (headrace run ... --param {name}=VALUE, or run(pipeline, parameters={{'{name}': ...}}))."
            )
    return resolved


def bind(ir: PipelineIR, values: Mapping[str, Any] | None) -> tuple[PipelineIR, dict[str, Any]]:
    """The IR with the run's runtime parameter values in place, and those values (see `resolve`)."""
    resolved = resolve(ir, values)
    if not resolved:
        return ir, resolved
    nodes = []
    for node in ir.nodes:
        params = {k: _bound(v, resolved) for k, v in node.parameters.items()}
        nodes.append(node if params == node.parameters else dataclasses.replace(node, parameters=params))
    return dataclasses.replace(ir, nodes=tuple(nodes)), resolved


def bind_for_run(md: Metadata, ir: PipelineIR, run_id: str, parameters: Mapping[str, Any] | None) -> PipelineIR:
    """`ir` with the runtime parameter values run `run_id` was started with; `parameters`, if given, must
    be those values (a run keeps its parameters: resume and retries run with what it started with)."""
    recorded = run_parameters(md, run_id)
    if parameters:
        given = resolve(ir, parameters)
        if given != recorded:
            changed = sorted(k for k in {*given, *recorded} if given.get(k) != recorded.get(k))
            raise DefinitionError(
                f"Run '{run_id}' was started with runtime parameters {recorded}; it keeps them (asked for {given}, "
                f"which differs in {changed}). Start a new run for other values."
            )
    return bind(ir, recorded)[0]


def _bound(value: Any, resolved: dict[str, Any]) -> Any:
    name = runtime_parameter_name(value)
    return value if name is None else resolved[name]


def unbound_in(node: NodeIR) -> list[str]:
    """The node's parameters that still wait for a runtime parameter's value (none in a bound IR)."""
    return [k for k, v in node.parameters.items() if runtime_parameter_name(v) is not None]


def with_final_status(node: NodeIR, state: str, run_id: str, error: str | None) -> NodeIR:
    """An exit handler with the run's final status in the parameters that ask for it."""
    status = final_status_json(state, run_id, node.id, error)
    params = {k: status if is_final_status(v) else v for k, v in node.parameters.items()}
    return dataclasses.replace(node, parameters=params)


def parameters_json(values: Mapping[str, Any]) -> str:
    """The run's parameter values as the run records them."""
    return json.dumps(dict(values), sort_keys=True)
