"""Runs one executor on one task, in whatever process calls it."""

from __future__ import annotations

import dataclasses
import os
import sys
import traceback
from typing import Any

from headrace.dsl.executor import BaseExecutor
from headrace.dsl.function_component import call_function
from headrace.dsl.user_code import load
from headrace.errors import HeadraceError
from headrace.launcher.capture import append_to_log, capture_process, capture_thread, native_log_path
from headrace.launcher.task import ExecutionTask, ExecutorResult
from headrace.types.artifact import Artifact, ValueArtifact
from headrace.types.component_spec import SECRET_KEY, is_secret_ir


def resolve(executor: dict[str, Any]) -> Any:
    """The object an executor spec points at (a BaseExecutor class or a component function):
    imported by name, or loaded from the payload the compiler embedded. A user's script or
    pipeline file is never executed again to find it."""
    return load(executor)


def _artifacts(data: dict[str, list[dict[str, Any]]]) -> dict[str, list[Artifact]]:
    return {k: [Artifact.from_dict(a) for a in v] for k, v in data.items()}


def run_task(task: ExecutionTask, capture_logs: bool | None = None) -> ExecutorResult:
    """Runs the task's executor; never raises for a failure of user code.

    What the step prints goes to `task.log_path`, with the traceback of a failure appended, and to the
    terminal only under HEADRACE_VERBOSE=1 (see `headrace.launcher.capture`). `capture_logs=True`: this
    process runs one step at a time (a worker), so its fds 1 and 2 are the step's. None (the default):
    the step may share the process with others (steps on threads); in a notebook kernel nothing is
    captured there, since the cell is where a person reads what a step printed. False: nothing is
    captured (a container's entrypoint, whose output is the container's log)."""
    if capture_logs is False or not task.log_path or (capture_logs is None and _in_notebook()):
        return _run(task)
    if capture_logs:
        with capture_process(task.log_path) as found:
            result = _run(task)
        log_path = found[0]
        if not result.ok:
            append_to_log(task.log_path, _failure_text(result))
            log_path = task.log_path
    else:
        with capture_thread(task.log_path, native_log_path(task.pipeline_root, task.run_id)) as log:
            result = _run(task)
            if not result.ok:
                log.write(_failure_text(result))
        log_path = log.close()
    result.log_path = log_path
    return result


def _failure_text(result: ExecutorResult) -> str:
    return result.traceback or f"{result.error_type}: {result.message}\n"


def _in_notebook() -> bool:
    """Whether sys.stdout is a notebook cell's (ipykernel's stream)."""
    return type(sys.stdout).__module__.partition(".")[0] == "ipykernel"


def secret_variables(task: ExecutionTask) -> dict[str, str]:
    """Parameter -> the environment variable of each Secret parameter of the task."""
    return {k: v[SECRET_KEY] for k, v in task.exec_properties.items() if is_secret_ir(v)}


def with_secrets(task: ExecutionTask) -> ExecutionTask:
    """The task with each Secret parameter's value read from its environment variable (here, in the
    process that runs the step, so the value is never in the task file, the IR or the store)."""
    names = secret_variables(task)
    if not names:
        return task
    values = {}
    for key, env in names.items():
        if env not in os.environ:
            raise HeadraceError(
                f"{task.node_id}: parameter '{key}' is Secret({env!r}), but the environment variable {env} is not "
                "set in the process that runs this step; set it there (e.g. export it before running)."
            )
        values[key] = os.environ[env]
    return dataclasses.replace(task, exec_properties={**task.exec_properties, **values})


def _run(task: ExecutionTask) -> ExecutorResult:
    try:
        kind = task.executor["kind"]
        if kind == "container" or task.executor.get("image"):
            from headrace.launcher.container import run_container  # the docker SDK loads only here

            return run_container(task)  # Secrets: into the container's environment, or its argv
        task = with_secrets(task)
        target = resolve(task.executor)  # first: importing it registers the user's artifact types
        inputs = _artifacts(task.input_dict)
        outputs = _artifacts(task.output_dict)
        # the pipeline's Beam arguments, then the component's (with_beam_pipeline_args): later flags win
        beam_args = [*task.beam_pipeline_args, *task.executor.get("beam_pipeline_args", ())]
        if kind == "python_function":
            call_function(target, inputs, outputs, dict(task.exec_properties), beam_pipeline_args=beam_args)
        elif kind == "python_class":
            context = BaseExecutor.Context(
                pipeline_name=task.pipeline_name,
                pipeline_root=task.pipeline_root,
                pipeline_run_id=task.run_id,
                node_id=task.node_id,
                execution_id=task.execution_id,
                tmp_dir=task.tmp_dir,
                beam_pipeline_args=beam_args,
            )
            target(context).Do(inputs, outputs, dict(task.exec_properties))
        else:
            raise ValueError(f"Unknown executor kind {kind!r}.")
        registered = {k: [a.get("uri") for a in v] for k, v in task.output_dict.items()}
        for key, arts in outputs.items():
            if [a.uri for a in arts] != registered.get(key):
                # headrace writes values only where it made the output, never where the executor points it
                raise HeadraceError(
                    f"{task.node_id}: the executor moved output '{key}' to {[a.uri for a in arts]}; write into "
                    "the artifact's URI and set properties on it instead."
                )
            for art in arts:
                if isinstance(art, ValueArtifact):
                    art.persist_value()  # its file at the URI, as TFX lays it out
        return ExecutorResult(ok=True, output_dict={k: [a.to_dict() for a in v] for k, v in outputs.items()})
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        return ExecutorResult(
            ok=False,
            error_type=type(e).__name__,
            message=str(e),
            traceback=traceback.format_exc(),
            expected=isinstance(e, HeadraceError),
        )
