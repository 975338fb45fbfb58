"""Executors and executor specs: how a component's work is run."""

from __future__ import annotations

import dataclasses
import inspect
import os
import sys
from typing import Any

from headrace.errors import DefinitionError
from headrace.types.artifact import Artifact


class BaseExecutor:
    """Base class of class-based executors: override `Do`.

    `Do(input_dict, output_dict, exec_properties)` receives lists of artifacts per key,
    as in TFX. It may set properties on output artifacts; raising fails the node.
    """

    @dataclasses.dataclass
    class Context:
        """What an executor may want to know about where it runs."""

        pipeline_name: str = ""
        pipeline_root: str = ""
        pipeline_run_id: str = ""
        node_id: str = ""
        execution_id: int = 0
        tmp_dir: str = ""
        beam_pipeline_args: list[str] = dataclasses.field(default_factory=list)

    def __init__(self, context: BaseExecutor.Context | None = None):
        self._context = context or BaseExecutor.Context()

    @property
    def context(self) -> BaseExecutor.Context:
        """The execution context."""
        return self._context

    def Do(
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> Any:
        """Does the work. Subclasses must override this."""
        raise NotImplementedError(f"{type(self).__name__} must implement Do(input_dict, output_dict, exec_properties).")


class ExecutorSpec:
    """Base of executor specs; `to_ir()` gives the executor's IR form."""

    def to_ir(self) -> dict[str, Any]:
        """The executor's IR form: a JSON dict whose `kind` says how the launcher runs it."""
        raise NotImplementedError


def code_location(obj: Any) -> dict[str, str]:
    """Module, qualname and (for modules loaded from a file path) the file, as the IR records them.

    Raises:
        DefinitionError: if the object is not reachable from its module's top level.
    """
    qualname = obj.__qualname__
    if "<locals>" in qualname:
        raise DefinitionError(
            f"'{obj.__name__}' is defined inside a function ({qualname}); define it at module level so the "
            "executor process can import it."
        )
    module = obj.__module__
    loc = {"module": module, "qualname": qualname, "file": ""}
    file = getattr(sys.modules.get(module), "__file__", None)
    if file and (module == "__main__" or module.startswith(USER_MODULE_PREFIX)):
        # A script run as `python file.py` compiles to the same IR as `headrace run file.py`.
        loc["file"] = os.path.abspath(file)
        loc["module"] = user_module_name(file)
    return loc


USER_MODULE_PREFIX = "_headrace_user_"


def user_module_name(path: str) -> str:
    """The private module name a user's file (a pipeline file, a script) is loaded under."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return USER_MODULE_PREFIX + "".join(ch if ch.isalnum() else "_" for ch in stem)


def display_module_name(module: str) -> str:
    """A module name for people: a user's file by its name, not by headrace's private one."""
    if module == "__main__":
        file = getattr(sys.modules.get("__main__"), "__file__", None)
        module = user_module_name(file) if file else module
    return module.removeprefix(USER_MODULE_PREFIX)


class ExecutorClassSpec(ExecutorSpec):
    """Runs a :class:`BaseExecutor` subclass."""

    def __init__(self, executor_class: type[BaseExecutor]):
        if not (inspect.isclass(executor_class) and issubclass(executor_class, BaseExecutor)):
            raise DefinitionError(f"ExecutorClassSpec needs a BaseExecutor subclass, got {executor_class!r}.")
        self.executor_class = executor_class

    def to_ir(self) -> dict[str, Any]:
        return {"kind": "python_class", **code_location(self.executor_class)}


class FunctionExecutorSpec(ExecutorSpec):
    """Runs a Python function declared with `@component`."""

    def __init__(self, func: Any):
        self.func = func

    def to_ir(self) -> dict[str, Any]:
        return {"kind": "python_function", **code_location(self.func)}
