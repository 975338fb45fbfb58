"""Runs one executor on one task, in whatever process calls it."""

from __future__ import annotations

import importlib
import importlib.util
import io
import os
import sys
import traceback
from types import ModuleType
from typing import Any, TextIO

from headrace.dsl.executor import USER_MODULE_PREFIX, BaseExecutor, user_module_name
from headrace.dsl.function_component import call_function
from headrace.launcher.task import ExecutionTask, ExecutorResult
from headrace.types.artifact import Artifact, ValueArtifact


def load_module(module: str, file: str = "") -> ModuleType:
    """Imports `module`; a module recorded with its file (a script, a pipeline file) is loaded
    from that file under a private name, with its directory on sys.path."""
    if file:
        name = module if module.startswith(USER_MODULE_PREFIX) else user_module_name(file)
        loaded = sys.modules.get(name)
        if loaded is not None and os.path.abspath(getattr(loaded, "__file__", "") or "") == os.path.abspath(file):
            return loaded
        return load_file_as_module(file, name)
    return importlib.import_module(module)


def load_file_as_module(path: str, name: str | None = None) -> ModuleType:
    """Executes a Python file as a module registered in sys.modules."""
    path = os.path.abspath(path)
    name = name or user_module_name(path)
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"Cannot load {path} as a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def resolve(executor: dict[str, Any]) -> Any:
    """The object an executor spec points at (a BaseExecutor class or a component function)."""
    obj: Any = load_module(executor["module"], executor.get("file", ""))
    for part in executor["qualname"].split("."):
        obj = getattr(obj, part)
    return getattr(obj, "FUNCTION", obj)  # a @component class wraps its function


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


def _run(task: ExecutionTask) -> ExecutorResult:
    try:
        kind = task.executor["kind"]
        if kind == "container":
            raise NotImplementedError(
                "Running container components is not available in this version of headrace: the container "
                "runtime lands with the Docker integration."
            )
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
                beam_pipeline_args=list(task.beam_pipeline_args),
            )
            target(context).Do(inputs, outputs, dict(task.exec_properties))
        else:
            raise ValueError(f"Unknown executor kind {kind!r}.")
        for arts in outputs.values():
            for art in arts:
                if isinstance(art, ValueArtifact) and art.has_value:
                    art.persist_value()
        return ExecutorResult(ok=True, output_dict={k: [a.to_dict() for a in v] for k, v in outputs.items()})
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        return ExecutorResult(ok=False, error_type=type(e).__name__, message=str(e), traceback=traceback.format_exc())
