"""The IR as a Kubeflow Pipelines v2 `PipelineSpec`, built with kfp's own protos.

One IR node becomes one task, one component (`comp-<task>`) and one executor (`exec-<task>`):

- function and custom-class nodes run headrace's runtime image (the node's `with_image`, else the
  runner's default image) with `python -m headrace.entrypoint kfp --executor-input {{$}} ...`; the
  node's IR (a one-node `PipelineIR`, code shipped by value included) travels base64-encoded in the
  arguments, since the container cannot read the compiler's files;
- container nodes run their own image and argv, headrace placeholders turned into KFP's
  (`{{$.inputs.parameters['x']}}`, `{{$.inputs.artifacts['x'].path}}`,
  `{{$.outputs.artifacts['x'].path}}`); their parameters are STRING inputs holding exactly the text
  headrace's Docker launcher would place (so the argv is the same on both);
- importer nodes become KFP importers (output key `artifact`, KFP's convention).

Artifacts are typed `headrace.<TypeName>`; dependencies become `dependentTasks`, caching
`cachingOptions.enableCache` (off for a node that reads declared files, whose content KFP's cache
key cannot see), and `Cond` predicates a `triggerPolicy.condition` in CEL over the
producer's output artifact metadata (TFX's encoding for Vertex). Resolver nodes become KFP resolver
executors (`_kfp_resolver`); retries, resources, runtime parameters and the exit handler are in
`_kfp_settings`.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from headrace.compiler.ir import InputIR, NodeIR, PipelineIR
from headrace.dsl.placeholders import argument_text
from headrace.errors import DefinitionError
from headrace.orchestrators._kfp_dynamic import RUN_ID, run_value
from headrace.types.placeholder_ir import is_placeholder_ir
from headrace.types.runtime import is_final_status, runtime_parameter_name

SCHEMA_VERSION = "2.1.0"
SCHEMA_PREFIX = "headrace."
ARTIFACT_SCHEMA_VERSION = "0.0.1"
ENTRYPOINT = ["python", "-m", "headrace.entrypoint", "kfp"]
IMPORTER_OUTPUT = "artifact"  # the output key of a KFP importer (kfp.local hard-codes it)
CONDITION_INPUT_PREFIX = "condition__"


def task_name(node_id: str) -> str:
    """A KFP task name for a node id: lower case, runs of other characters as '-' (as kfp does)."""
    name = re.sub(r"[^a-z0-9]+", "-", node_id.lower()).strip("-")
    return name or "node"


def pipeline_name(name: str) -> str:
    """A KFP pipeline name (k8s-style) for a headrace pipeline name."""
    return task_name(name)


def cache_notes(ir: PipelineIR) -> list[str]:
    """One line per task whose KFP caching is off because its node reads declared files."""
    return [
        f"Caching is off for task '{task_name(n.id)}': it reads {', '.join(n.file_inputs)}, whose files' content "
        "KFP's cache key cannot see (an edited file would be served from KFP's cache)."
        for n in ir.nodes
        if n.file_inputs
    ]


def encode_node(ir: PipelineIR, node: NodeIR) -> str:
    """The node as a one-node IR, base64 of its JSON (what the entrypoint's --node-ir reads)."""
    wanted = {runtime_parameter_name(v) for v in node.parameters.values()} - {None}
    one = PipelineIR(
        pipeline_name=ir.pipeline_name,
        pipeline_root=ir.pipeline_root,
        nodes=(node,),
        enable_cache=ir.enable_cache,
        beam_pipeline_args=ir.beam_pipeline_args,
        runtime_parameters={k: v for k, v in ir.runtime_parameters.items() if k in wanted},
    )
    return base64.b64encode(one.dump(indent=None).encode("utf-8")).decode("ascii")


def build(ir: PipelineIR, default_image: str, display_name: str | None = None) -> Any:
    """The `PipelineSpec` proto of `ir`.

    Raises:
        DefinitionError: a node kfp cannot express (a Resolver, a predicate CEL cannot state, two
            node ids that map to one task name).
    """
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2 as pb

    from headrace.orchestrators import _kfp_dynamic, _kfp_resolver, _kfp_settings

    names = _task_names(ir)
    producers = _producer_tasks(ir, names)
    spec = pb.PipelineSpec(schema_version=SCHEMA_VERSION, sdk_version="headrace")
    spec.pipeline_info.name = pipeline_name(ir.pipeline_name)
    spec.pipeline_info.display_name = display_name or ir.pipeline_name
    spec.pipeline_info.description = "\n".join(cache_notes(ir))
    spec.default_pipeline_root = ir.pipeline_root
    _kfp_settings.pipeline_inputs(pb, spec, ir)
    has_handler = any(n.exit_handler for n in ir.nodes)
    group = _kfp_settings.exit_group(pb, spec, ir) if has_handler else spec.root.dag
    deployment = pb.PipelineDeploymentConfig()
    value_outputs: dict[tuple[str, str], str] = {}  # upstream values passed as parameters
    for node in ir.nodes:
        name = names[node.id]
        dag = spec.root.dag if node.exit_handler else group
        # a task waits for the tasks that produce what it reads or that it must follow (a Resolver may be two)
        upstream = [] if node.exit_handler else sorted({t for u in node.upstream for t in producers[u].values()})
        if node.kind == "resolver":
            _kfp_resolver.add_resolver(pb, spec, dag, deployment, node, name, upstream)
            continue
        component = spec.components[f"comp-{name}"]
        component.executor_label = f"exec-{name}"
        executor = deployment.executors[f"exec-{name}"]
        task = dag.tasks[name]
        task.task_info.name = node.id
        task.component_ref.name = f"comp-{name}"
        cache = node.enable_cache if node.enable_cache is not None else ir.enable_cache
        # KFP's cache key is the task's inputs and container spec: it cannot see the content of the files a
        # node declares (ExecutionParameter(fingerprint=True): an input folder, a module file), so an edited
        # CSV under the same input_base would be served from it. Such tasks run uncached (see cache_notes).
        task.caching_options.enable_cache = bool(cache) and not node.file_inputs
        task.dependent_tasks.extend(upstream)
        if node.exit_handler:
            _kfp_settings.exit_handler_task(task)
        _artifact_io(pb, ir, node, producers, component, task)
        if node.kind == "importer":
            _importer(pb, node, component, task, executor)
        elif node.kind == "container":
            _container(pb, node, component, task, executor)
        else:
            _python(pb, ir, node, component, task, executor, default_image)
        _kfp_settings.runtime_inputs(pb, ir, node, component, task, in_group=has_handler and not node.exit_handler)
        value_outputs.update(_kfp_dynamic.dynamic_inputs(pb, ir, node, names, component, task))
        _kfp_settings.retry_policy(node, task)
        if executor.HasField("container"):
            _kfp_settings.resources(node, executor.container)
        if node.conditions:
            _condition(pb, ir, node, producers, component, task)
    _kfp_dynamic.value_outputs(pb, spec, names, value_outputs)
    spec.deployment_spec.update(json_format.MessageToDict(deployment))
    _keep_pipeline_name_free(spec)
    return spec


def _keep_pipeline_name_free(spec: Any) -> None:
    """kfp's loader takes the component keyed `comp-<pipeline name>`, if there is one, for the whole
    package (a component compiled alone is stored so). A task named as the pipeline would make
    `load_component_from_file` load that one task: its component gets another key."""
    clash = f"comp-{spec.pipeline_info.name}"
    if clash not in spec.components:
        return
    key = next(
        f"{clash}-task{i or ''}"
        for i in range(len(spec.components) + 1)
        if f"{clash}-task{i or ''}" not in spec.components
    )
    spec.components[key].CopyFrom(spec.components[clash])
    del spec.components[clash]
    dags = [spec.root.dag, *(c.dag for c in spec.components.values() if c.HasField("dag"))]
    for task in (t for dag in dags for t in dag.tasks.values()):
        if task.component_ref.name == clash:
            task.component_ref.name = key


def _producer_tasks(ir: PipelineIR, names: dict[str, str]) -> dict[str, dict[str, str]]:
    """For each node, the KFP task producing each of its outputs (a Resolver's may be two tasks)."""
    from headrace.orchestrators._kfp_resolver import resolver_tasks

    found: dict[str, dict[str, str]] = {}
    for node in ir.nodes:
        if node.kind == "resolver":
            found[node.id] = resolver_tasks(node, names[node.id])
        else:
            found[node.id] = {key: names[node.id] for key in node.outputs} or {"": names[node.id]}
    return found


def _task_names(ir: PipelineIR) -> dict[str, str]:
    """Each node's task name, checked unique among every task the pipeline becomes (a Resolver's
    `-model-blessing-resolver` and `-model-resolver` tasks too)."""
    from headrace.orchestrators._kfp_resolver import resolver_tasks

    names: dict[str, str] = {}
    seen: dict[str, str] = {}
    for node in ir.nodes:
        name = task_name(node.id)
        tasks = set(resolver_tasks(node, name).values()) if node.kind == "resolver" else {name}
        for task in sorted(tasks):
            if task in seen:
                raise DefinitionError(
                    f"Node ids '{seen[task]}' and '{node.id}' both become the Kubeflow task name '{task}' (lower "
                    "case, other characters as '-'); give one of them another id with .with_id(...)."
                )
            seen[task] = node.id
        names[node.id] = name
    return names


def type_schema(pb: Any, type_name: str) -> Any:
    """The KFP artifact type of a headrace artifact type: schema title `headrace.<TypeName>`."""
    return pb.ArtifactTypeSchema(schema_title=SCHEMA_PREFIX + type_name, schema_version=ARTIFACT_SCHEMA_VERSION)


def _output_key(ir: PipelineIR, inp: InputIR) -> str:
    """The KFP output key an input reads (an importer's only output is KFP's `artifact`)."""
    assert inp.producer is not None and inp.output_key is not None
    if ir.node(inp.producer).kind == "importer":
        return IMPORTER_OUTPUT
    return inp.output_key


def _artifact_io(
    pb: Any, ir: PipelineIR, node: NodeIR, producers: dict[str, dict[str, str]], component: Any, task: Any
) -> None:
    for key, inp in node.inputs.items():
        if inp.producer is None:
            continue  # a Resolver's store query: it has its own executor
        spec = component.input_definitions.artifacts[key]
        spec.artifact_type.CopyFrom(type_schema(pb, inp.artifact_type.name))
        if inp.optional or ir.node(inp.producer).kind == "resolver":
            spec.is_optional = True  # a resolver may find nothing (no blessed model yet)
        ref = task.inputs.artifacts[key].task_output_artifact
        assert inp.output_key is not None
        ref.producer_task = producers[inp.producer][inp.output_key]
        ref.output_artifact_key = _output_key(ir, inp)
    for key, out in node.outputs.items():
        name = IMPORTER_OUTPUT if node.kind == "importer" else key
        component.output_definitions.artifacts[name].artifact_type.CopyFrom(type_schema(pb, out.artifact_type.name))


def struct_value(value: Any) -> Any:
    """A JSON value as a protobuf Value (what KFP's constants and defaults hold)."""
    from google.protobuf import struct_pb2

    v = struct_pb2.Value()
    if isinstance(value, bool):
        v.bool_value = value
    elif isinstance(value, (int, float)):
        v.number_value = value
    elif isinstance(value, str):
        v.string_value = value
    elif isinstance(value, dict):  # SetInParent: an empty {} or [] is still a struct or list, not null
        v.struct_value.SetInParent()
        v.struct_value.update(value)
    elif isinstance(value, list):
        v.list_value.SetInParent()
        v.list_value.extend(value)
    else:
        v.null_value = struct_pb2.NULL_VALUE
    return v


def _parameter_type(pb: Any, value: Any) -> int | None:
    t = pb.ParameterType
    if isinstance(value, bool):
        return int(t.BOOLEAN)
    if isinstance(value, int):
        return int(t.NUMBER_INTEGER)
    if isinstance(value, float):
        return int(t.NUMBER_DOUBLE)
    if isinstance(value, str):
        return int(t.STRING)
    if isinstance(value, list):
        return int(t.LIST)
    if isinstance(value, dict):
        return int(t.STRUCT)
    return None  # None: KFP has no null parameter; the entrypoint takes it from the node's IR


def _parameters(pb: Any, node: NodeIR, component: Any, task: Any, as_text: bool) -> None:
    for key, value in sorted(node.parameters.items()):
        if runtime_parameter_name(value) is not None or is_final_status(value) or is_placeholder_ir(value):
            continue  # the run gives it (_kfp_settings.runtime_inputs), or an upstream task (_kfp_dynamic)
        if as_text:
            value = argument_text(value)
        ptype = _parameter_type(pb, value)
        if ptype is None:
            continue
        component.input_definitions.parameters[key].parameter_type = ptype
        task.inputs.parameters[key].runtime_value.constant.CopyFrom(struct_value(value))


def _python(
    pb: Any, ir: PipelineIR, node: NodeIR, component: Any, task: Any, executor: Any, default_image: str
) -> None:
    _parameters(pb, node, component, task, as_text=False)
    container = executor.container
    container.image = node.executor.get("image") or default_image
    container.command.extend(ENTRYPOINT)
    container.args.extend(
        [
            "--executor-input",
            "{{$}}",
            "--run-id",
            "{{$.pipeline_job_name}}",
            "--node-ir",
            encode_node(ir, node),
        ]
    )


def _container(pb: Any, node: NodeIR, component: Any, task: Any, executor: Any) -> None:
    _parameters(pb, node, component, task, as_text=True)
    container = executor.container
    container.image = node.executor["image"]
    container.command.extend(_argv(node, node.executor.get("command") or []))
    container.args.extend(_argv(node, node.executor.get("args") or []))


def _argv(node: NodeIR, items: list[Any]) -> list[str]:
    return [_placeholder(node, item) for item in items]


def _placeholder(node: NodeIR, item: Any) -> str:
    if isinstance(item, str):
        if "{{$" in item:
            raise DefinitionError(
                f"The command of '{node.id}' has the literal text {item!r}, which Kubeflow would read as one of its "
                "placeholders ('{{$...}}'); pass it as a parameter instead."
            )
        return item
    kind, name = item.get("placeholder"), item.get("name")
    if kind == "concat":
        return "".join(_placeholder(node, i) for i in item["items"])
    if kind in ("input_value", "exec_property"):
        if run_value(node, name):
            return RUN_ID
        if name in node.parameters:
            return f"{{{{$.inputs.parameters['{name}']}}}}"
        raise DefinitionError(
            f"The command of '{node.id}' places the value of input artifact '{name}', which a Kubeflow container "
            "cannot receive as text; place its path (InputUriPlaceholder): the file there holds the value."
        )
    if kind == "input_uri":
        return f"{{{{$.inputs.artifacts['{name}'].path}}}}"
    if kind == "output_uri":
        return f"{{{{$.outputs.artifacts['{name}'].path}}}}"
    raise DefinitionError(f"The command of '{node.id}' has a placeholder Kubeflow cannot express: {item!r}.")


def _importer(pb: Any, node: NodeIR, component: Any, task: Any, executor: Any) -> None:
    p = node.parameters
    out = node.outputs["result"].artifact_type
    importer = executor.importer
    importer.artifact_uri.constant.string_value = p["source_uri"]
    importer.type_schema.CopyFrom(type_schema(pb, out.name))
    importer.reimport = bool(p.get("reimport"))
    metadata = {**(p.get("custom_properties") or {}), **(p.get("properties") or {})}
    metadata[METADATA_KEY] = json.dumps(
        {"properties": p.get("properties") or {}, "custom_properties": p.get("custom_properties") or {}},
        sort_keys=True,
    )
    importer.metadata.update(metadata)
    # kfp's importer components take the URI as an input parameter too
    component.input_definitions.parameters["uri"].parameter_type = pb.ParameterType.STRING
    task.inputs.parameters["uri"].runtime_value.constant.string_value = p["source_uri"]


METADATA_KEY = "headrace"  # artifact metadata: JSON of the exact properties (the flat keys are for people)


# -- Cond ------------------------------------------------------------------------------------------
def condition_input(producer: str, output_key: str) -> str:
    """The input through which a conditional task sees the artifact its predicate reads."""
    return CONDITION_INPUT_PREFIX + re.sub(r"\W", "_", f"{producer}__{output_key}")


def _condition(
    pb: Any, ir: PipelineIR, node: NodeIR, producers: dict[str, dict[str, str]], component: Any, task: Any
) -> None:
    for predicate in node.conditions:
        for future in _futures(predicate):
            key = condition_input(future["producer"], future["output_key"])
            if key in component.input_definitions.artifacts:
                continue
            component.input_definitions.artifacts[key].artifact_type.CopyFrom(
                pb.ArtifactTypeSchema(schema_title="system.Artifact", schema_version=ARTIFACT_SCHEMA_VERSION)
            )
            ref = task.inputs.artifacts[key].task_output_artifact
            producer, output_key = future["producer"], future["output_key"]
            ref.producer_task = producers[producer][output_key]  # a Resolver's output: the task that finds it
            ref.output_artifact_key = IMPORTER_OUTPUT if ir.node(producer).kind == "importer" else output_key
    cel = [_cel(node, p) for p in node.conditions]
    task.trigger_policy.condition = cel[0] if len(cel) == 1 else " && ".join(f"({c})" for c in cel)


def _futures(predicate: dict[str, Any]) -> list[dict[str, Any]]:
    if "future" in predicate:
        return [predicate[side] for side in ("future", "right") if side in predicate]
    return [f for p in predicate["operands"] for f in _futures(p)]


def _cel(node: NodeIR, predicate: dict[str, Any]) -> str:
    """A predicate in CEL, over `inputs.artifacts[...]` as KFP's driver evaluates it."""
    op = predicate["op"]
    if op in ("and", "or"):
        joined = f" {'&&' if op == 'and' else '||'} ".join(_cel(node, p) for p in predicate["operands"])
        return f"({joined})"
    if op == "not":
        return f"!({_cel(node, predicate['operands'][0])})"
    rhs = _cel_future(node, predicate["right"]) if "right" in predicate else _cel_constant(predicate["constant"])
    return f"{_cel_future(node, predicate['future'])} {op} {rhs}"


def _cel_future(node: NodeIR, future: dict[str, Any]) -> str:
    """What a future reads, in CEL: the metadata KFP keeps of the producer's output artifact."""
    index = future["index"]
    if index not in (0, -1):
        raise DefinitionError(
            f"The condition of '{node.id}' reads artifact [{index}] of an output; a Kubeflow output holds one "
            "artifact, so only [0] (or [-1]) can be read."
        )
    base = f"inputs.artifacts['{condition_input(future['producer'], future['output_key'])}'].artifacts[0]"
    what, *key = future["attribute"]
    if what == "uri":
        return f"{base}.uri"
    if what == "value":
        return f"{base}.metadata['value']"
    return f"{base}.metadata['{key[0]}']"


def _cel_constant(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(float(value))  # artifact metadata numbers are doubles; CEL does not compare int with double
    return json.dumps(value)  # a CEL string literal: JSON's escaping is valid CEL
