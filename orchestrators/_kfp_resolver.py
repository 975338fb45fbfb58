"""Resolver nodes as KFP resolver executors: queries over KFP's own ML Metadata, as TFX compiles them.

A KFP `resolver` executor selects artifacts from the backend's metadata store with a filter per output
(`outputArtifactQueries`); the filter language reads an artifact's `schema_title`, `state`, `name` (its
id on KFP) and `metadata.<key>` (the flat properties headrace's entrypoint writes on every output).

- LatestArtifactStrategy, id R: one task `r`, each output key querying the LIVE artifacts of its type
  (KFP's resolver takes the newest).
- LatestBlessedModelStrategy, id R: two tasks, as TFX 1.16 compiles it. `r-model-blessing-resolver`
  selects the newest LIVE ModelBlessing whose `blessed` is 1; `r-model-resolver` takes it as its input
  `input` and selects the LIVE Model whose id is that blessing's `current_model_id` (the Evaluator writes
  it; on Kubeflow an input artifact's id is its KFP metadata id, which KFP passes as the artifact's
  name). A consumer of the resolver's model reads the second task, of its blessing the first.
- SpanRangeStrategy with one fixed span (`static_range` with start_span_number == end_span_number, N):
  one task, each output key querying the LIVE artifacts of its type with `metadata.span.number_value=N`
  (the newest artifact of that span). Other span ranges cannot be written as such a query (a rolling
  range is relative to the spans the store holds, a range of spans wants one artifact per span):
  refused, saying what to use instead.

A Resolver input wired to a node's output is refused too: a query reads the whole store, not one
upstream task's output, so it would not mean what it means locally.

Nothing found is not a failure on Kubeflow either: the consuming input (the Evaluator's optional
`baseline_model`) is then absent.
"""

from __future__ import annotations

from typing import Any

from headrace.compiler.ir import NodeIR
from headrace.errors import DefinitionError
from headrace.orchestrators._kfp_spec import SCHEMA_PREFIX, type_schema

LIVE = "LIVE"
BLESSING_SUFFIX = "-model-blessing-resolver"
MODEL_SUFFIX = "-model-resolver"
MODEL_INPUT = "input"  # the blessing, as the model resolver's input (TFX's name)


def resolver_tasks(node: NodeIR, name: str) -> dict[str, str]:
    """For each output key of the Resolver, the KFP task that produces it.

    Raises:
        DefinitionError: what KFP's artifact queries cannot express (see the module docstring).
    """
    for key, inp in node.inputs.items():
        if inp.producer is not None:
            raise DefinitionError(
                f"Resolver '{node.id}' reads input '{key}' from '{inp.producer}'; on Kubeflow a Resolver is a query "
                "of KFP's metadata store and cannot be limited to one upstream task's output. Give it "
                f"Channel(type={inp.artifact_type.name}) to query the store, or connect '{inp.producer}' to the "
                "Resolver's consumers directly."
            )
    strategy = node.parameters.get("strategy")
    if strategy == "model_alias":
        raise DefinitionError(
            f"Resolver '{node.id}' uses ModelAliasStrategy, which reads the alias records headrace writes in its "
            "own ML Metadata store; KFP's store does not hold them. On Kubeflow use LatestBlessedModelStrategy for "
            "a baseline; ModelAliasStrategy runs under LocalDagRunner, Beam and Airflow."
        )
    if strategy == "latest_blessed_model":
        model_key, blessing_key = _blessed_keys(node)
        return {model_key: name + MODEL_SUFFIX, blessing_key: name + BLESSING_SUFFIX}
    if strategy == "latest_artifact" or _one_span(node) is not None:
        return {key: name for key in node.outputs}
    raise DefinitionError(
        f"Resolver '{node.id}' uses {_strategy_class(strategy)} with {node.parameters.get('config')}, which "
        "Kubeflow's artifact queries cannot express (a span range is relative to the spans the store holds, and a "
        "query cannot give one artifact per span). On Kubeflow use LatestArtifactStrategy (the newest artifact), "
        "SpanRangeStrategy with one fixed span ({'static_range': {'start_span_number': N, 'end_span_number': N}}) "
        "or LatestBlessedModelStrategy, or give the spans' data to the pipeline with an Importer; any "
        "SpanRangeStrategy runs under LocalDagRunner, Beam and Airflow."
    )


def _one_span(node: NodeIR) -> int | None:
    """The span of a SpanRangeStrategy over one fixed span, else None."""
    if node.parameters.get("strategy") != "span_range":
        return None
    static = (node.parameters.get("config") or {}).get("static_range")
    if static is None or static.get("start_span_number", 0) != static.get("end_span_number", 0):
        return None
    return int(static.get("start_span_number", 0))


def add_resolver(pb: Any, spec: Any, dag: Any, deployment: Any, node: NodeIR, name: str, upstream: list[str]) -> None:
    """Adds the Resolver's task(s) to `dag`, their components to `spec` and their resolver executors to
    `deployment`."""
    strategy = node.parameters.get("strategy")
    if strategy == "latest_blessed_model":
        model_key, blessing_key = _blessed_keys(node)
        blessing = _task(spec, dag, name + BLESSING_SUFFIX, upstream)
        _output(pb, spec, blessing, blessing_key, "ModelBlessing")
        query = _query(deployment, blessing, blessing_key)
        query.filter = f"{_typed(node, blessing_key)} AND metadata.blessed.number_value=1"
        model = _task(spec, dag, name + MODEL_SUFFIX, [name + BLESSING_SUFFIX])
        _output(pb, spec, model, model_key, "Model")
        component = spec.components[f"comp-{model}"]
        component.input_definitions.artifacts[MODEL_INPUT].artifact_type.CopyFrom(_schema(pb, node, blessing_key))
        ref = dag.tasks[model].inputs.artifacts[MODEL_INPUT].task_output_artifact
        ref.producer_task, ref.output_artifact_key = blessing, blessing_key
        query = _query(deployment, model, model_key)
        current = f"{{{{$.inputs.artifacts['{MODEL_INPUT}'].metadata['current_model_id']}}}}"
        query.filter = f'{_typed(node, model_key)} AND name="{current}"'
        return
    resolver_tasks(node, name)  # refuses a strategy Kubeflow cannot express
    span = _one_span(node)
    task = _task(spec, dag, name, upstream)
    for key, out in node.outputs.items():
        _output(pb, spec, task, key, out.artifact_type.name)
        query = _query(deployment, task, key)
        query.filter = _typed(node, key) + ("" if span is None else f" AND metadata.span.number_value={span}")


def _blessed_keys(node: NodeIR) -> tuple[str, str]:
    by_type = {out.artifact_type.name: key for key, out in node.outputs.items()}
    return by_type["Model"], by_type["ModelBlessing"]


def _strategy_class(strategy: Any) -> str:
    return {"span_range": "SpanRangeStrategy"}.get(str(strategy), f"the strategy {strategy!r}")


def _task(spec: Any, dag: Any, name: str, upstream: list[str]) -> str:
    task = dag.tasks[name]
    task.task_info.name = name
    task.component_ref.name = f"comp-{name}"
    task.dependent_tasks.extend(sorted(set(upstream)))
    spec.components[f"comp-{name}"].executor_label = f"exec-{name}"
    return name


def _schema(pb: Any, node: NodeIR, key: str) -> Any:
    return type_schema(pb, node.outputs[key].artifact_type.name)


def _output(pb: Any, spec: Any, task: str, key: str, type_name: str) -> None:
    component = spec.components[f"comp-{task}"]
    component.output_definitions.artifacts[key].artifact_type.CopyFrom(type_schema(pb, type_name))


def _query(deployment: Any, task: str, key: str) -> Any:
    return deployment.executors[f"exec-{task}"].resolver.output_artifact_queries[key]


def _typed(node: NodeIR, key: str) -> str:
    return f'schema_title="{SCHEMA_PREFIX}{node.outputs[key].artifact_type.name}" AND state={LIVE}'
