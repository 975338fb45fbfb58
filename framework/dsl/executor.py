"""Executors and executor specs: how a component's work is run."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterable
from typing import Any, TypeGuard

from headrace.dsl.user_code import USER_MODULE_PREFIX, display_module_name, ship, user_module_name
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

    def _log_startup(
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        """Logs the start of an execution (at debug level), as TFX executors do."""
        import logging

        logging.getLogger(type(self).__module__).debug("Starting %s execution.", type(self).__name__)

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

    def to_ir(self, cache: dict[int, Any] | None = None) -> dict[str, Any]:
        """The executor's IR form: a JSON dict whose `kind` says how the launcher runs it.

        Args:
            cache: A memo the compiler shares between the nodes of one compile.
        """
        raise NotImplementedError


class ExecutorClassSpec(ExecutorSpec):
    """Runs a :class:`BaseExecutor` subclass.

    Args:
        executor_class: The executor.
        worker_group: Executors of one group prefer the worker process that ran one of the group
            before, so an expensive import (TensorFlow, TFDV) is paid once per run, not per step.
    """

    def __init__(self, executor_class: type[BaseExecutor], worker_group: str | None = None):
        if not (inspect.isclass(executor_class) and issubclass(executor_class, BaseExecutor)):
            raise DefinitionError(f"ExecutorClassSpec needs a BaseExecutor subclass, got {executor_class!r}.")
        self.executor_class = executor_class
        self.worker_group = worker_group

    def to_ir(self, cache: dict[int, Any] | None = None) -> dict[str, Any]:
        group = {"worker_group": self.worker_group} if self.worker_group else {}
        return {"kind": "python_class", **ship(self.executor_class, self.executor_class.__name__, cache), **group}


class _BeamArguments:
    """The Beam arguments an executor spec carries for its component (BeamExecutorSpec, and the spec of
    an `@component` function with a BeamPipeline argument). At run time the executor gets the pipeline's
    `beam_pipeline_args` followed by these, so a component's own arguments win where both set a flag
    (as in TFX)."""

    beam_pipeline_args: list[str]

    def _owner(self) -> str:
        return type(self).__name__

    def add_beam_pipeline_args(self, beam_pipeline_args: Iterable[str]) -> None:
        """Appends Beam arguments for this component."""
        if isinstance(beam_pipeline_args, str):
            raise DefinitionError(
                f"{self._owner()}: beam_pipeline_args must be a list of strings, got the string "
                f"{beam_pipeline_args!r}; write [{beam_pipeline_args!r}]."
            )
        args = list(beam_pipeline_args)
        bad = [a for a in args if not isinstance(a, str)]
        if bad:
            raise DefinitionError(f"{self._owner()}: beam_pipeline_args must be strings, got {bad[0]!r}.")
        self.beam_pipeline_args.extend(args)

    def _with_beam_args(self, ir: dict[str, Any]) -> dict[str, Any]:
        return {**ir, "beam_pipeline_args": list(self.beam_pipeline_args)} if self.beam_pipeline_args else ir


class BeamExecutorSpec(_BeamArguments, ExecutorClassSpec):
    """Runs a :class:`BaseExecutor` subclass that builds Beam pipelines (TFX's name).

    The executor reads its Beam arguments from `self.context.beam_pipeline_args`: the pipeline's
    `beam_pipeline_args` followed by this spec's, so a component's own arguments win where both
    set a flag (as in TFX).

    Args:
        executor_class: The executor.
        worker_group: As for :class:`ExecutorClassSpec`.
        beam_pipeline_args: Beam arguments for this component only, e.g.
            `['--direct_running_mode=multi_processing', '--direct_num_workers=4']`.
    """

    def __init__(
        self,
        executor_class: type[BaseExecutor],
        worker_group: str | None = None,
        beam_pipeline_args: Iterable[str] | None = None,
    ):
        super().__init__(executor_class, worker_group=worker_group)
        self.beam_pipeline_args: list[str] = []
        self.add_beam_pipeline_args(beam_pipeline_args or [])

    def copy(self) -> BeamExecutorSpec:
        """A copy whose arguments can be changed without changing this spec's."""
        return BeamExecutorSpec(self.executor_class, self.worker_group, self.beam_pipeline_args)

    def to_ir(self, cache: dict[int, Any] | None = None) -> dict[str, Any]:
        return self._with_beam_args(super().to_ir(cache))


class FunctionExecutorSpec(_BeamArguments, ExecutorSpec):
    """Runs a Python function declared with `@component`.

    Args:
        func: The function.
        uses_beam: The function has a BeamPipeline argument: it is given a Beam pipeline built from the
            pipeline's `beam_pipeline_args` followed by `beam_pipeline_args`.
        beam_pipeline_args: Beam arguments for this component only (only with `uses_beam`).
    """

    def __init__(self, func: Any, uses_beam: bool = False, beam_pipeline_args: Iterable[str] | None = None):
        self.func = func
        self.uses_beam = uses_beam
        self.beam_pipeline_args: list[str] = []
        if beam_pipeline_args:
            self.add_beam_pipeline_args(beam_pipeline_args)

    def _owner(self) -> str:
        return f"@component {self.func.__name__}"

    def add_beam_pipeline_args(self, beam_pipeline_args: Iterable[str]) -> None:
        """Appends Beam arguments for this component; only for a function that takes a BeamPipeline."""
        if not self.uses_beam:
            raise DefinitionError(
                f"{self._owner()} does not run on Beam, so it takes no Beam arguments: add an argument "
                "`beam_pipeline: BeamPipeline = None` (it receives the pipeline these arguments build), or drop "
                "the Beam arguments."
            )
        super().add_beam_pipeline_args(beam_pipeline_args)

    def copy(self) -> FunctionExecutorSpec:
        """A copy whose arguments can be changed without changing this spec's."""
        return FunctionExecutorSpec(self.func, self.uses_beam, self.beam_pipeline_args)

    def to_ir(self, cache: dict[int, Any] | None = None) -> dict[str, Any]:
        ir = {"kind": "python_function", **ship(self.func, f"@component {self.func.__name__}", cache)}
        return self._with_beam_args({**ir, "uses_beam": True}) if self.uses_beam else ir


def beam_capable(spec: ExecutorSpec) -> TypeGuard[BeamExecutorSpec | FunctionExecutorSpec]:
    """Whether `spec` runs an executor that builds Beam pipelines, so it takes Beam arguments of its own."""
    return isinstance(spec, BeamExecutorSpec) or (isinstance(spec, FunctionExecutorSpec) and spec.uses_beam)


__all__ = [
    "USER_MODULE_PREFIX",
    "BaseExecutor",
    "BeamExecutorSpec",
    "ExecutorClassSpec",
    "ExecutorSpec",
    "FunctionExecutorSpec",
    "beam_capable",
    "display_module_name",
    "user_module_name",
]
