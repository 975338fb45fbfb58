"""The compiler: a `Pipeline` in, one `PipelineIR` out."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from headrace.compiler.ir import ArtifactTypeIR, InputIR, NodeIR, OutputIR, PipelineIR
from headrace.dsl.base_component import BaseComponent
from headrace.dsl.container_component import TemplatedExecutorContainerSpec, check_command
from headrace.dsl.pipeline import Pipeline, sort_components
from headrace.dsl.user_code import with_artifact_types
from headrace.errors import DefinitionError
from headrace.metadata.config import connection_config_to_dict
from headrace.types.artifact import Artifact
from headrace.types.channel import conditions_of
from headrace.types.component_spec import Secret
from headrace.types.placeholder import Placeholder, parameter_ir
from headrace.types.registry import class_path
from headrace.types.runtime import FinalStatusStr, RuntimeParameter, runtime_value_ir


class Compiler:
    """Compiles pipelines to the IR (TFX's `Compiler().compile(pipeline)` shape)."""

    def compile(self, pipeline: Pipeline) -> PipelineIR:
        """Compiles `pipeline`; see :func:`compile_pipeline`."""
        return compile_pipeline(pipeline)


def compile_pipeline(pipeline: Pipeline) -> PipelineIR:
    """Compiles a pipeline to its IR.

    Raises:
        DefinitionError: if the pipeline cannot be compiled (e.g. an input channel no
            component produces, a parameter that is not JSON).
    """
    if not isinstance(pipeline, Pipeline):
        raise DefinitionError(f"compile_pipeline expects a Pipeline, got {type(pipeline).__name__}.")
    components = sort_components(pipeline.components)  # ids may have changed since construction
    type_cache: dict[type, ArtifactTypeIR] = {}
    code_cache: dict[int, Any] = {}  # a function shared by many nodes is fingerprinted and shipped once
    nodes = [_compile_node(c, type_cache, code_cache, pipeline.default_image) for c in components]
    _check_conditions(components)
    handler = pipeline.exit_handler
    if handler is not None:
        if handler.upstream_nodes or any(n.id == handler.id for n in nodes):
            pipeline.set_exit_handler(handler)  # raises, saying why (it was changed after it was set)
        node = _compile_node(handler, type_cache, code_cache, pipeline.default_image)
        nodes.append(dataclasses.replace(node, upstream=tuple(n.id for n in nodes), exit_handler=True))
    for c in components:
        if any(isinstance(v, FinalStatusStr) for v in c.exec_properties.values()):
            raise DefinitionError(
                f"Component '{c.id}' takes FinalStatusStr(), which only an exit handler receives: make it the "
                "pipeline's exit_handler=..., or give the parameter a value."
            )
    return PipelineIR(
        pipeline_name=pipeline.pipeline_name,
        pipeline_root=pipeline.pipeline_root,
        nodes=tuple(nodes),
        runtime_parameters=runtime_parameters_of([*components, *([handler] if handler else [])]),
        # without a MySQL password: it stays in this process, or comes from MYSQL_PWD (metadata.config)
        metadata_connection=connection_config_to_dict(pipeline.metadata_connection_config),
        enable_cache=pipeline.enable_cache,
        beam_pipeline_args=tuple(pipeline.beam_pipeline_args),
    )


def compile_component(component: BaseComponent) -> NodeIR:
    """One component as an IR node (its upstream node ids kept), for running components one at a
    time (InteractiveContext).

    Raises:
        DefinitionError: as for a pipeline (an input no component produces, a non-JSON parameter...).
    """
    if not isinstance(component, BaseComponent):
        raise DefinitionError(f"compile_component expects a component, got {type(component).__name__}.")
    return _compile_node(component, {}, {})


def _artifact_type(cls: type[Artifact], cache: dict[type, ArtifactTypeIR]) -> ArtifactTypeIR:
    found = cache.get(cls)
    if found is None:
        found = ArtifactTypeIR(
            name=cls.TYPE_NAME,
            class_path=class_path(cls),
            properties={k: p.type.value for k, p in cls.PROPERTIES.items()},
        )
        cache[cls] = found
    return found


def _placed(c: BaseComponent, executor: dict[str, Any], default_image: str | None) -> dict[str, Any]:
    """The executor with where it runs: an image (`with_image`, else the pipeline's default image for
    Python executors) and Docker settings (`with_platform_config`)."""
    kind = executor["kind"]
    spec = c.EXECUTOR_SPEC
    if isinstance(spec, TemplatedExecutorContainerSpec):  # a custom class's ExecutorContainerSpec too
        check_command(c.id, [*spec.command, *spec.args], c.SPEC_CLASS)
    image = c.image or (default_image if kind in ("python_function", "python_class") else None)
    if (c.image or c.platform_config) and kind not in ("python_function", "python_class", "container"):
        raise DefinitionError(f"'{c.id}' is a {kind} node, which runs inside the runner: it takes no image.")
    if image:
        executor = {**executor, "image": image}
    if c.platform_config:
        executor = {**executor, "docker": c.platform_config}
    return executor


def _compile_node(
    c: BaseComponent,
    type_cache: dict[type, ArtifactTypeIR],
    code_cache: dict[int, Any],
    default_image: str | None = None,
) -> NodeIR:
    executor = _placed(c, c.EXECUTOR_SPEC.to_ir(code_cache), default_image)
    # code that travels by value takes the node's artifact classes from the user's files along
    executor = with_artifact_types(executor, [ch.type for ch in (*c.inputs.values(), *c.outputs.values())], c.id)
    inputs = {}
    for key, ch in c.inputs.items():
        if ch.producer is None and executor["kind"] != "resolver":
            raise DefinitionError(
                f"Input '{key}' of component '{c.id}' is a channel that no component produces. Connect it to "
                "another component's output, or register the data with an Importer."
            )
        decl = c.spec.INPUTS.get(key)
        inputs[key] = InputIR(
            artifact_type=_artifact_type(ch.type, type_cache),
            producer=ch.producer_component_id,
            output_key=ch.output_key,
            optional=bool(decl and decl.optional),
        )
    outputs = {key: OutputIR(artifact_type=_artifact_type(ch.type, type_cache)) for key, ch in c.outputs.items()}
    # a Secret is compiled to its variable's name; the launcher reads the value when the step runs, as it
    # resolves a dynamic parameter (a placeholder reading an upstream output) from that output
    params = {k: _parameter_ir(c, k, v, executor["kind"]) for k, v in c.exec_properties.items()}
    try:
        json.dumps(params)
    except (TypeError, ValueError) as e:
        raise DefinitionError(f"Parameters of component '{c.id}' must be JSON-serializable: {e}") from None
    return NodeIR(
        id=c.id,
        component_type=c.type,
        executor=executor,
        inputs=inputs,
        outputs=outputs,
        parameters=params,
        upstream=tuple(u.id for u in c.upstream_nodes),
        enable_cache=c.enable_cache,
        # parameters the spec declares fingerprint=True: their files' content belongs to the cache key
        file_inputs=tuple(
            k for k, p in type(c.spec).PARAMETERS.items() if p.fingerprint and isinstance(params.get(k), str)
        ),
        conditions=tuple(p.to_ir() for p in conditions_of(c)),
        retry=c.retry,
        timeout_seconds=c.timeout_seconds,
        resources=c.resources,
    )


def _parameter_ir(c: BaseComponent, key: str, value: Any, kind: str) -> Any:
    if isinstance(value, Secret):
        return value.to_ir()
    if not isinstance(value, Placeholder):
        return runtime_value_ir(value)
    if kind in ("importer", "resolver"):
        raise DefinitionError(
            f"Parameter '{key}' of '{c.id}' is {value!r}, resolved when a node runs; an {kind} runs inside the "
            "runner and takes values known when the pipeline is defined."
        )
    decl = type(c.spec).PARAMETERS.get(key)
    if decl is None:  # a spec that did not check its parameters (built by hand): check it now
        raise DefinitionError(f"Parameter '{key}' of '{c.id}' is {value!r}, but its spec does not declare '{key}'.")
    for future in value.futures():
        producer = future.channel.producer
        if producer is None or producer not in c.upstream_nodes:
            raise DefinitionError(f"Parameter '{key}' of '{c.id}' reads {future!r}, which has no producer upstream.")
    return parameter_ir(value, decl.base_type.__name__)


def runtime_parameters_of(components: list[BaseComponent]) -> dict[str, dict[str, Any]]:
    """The runtime parameters the components take, by name; one name declared twice must agree."""
    declared: dict[str, dict[str, Any]] = {}
    for c in components:
        for key, value in c.exec_properties.items():
            if not isinstance(value, RuntimeParameter):
                continue
            decl = value.declaration()
            earlier = declared.setdefault(value.name, decl)
            if {k: v for k, v in earlier.items() if k != "description"} != {
                k: v for k, v in decl.items() if k != "description"
            }:
                raise DefinitionError(
                    f"Runtime parameter '{value.name}' is declared twice, differently ({earlier} and, for "
                    f"'{c.id}'.{key}, {decl}); use one RuntimeParameter object for both."
                )
    return declared


def _check_conditions(components: list[BaseComponent]) -> None:
    """Every channel a Cond predicate reads is produced by a node of the pipeline, upstream of the
    conditional node."""
    members = {id(c) for c in components}
    for c in components:
        upstream = {id(u) for u in c.upstream_nodes}
        for predicate in conditions_of(c):
            for future in predicate.futures():
                producer = future.channel.producer
                if producer is None or id(producer) not in members or id(producer) not in upstream:
                    raise DefinitionError(
                        f"The condition of component '{c.id}' ({predicate}) reads a channel that no component "
                        "of this pipeline produces upstream of it; add its producer to the pipeline."
                    )
