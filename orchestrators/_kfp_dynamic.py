"""Dynamic parameters on Kubeflow Pipelines: what KFP can pass, and a clear refusal for the rest.

A parameter given `upstream.outputs['num'].future()[0].value` becomes a KFP task input parameter taken
from the upstream task's output parameter (`taskOutputParameter`), as TFX's Kubeflow V2 compiler does:
the upstream component declares an output parameter `value__<output key>` (of the value's KFP type),
which headrace's entrypoint writes from the value artifact it produced; the consumer's entrypoint
receives the value and checks it against the parameter's type. `execution_invocation().pipeline_run_id`
is the entrypoint's run id (`{{$.pipeline_job_name}}`).

KFP cannot compute: a value joined with text (`'gs://' + ...value`), `.b64encode()`, `.uri` or a
property as a parameter, a value of a non-scalar type (Bytes, JsonValue), or one produced by a node that
is not a Python step (an importer, a resolver, a container command, which write no output parameters).
Those are refused when the pipeline is compiled, naming the node, the parameter and the expression.
"""

from __future__ import annotations

from typing import Any

from headrace.compiler.ir import NodeIR, PipelineIR
from headrace.errors import DefinitionError
from headrace.types.placeholder_ir import PLACEHOLDER_KEY, expression_text, is_placeholder_ir

VALUE_PARAMETER_PREFIX = "value__"
RUN_ID = "{{$.pipeline_job_name}}"
# The KFP parameter type of each standard value artifact's value.
_KFP_TYPES = {"Integer": "NUMBER_INTEGER", "Float": "NUMBER_DOUBLE", "String": "STRING", "Boolean": "BOOLEAN"}


def value_parameter(output_key: str) -> str:
    """The output parameter through which a task passes its value artifact `output_key`'s value."""
    return VALUE_PARAMETER_PREFIX + output_key


def run_value(node: NodeIR, key: str) -> bool:
    """Whether the node's parameter `key` is the run id (`execution_invocation().pipeline_run_id`)."""
    value = node.parameters.get(key)
    return is_placeholder_ir(value) and value[PLACEHOLDER_KEY].get("op") == "run"


def dynamic_inputs(
    pb: Any, ir: PipelineIR, node: NodeIR, names: dict[str, str], component: Any, task: Any
) -> dict[tuple[str, str], str]:
    """Compiles the node's dynamic parameters into its task inputs; returns the output parameters its
    producers must declare, {(producer id, output key): KFP type name}.

    Raises:
        DefinitionError: a dynamic parameter KFP cannot express (see the module docstring).
    """
    wanted: dict[tuple[str, str], str] = {}
    for key, value in sorted(node.parameters.items()):
        if not is_placeholder_ir(value):
            continue
        expr = value[PLACEHOLDER_KEY]
        if expr["op"] == "run":
            continue  # the entrypoint's --run-id; a container's command gets {{$.pipeline_job_name}}
        future = expr.get("future") or {}
        if expr["op"] != "future" or future.get("attribute") != ["value"]:
            raise _refuse(
                node,
                key,
                expr,
                "a KFP task takes an upstream value only as it is, upstream.outputs['x'].future()[0].value. Compute "
                f"the text in the upstream component (or in '{node.id}' from the value) and pass the value alone",
            )
        producer = ir.node(future["producer"])
        if producer.kind not in ("python_function", "python_class"):
            raise _refuse(
                node,
                key,
                expr,
                f"'{producer.id}' is no Python step ({producer.kind}) and writes no KFP output parameter; wire "
                f"its output as an input of '{node.id}' and read the value there",
            )
        type_name = producer.outputs[future["output_key"]].artifact_type.name
        kfp_type = _KFP_TYPES.get(type_name)
        if kfp_type is None or (node.kind == "container" and kfp_type != "STRING"):
            what = (
                "a container's command line takes an upstream value as text only from a String"
                if kfp_type
                else "KFP passes the values of Integer, Float, String and Boolean artifacts only"
            )
            raise _refuse(
                node,
                key,
                expr,
                f"it reads a {type_name}, and {what}; wire the output as an input of '{node.id}' and read the "
                "value there",
            )
        component.input_definitions.parameters[key].parameter_type = getattr(pb.ParameterType, kfp_type)
        ref = task.inputs.parameters[key].task_output_parameter
        ref.producer_task = names[producer.id]
        ref.output_parameter_key = value_parameter(future["output_key"])
        wanted[(producer.id, future["output_key"])] = kfp_type
    return wanted


def value_outputs(pb: Any, spec: Any, names: dict[str, str], wanted: dict[tuple[str, str], str]) -> None:
    """Declares on each producer's component the output parameters its consumers read."""
    for (producer, output_key), kfp_type in sorted(wanted.items()):
        component = spec.components[f"comp-{names[producer]}"]
        parameter = component.output_definitions.parameters[value_parameter(output_key)]
        parameter.parameter_type = getattr(pb.ParameterType, kfp_type)


def _refuse(node: NodeIR, key: str, expr: dict[str, Any], why: str) -> DefinitionError:
    return DefinitionError(
        f"Kubeflow cannot pass parameter '{key}' of '{node.id}' = {expression_text(expr)}: {why}. "
        "(LocalDagRunner, BeamDagRunner and Airflow resolve any such expression.)"
    )
