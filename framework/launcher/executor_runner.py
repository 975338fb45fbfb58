"""Runs one executor on one task, in whatever process calls it."""

from __future__ import annotations

import dataclasses
import io
import os
import sys
import traceback
from typing import Any, TextIO

from headrace.dsl.executor import BaseExecutor
from headrace.dsl.function_component import call_function
from headrace.dsl.user_code import load
from headrace.errors import HeadraceError
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


class _Tee(io.TextIOBase):
    """A stream that writes through to the terminal and to the execution's log file, which is
    created on the first write (a step that prints nothing costs nothing)."""

    def __init__(self, stream: TextIO, log: _LazyLog):
        self._stream = stream
        self._log = log

    def write(self, text: str) -> int:
        self._stream.write(text)
        self._log.write(text)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()
        self._log.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()


class _LazyLog:
    def __init__(self, path: str):
        self.path = path
        self.file: TextIO | None = None

    def write(self, text: str) -> None:
        if self.file is None:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            self.file = open(self.path, "a", encoding="utf-8")  # closed in close()
        self.file.write(text)

    def flush(self) -> None:
        if self.file is not None:
            self.file.flush()

    def close(self) -> str:
        """Closes the file; returns its path if anything was written."""
        if self.file is None:
            return ""
        self.file.close()
        return self.path


def run_task(task: ExecutionTask, capture_logs: bool = False) -> ExecutorResult:
    """Runs the task's executor; never raises for a failure of user code.

    With `capture_logs` (worker processes, which run one task at a time), what the step prints
    goes to the terminal and to `task.log_path`, with the traceback of a failure appended."""
    if not (capture_logs and task.log_path):
        return _run(task)
    log = _LazyLog(task.log_path)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Tee(saved[0], log), _Tee(saved[1], log)
    try:
        result = _run(task)
        if not result.ok:
            log.write(result.traceback or f"{result.error_type}: {result.message}\n")
    finally:
        sys.stdout, sys.stderr = saved
        result_log = log.close()
    result.log_path = result_log
    return result


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
        if kind == "python_function":
            call_function(target, inputs, outputs, dict(task.exec_properties))
        elif kind == "python_class":
            context = BaseExecutor.Context(
                pipeline_name=task.pipeline_name,
                pipeline_root=task.pipeline_root,
                pipeline_run_id=task.run_id,
                node_id=task.node_id,
                execution_id=task.execution_id,
                tmp_dir=task.tmp_dir,
                # the pipeline's Beam arguments, then the component's (BeamExecutorSpec): later flags win
                beam_pipeline_args=[*task.beam_pipeline_args, *task.executor.get("beam_pipeline_args", ())],
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
                if isinstance(art, ValueArtifact) and art.has_value:
                    art.persist_value()
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
