"""The IR: one inert, versioned, JSON-serializable description of a compiled pipeline.

Every orchestrator reads only this. `load(dump(ir)) == ir`.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from headrace.errors import IRError
from headrace.types.placeholder_ir import (
    PLACEHOLDER_KEY,
    PTYPES,
    check_expression_ir,
    expression_futures,
    is_placeholder_ir,
)
from headrace.types.runtime import PARAMETER_TYPES

# 2: user code travels by name or by value (payload), with its fingerprint. 3: runtime parameters,
# retry policies, timeouts, resources and exit handlers. 4: dynamic parameters ({"$placeholder": ...},
# resolved from an upstream output when the node runs; conditions comparing two futures), and function
# components given a Beam pipeline (a python_function executor with "uses_beam": an older reader would call
# the function without it).
IR_VERSION = 4
_READS = (2, 3, 4)  # each version only adds: an older IR reads as it was
# An IR is written at the lowest version that holds it: one without dynamic parameters is a version-3
# document, which a headrace that reads versions 2-3 (an older runtime image, say) still runs. A
# version-4 one would be misread there (a placeholder passed as a plain dict, a Beam function called
# without its pipeline), so it refuses it.
_PLAIN_VERSION = 3
RETRY_FIELDS = {"max_retries": int, "backoff_seconds": float, "backoff_factor": float, "max_backoff_seconds": float}
RESOURCE_FIELDS = {"cpu": str, "memory": str, "accelerator": str, "accelerator_count": int}


@dataclasses.dataclass(frozen=True)
class ArtifactTypeIR:
    """An artifact type: its name, the class that defines it, and its declared properties."""

    name: str
    class_path: str
    properties: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class InputIR:
    """One input: the producer node and output key (None for store queries, e.g. a Resolver's)."""

    artifact_type: ArtifactTypeIR
    producer: str | None = None
    output_key: str | None = None
    optional: bool = False


@dataclasses.dataclass(frozen=True)
class OutputIR:
    """One output and its artifact type."""

    artifact_type: ArtifactTypeIR


@dataclasses.dataclass(frozen=True)
class NodeIR:
    """One node: what runs (executor), on what (inputs, parameters), making what (outputs)."""

    id: str
    component_type: str
    executor: dict[str, Any]
    inputs: dict[str, InputIR] = dataclasses.field(default_factory=dict)
    outputs: dict[str, OutputIR] = dataclasses.field(default_factory=dict)
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    upstream: tuple[str, ...] = ()
    enable_cache: bool | None = None
    # Parameters naming files or folders read from outside the store (ExampleGen's input_base):
    # their fingerprint enters the cache key.
    file_inputs: tuple[str, ...] = ()
    # Cond predicates (`Predicate.to_ir()`), all of which must hold for the node to run; their
    # producers are in `upstream`. Omitted from the JSON when empty.
    conditions: tuple[dict[str, Any], ...] = ()
    # How often a failed node is tried again and how long to wait between tries (RETRY_FIELDS), or None.
    retry: dict[str, Any] | None = None
    # The executor is stopped and the node FAILED after this many seconds, or None.
    timeout_seconds: float | None = None
    # What the step asks of the machine (RESOURCE_FIELDS): compiled for Kubeflow and Airflow, recorded locally.
    resources: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Runs after every other node, whatever happened to them (its upstream is every other node).
    exit_handler: bool = False

    @property
    def kind(self) -> str:
        """'python_class', 'python_function', 'container', 'importer' or 'resolver'."""
        return str(self.executor["kind"])


@dataclasses.dataclass(frozen=True)
class PipelineIR:
    """A compiled pipeline. Nodes are in a topological order."""

    pipeline_name: str
    pipeline_root: str
    nodes: tuple[NodeIR, ...]
    metadata_connection: dict[str, Any] | None = None
    enable_cache: bool = False
    beam_pipeline_args: tuple[str, ...] = ()
    # Runtime parameters by name: {"ptype": one of PARAMETER_TYPES, "default": value (absent: required)}.
    runtime_parameters: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    ir_version: int = IR_VERSION

    def node(self, node_id: str) -> NodeIR:
        """The node with this id."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def downstream_closure(self, node_ids: set[str]) -> set[str]:
        """The given nodes and every node that depends on them, directly or not."""
        closure = set(node_ids)
        for n in self.nodes:  # topological order: one pass suffices
            if closure.intersection(n.upstream):
                closure.add(n.id)
        return closure

    @property
    def written_version(self) -> int:
        """The IR version this IR is written at: the lowest that holds what it uses (see `_PLAIN_VERSION`)."""
        dynamic = any(is_placeholder_ir(v) for n in self.nodes for v in n.parameters.values())
        dynamic = dynamic or any(_compares_futures(c) for n in self.nodes for c in n.conditions)
        beam_functions = any(n.executor.get("uses_beam") for n in self.nodes)
        return self.ir_version if dynamic or beam_functions else min(self.ir_version, _PLAIN_VERSION)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "ir_version": self.written_version,
            "pipeline_name": self.pipeline_name,
            "pipeline_root": self.pipeline_root,
            "metadata_connection": self.metadata_connection,
            "enable_cache": self.enable_cache,
            "beam_pipeline_args": list(self.beam_pipeline_args),
            "nodes": [_node_to_dict(n) for n in self.nodes],
            **({"runtime_parameters": self.runtime_parameters} if self.runtime_parameters else {}),
        }

    def dump(self, indent: int | None = 2) -> str:
        """The IR as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineIR:
        """Reads an IR dict; raises IRError on a version mismatch or a malformed document."""
        if not isinstance(data, dict):
            raise IRError(f"The IR must be a JSON object, got {type(data).__name__}.")
        version = data.get("ir_version")
        if version not in _READS:
            raise IRError(
                f"IR version {version!r} is not supported by this headrace (reads version {IR_VERSION}); "
                "recompile the pipeline with this version."
            )
        try:
            nodes = tuple(_node_from_dict(n) for n in _typed(data, "nodes", list, "the IR"))
            _check_order(nodes)
            return cls(
                pipeline_name=_typed(data, "pipeline_name", str, "the IR"),
                pipeline_root=_typed(data, "pipeline_root", str, "the IR"),
                nodes=nodes,
                metadata_connection=_typed(data, "metadata_connection", (dict, type(None)), "the IR", None),
                enable_cache=_typed(data, "enable_cache", bool, "the IR", False),
                beam_pipeline_args=tuple(_strings(data, "beam_pipeline_args", "the IR")),
                runtime_parameters=_runtime_parameters_from_dict(data),
                ir_version=IR_VERSION,
            )
        except (KeyError, TypeError, AttributeError, ValueError, ArithmeticError, RecursionError) as e:
            if isinstance(e, IRError):
                raise
            raise IRError(f"Malformed IR: missing or wrong field {e}.") from None


def _type_to_dict(t: ArtifactTypeIR) -> dict[str, Any]:
    return {"name": t.name, "class_path": t.class_path, "properties": dict(t.properties)}


def _node_to_dict(n: NodeIR) -> dict[str, Any]:
    return {
        "id": n.id,
        "component_type": n.component_type,
        "executor": n.executor,
        "inputs": {
            k: {
                "artifact_type": _type_to_dict(i.artifact_type),
                "producer": i.producer,
                "output_key": i.output_key,
                "optional": i.optional,
            }
            for k, i in n.inputs.items()
        },
        "outputs": {k: {"artifact_type": _type_to_dict(o.artifact_type)} for k, o in n.outputs.items()},
        "parameters": n.parameters,
        "upstream": list(n.upstream),
        "enable_cache": n.enable_cache,
        **({"file_inputs": list(n.file_inputs)} if n.file_inputs else {}),
        **({"conditions": list(n.conditions)} if n.conditions else {}),
        **({"retry": n.retry} if n.retry else {}),
        **({"timeout_seconds": n.timeout_seconds} if n.timeout_seconds is not None else {}),
        **({"resources": n.resources} if n.resources else {}),
        **({"exit_handler": True} if n.exit_handler else {}),
    }


def _check_order(nodes: tuple[NodeIR, ...]) -> None:
    """Node ids are unique, and a node names (upstream, producers, Cond futures) only nodes before
    it: the topological order runners rely on. A name of no node in this IR is allowed: a one-node
    IR (what the Kubeflow entrypoint reads) names upstream nodes that run elsewhere."""
    ids = [n.id for n in nodes]
    earlier: set[str] = set()
    for n in nodes:
        if n.id in earlier:
            raise IRError(f"Malformed IR: two nodes have the id '{n.id}'.")
        named = set(n.upstream) | {i.producer for i in n.inputs.values() if i.producer is not None}
        dynamic = {f["producer"] for v in n.parameters.values() if is_placeholder_ir(v) for f in _futures_of(v)}
        if not dynamic <= set(n.upstream):
            raise IRError(
                f"Malformed IR: node '{n.id}' has parameters reading {sorted(dynamic - set(n.upstream))}, which are "
                "not among its upstream nodes."
            )
        stack = list(n.conditions)
        while stack:
            c = stack.pop()
            stack += c.get("operands", [])
            named |= {c[side]["producer"] for side in ("future", "right") if side in c}
        later = sorted(x for x in named if x in ids and x not in earlier)
        if later:
            raise IRError(f"Malformed IR: node '{n.id}' names {later}, which do not come before it.")
        earlier.add(n.id)


_MISSING = object()


def _typed(d: Any, key: str, types: type | tuple[type, ...], where: str, default: Any = _MISSING) -> Any:
    """d[key], checked to be of `types` (a missing key is `default`, or an error without one): a
    runner must meet a wrong shape here, as an IRError naming the field, not as a KeyError later."""
    if not isinstance(d, dict):
        raise IRError(f"Malformed IR: {where} must be a JSON object, got {type(d).__name__}.")
    if key not in d:
        if default is _MISSING:
            raise IRError(f"Malformed IR: missing or wrong field '{key}' ({where} has none).")
        return default
    value = d[key]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        names = " or ".join("null" if t is type(None) else t.__name__ for t in _as_tuple(types))
        raise IRError(f"Malformed IR: missing or wrong field '{key}' of {where}: must be {names}, got {value!r:.80}.")
    return value


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _strings(d: Any, key: str, where: str) -> list[str]:
    values = _typed(d, key, list, where, [])
    for v in values:
        if not isinstance(v, str):
            raise IRError(f"Malformed IR: field '{key}' of {where} must be a list of strings, got {v!r:.80}.")
    return list(values)


def _type_from_dict(d: Any, where: str) -> ArtifactTypeIR:
    properties = _typed(d, "properties", dict, where, {})
    if not all(isinstance(v, str) for v in properties.values()):
        raise IRError(f"Malformed IR: the properties of {where} must map names to type names.")
    return ArtifactTypeIR(
        name=_typed(d, "name", str, where), class_path=_typed(d, "class_path", str, where), properties=properties
    )


def _input_from_dict(v: Any, where: str) -> InputIR:
    return InputIR(
        artifact_type=_type_from_dict(_typed(v, "artifact_type", dict, where), f"the artifact type of {where}"),
        producer=_typed(v, "producer", (str, type(None)), where, None),
        output_key=_typed(v, "output_key", (str, type(None)), where, None),
        optional=_typed(v, "optional", bool, where, False),
    )


def _node_from_dict(d: Any) -> NodeIR:
    node_id = _typed(d, "id", str, "a node")
    where = f"node '{node_id}'"
    executor = _typed(d, "executor", dict, where)
    if _typed(executor, "kind", str, f"the executor of {where}") == "container":
        for key in ("command", "args"):  # the launcher builds the argv from them: lists of text and placeholders
            for item in _typed(executor, key, list, f"the executor of {where}", []):
                if not isinstance(item, (str, dict)):
                    raise IRError(f"Malformed IR: the {key} of {where} holds {item!r:.80}, not text or a placeholder.")
    inputs = _typed(d, "inputs", dict, where, {})
    outputs = _typed(d, "outputs", dict, where, {})
    return NodeIR(
        id=node_id,
        component_type=_typed(d, "component_type", str, where),
        executor=executor,
        inputs={k: _input_from_dict(v, f"input '{k}' of {where}") for k, v in inputs.items()},
        outputs={
            k: OutputIR(
                artifact_type=_type_from_dict(
                    _typed(v, "artifact_type", dict, f"output '{k}' of {where}"), f"the artifact type of output '{k}'"
                )
            )
            for k, v in outputs.items()
        },
        parameters=_parameters_from_dict(d, where),
        upstream=tuple(_strings(d, "upstream", where)),
        enable_cache=_typed(d, "enable_cache", (bool, type(None)), where, None),
        file_inputs=tuple(_strings(d, "file_inputs", where)),
        conditions=tuple(_condition_from_dict(c) for c in _typed(d, "conditions", list, where, [])),
        retry=_fields(d, "retry", RETRY_FIELDS, where) or None,
        timeout_seconds=_number(_typed(d, "timeout_seconds", (int, float, type(None)), where, None)),
        resources=_fields(d, "resources", RESOURCE_FIELDS, where),
        exit_handler=_typed(d, "exit_handler", bool, where, False),
    )


def _futures_of(value: dict[str, Any]) -> list[dict[str, Any]]:
    return expression_futures(value[PLACEHOLDER_KEY])


def _parameters_from_dict(d: Any, where: str) -> dict[str, Any]:
    """The parameters; a dynamic parameter's expression is checked, so no runner passes a malformed one
    to an executor as if it were a plain dict."""
    params = dict(_typed(d, "parameters", dict, where, {}))
    for key, value in params.items():
        if isinstance(value, dict) and PLACEHOLDER_KEY in value:
            if not is_placeholder_ir(value) or value.get("ptype") not in PTYPES:
                raise IRError(f"Malformed IR: parameter '{key}' of {where} is a malformed placeholder: {value!r:.120}.")
            params[key] = {
                PLACEHOLDER_KEY: check_expression_ir(value[PLACEHOLDER_KEY], f"parameter '{key}' of {where}"),
                "ptype": value["ptype"],
            }
    return params


def _number(value: int | float | None) -> float | None:
    return None if value is None else float(value)


def _fields(d: Any, key: str, fields: dict[str, type], where: str) -> dict[str, Any]:
    """A settings object (retry, resources) of known fields with their types, checked."""
    value = _typed(d, key, (dict, type(None)), where, None) or {}
    out: dict[str, Any] = {}
    for name, v in value.items():
        if name not in fields:
            raise IRError(f"Malformed IR: unknown field '{name}' in the {key} of {where}.")
        expected = fields[name]
        numeric = expected is float and isinstance(v, int)
        if isinstance(v, bool) or not (isinstance(v, expected) or numeric):
            raise IRError(f"Malformed IR: field '{name}' of the {key} of {where} must be {expected.__name__}.")
        out[name] = float(v) if numeric else v
    return out


def _runtime_parameters_from_dict(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    declared = _typed(data, "runtime_parameters", dict, "the IR", {})
    for name, decl in declared.items():
        ptype = _typed(decl, "ptype", str, f"runtime parameter '{name}'")
        if ptype not in PARAMETER_TYPES:
            raise IRError(f"Malformed IR: runtime parameter '{name}' has type {ptype!r}, not one of {PARAMETER_TYPES}.")
    return {name: dict(decl) for name, decl in declared.items()}


_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


def _condition_from_dict(c: dict[str, Any]) -> dict[str, Any]:
    """A predicate read back, its shape checked: a runner must never misread a condition as true."""
    op = c["op"]
    if op in _COMPARISONS:
        if "right" in c:  # two futures compared (version 4)
            return {"op": op, "future": _future_from_dict(c["future"]), "right": _future_from_dict(c["right"])}
        return {"op": op, "future": _future_from_dict(c["future"]), "constant": c["constant"]}
    if op in ("and", "or", "not"):
        return {"op": op, "operands": [_condition_from_dict(o) for o in c["operands"]]}
    raise KeyError(f"condition operator {op!r}")


def _future_from_dict(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "producer": str(f["producer"]),
        "output_key": str(f["output_key"]),
        "index": int(f["index"]),
        "attribute": [str(a) for a in f["attribute"]],
    }


def _compares_futures(condition: dict[str, Any]) -> bool:
    return "right" in condition or any(_compares_futures(o) for o in condition.get("operands", ()))


def dump(ir: PipelineIR) -> str:
    """The IR as JSON text."""
    return ir.dump()


def load(text: str) -> PipelineIR:
    """Reads IR JSON text."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as e:  # JSONDecodeError, an over-long integer, too deep a nesting
        raise IRError(f"The IR is not valid JSON: {type(e).__name__}: {e}") from None
    if not isinstance(data, dict):
        raise IRError("The IR must be a JSON object.")
    return PipelineIR.from_dict(data)
