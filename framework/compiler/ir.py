"""The IR: one inert, versioned, JSON-serializable description of a compiled pipeline.

Every orchestrator reads only this. `load(dump(ir)) == ir`.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from headrace.errors import IRError

IR_VERSION = 2  # 2: user code travels by name or by value (payload), with its fingerprint


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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "ir_version": self.ir_version,
            "pipeline_name": self.pipeline_name,
            "pipeline_root": self.pipeline_root,
            "metadata_connection": self.metadata_connection,
            "enable_cache": self.enable_cache,
            "beam_pipeline_args": list(self.beam_pipeline_args),
            "nodes": [_node_to_dict(n) for n in self.nodes],
        }

    def dump(self, indent: int | None = 2) -> str:
        """The IR as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineIR:
        """Reads an IR dict; raises IRError on a version mismatch or a malformed document."""
        version = data.get("ir_version")
        if version != IR_VERSION:
            raise IRError(
                f"IR version {version!r} is not supported by this headrace (reads version {IR_VERSION}); "
                "recompile the pipeline with this version."
            )
        try:
            nodes = tuple(_node_from_dict(n) for n in data["nodes"])
            return cls(
                pipeline_name=data["pipeline_name"],
                pipeline_root=data["pipeline_root"],
                nodes=nodes,
                metadata_connection=data.get("metadata_connection"),
                enable_cache=bool(data.get("enable_cache", False)),
                beam_pipeline_args=tuple(data.get("beam_pipeline_args", ())),
                ir_version=version,
            )
        except (KeyError, TypeError, AttributeError) as e:
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
    }


def _type_from_dict(d: dict[str, Any]) -> ArtifactTypeIR:
    return ArtifactTypeIR(name=d["name"], class_path=d["class_path"], properties=dict(d.get("properties", {})))


def _node_from_dict(d: dict[str, Any]) -> NodeIR:
    return NodeIR(
        id=d["id"],
        component_type=d["component_type"],
        executor=d["executor"],
        inputs={
            k: InputIR(
                artifact_type=_type_from_dict(v["artifact_type"]),
                producer=v.get("producer"),
                output_key=v.get("output_key"),
                optional=bool(v.get("optional", False)),
            )
            for k, v in d.get("inputs", {}).items()
        },
        outputs={
            k: OutputIR(artifact_type=_type_from_dict(v["artifact_type"])) for k, v in d.get("outputs", {}).items()
        },
        parameters=d.get("parameters", {}),
        upstream=tuple(d.get("upstream", ())),
        enable_cache=d.get("enable_cache"),
        file_inputs=tuple(d.get("file_inputs", ())),
        conditions=tuple(_condition_from_dict(c) for c in d.get("conditions", ())),
    )


_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


def _condition_from_dict(c: dict[str, Any]) -> dict[str, Any]:
    """A predicate read back, its shape checked: a runner must never misread a condition as true."""
    op = c["op"]
    if op in _COMPARISONS:
        f = c["future"]
        future = {
            "producer": str(f["producer"]),
            "output_key": str(f["output_key"]),
            "index": int(f["index"]),
            "attribute": [str(a) for a in f["attribute"]],
        }
        return {"op": op, "future": future, "constant": c["constant"]}
    if op in ("and", "or", "not"):
        return {"op": op, "operands": [_condition_from_dict(o) for o in c["operands"]]}
    raise KeyError(f"condition operator {op!r}")


def dump(ir: PipelineIR) -> str:
    """The IR as JSON text."""
    return ir.dump()


def load(text: str) -> PipelineIR:
    """Reads IR JSON text."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise IRError(f"The IR is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise IRError("The IR must be a JSON object.")
    return PipelineIR.from_dict(data)
