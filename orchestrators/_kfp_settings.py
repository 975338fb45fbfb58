"""How a node runs, on Kubeflow: retry policies, resources, runtime parameters and the exit handler,
in the PipelineSpec fields kfp's own compiler uses for them.

- `with_retry` is the task's `retryPolicy` (maxRetryCount, backoffDuration, backoffFactor,
  backoffMaxDuration), which KFP's backend applies.
- `with_resources` is the container's `resources`: the Kubernetes quantities as requests and limits
  (`resourceCpuLimit` ...), and the accelerator's type and count.
- `with_timeout` has no PipelineSpec field: the node's IR carries it and headrace's entrypoint stops
  the executor at the timeout inside the container (the task then fails, and its retries apply).
- A `RuntimeParameter` is a pipeline input (`root.inputDefinitions`, with its default) that the task
  reads through `componentInputParameter`; `headrace submit --param name=value` or KFP's UI gives it.
- The exit handler is kfp's `dsl.ExitHandler`: every other task moves into the DAG of a task
  `exit-handler-1`, and the handler runs after it with trigger strategy ALL_UPSTREAM_TASKS_COMPLETED,
  receiving the run's PipelineTaskFinalStatus where it asked for `FinalStatusStr()`.
"""

from __future__ import annotations

from typing import Any

from headrace.compiler.ir import NodeIR, PipelineIR
from headrace.orchestrators._kfp_spec import struct_value
from headrace.types.runtime import is_final_status, runtime_parameter_name

EXIT_GROUP = "exit-handler-1"  # kfp's name for the first ExitHandler group
CHANNEL_PREFIX = "pipelinechannel--"  # kfp's name for a pipeline input forwarded into a sub-DAG
_PTYPES = {"int": "NUMBER_INTEGER", "float": "NUMBER_DOUBLE", "str": "STRING", "bool": "BOOLEAN"}


def retry_policy(node: NodeIR, task: Any) -> None:
    """The node's retry policy as the task's retryPolicy."""
    policy = node.retry
    if not policy:
        return
    retry = task.retry_policy
    retry.max_retry_count = int(policy["max_retries"])
    retry.backoff_duration.FromTimedelta(_seconds(policy.get("backoff_seconds", 0.0)))
    retry.backoff_factor = float(policy.get("backoff_factor", 2.0))
    retry.backoff_max_duration.FromTimedelta(_seconds(policy.get("max_backoff_seconds", 3600.0)))


def _seconds(value: float) -> Any:
    import datetime

    return datetime.timedelta(seconds=float(value))


def resources(node: NodeIR, container: Any) -> None:
    """The node's resources as the container's requests and limits."""
    wanted = node.resources
    if not wanted:
        return
    spec = container.resources
    if "cpu" in wanted:
        spec.resource_cpu_limit = spec.resource_cpu_request = wanted["cpu"]
    if "memory" in wanted:
        spec.resource_memory_limit = spec.resource_memory_request = wanted["memory"]
    if "accelerator" in wanted:
        count = str(wanted.get("accelerator_count", 1))
        spec.accelerator.resource_type = spec.accelerator.type = wanted["accelerator"]
        spec.accelerator.resource_count = count
        spec.accelerator.count = int(count)


def pipeline_inputs(pb: Any, spec: Any, ir: PipelineIR) -> None:
    """The runtime parameters as the pipeline's inputs, with their defaults."""
    for name, decl in sorted(ir.runtime_parameters.items()):
        param = spec.root.input_definitions.parameters[name]
        param.parameter_type = getattr(pb.ParameterType, _PTYPES[decl["ptype"]])
        if decl.get("description"):
            param.description = decl["description"]
        if "default" in decl:
            param.default_value.CopyFrom(struct_value(decl["default"]))
            param.is_optional = True


def runtime_inputs(pb: Any, ir: PipelineIR, node: NodeIR, component: Any, task: Any, in_group: bool) -> None:
    """The node's parameters that the run gives: runtime parameters from the pipeline's inputs (through
    the exit-handler group when the task is inside it), and an exit handler's final status."""
    for key, value in sorted(node.parameters.items()):
        name = runtime_parameter_name(value)
        if name is not None:
            ptype = ir.runtime_parameters[name]["ptype"]
            component.input_definitions.parameters[key].parameter_type = getattr(pb.ParameterType, _PTYPES[ptype])
            task.inputs.parameters[key].component_input_parameter = CHANNEL_PREFIX + name if in_group else name
        elif is_final_status(value):
            definition = component.input_definitions.parameters[key]
            definition.parameter_type = pb.ParameterType.TASK_FINAL_STATUS
            definition.is_optional = True
            task.inputs.parameters[key].task_final_status.producer_task = EXIT_GROUP


def exit_group(pb: Any, spec: Any, ir: PipelineIR) -> Any:
    """The exit-handler group's sub-DAG (its task in the root DAG, forwarding the pipeline's inputs)."""
    component = spec.components[f"comp-{EXIT_GROUP}"]
    task = spec.root.dag.tasks[EXIT_GROUP]
    task.task_info.name = EXIT_GROUP
    task.component_ref.name = f"comp-{EXIT_GROUP}"
    for name, decl in sorted(ir.runtime_parameters.items()):
        channel = CHANNEL_PREFIX + name
        component.input_definitions.parameters[channel].parameter_type = getattr(
            pb.ParameterType, _PTYPES[decl["ptype"]]
        )
        task.inputs.parameters[channel].component_input_parameter = name
    return component.dag


def exit_handler_task(task: Any) -> None:
    """The exit handler's task: after the group, whatever happened in it."""
    task.dependent_tasks.append(EXIT_GROUP)
    task.trigger_policy.strategy = task.trigger_policy.TriggerStrategy.ALL_UPSTREAM_TASKS_COMPLETED
