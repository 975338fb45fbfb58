"""The compile-target contract: adapters that hand a pipeline to another orchestrator as a file.

A target turns the IR into what its orchestrator reads (a Kubeflow Pipelines package, an Airflow DAG
folder, headrace's own IR) and runs nothing itself: the orchestrator later runs each node through
headrace's node launcher (Airflow) or KFP's (Kubeflow). A target implements `render` (the file's text;
it raises :class:`~headrace.errors.DefinitionError` for what its orchestrator cannot express, so that
shows when the pipeline is compiled, not when it runs), and a target that writes several files
(`writes_folder`) also `write`.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Sequence
from typing import ClassVar

from headrace.compiler import PipelineIR, compile_pipeline
from headrace.dsl import BaseComponent, Pipeline
from headrace.dsl.pipeline import one_exit_handler
from headrace.errors import DefinitionError


class CompileTarget(abc.ABC):
    """Base class of compile targets (see the module docstring)."""

    #: True when the output is a folder of files (`write`), False when it is one file (`render`).
    writes_folder: ClassVar[bool] = False

    @classmethod
    def from_options(cls, image: str | None = None) -> CompileTarget:
        """The target `headrace compile --target ...` uses; `image` is --image (targets that run
        nodes in containers use it)."""
        return cls()

    _exit_handler: BaseComponent | None = None

    def set_exit_handler(self, component: BaseComponent | Sequence[BaseComponent]) -> None:
        """Gives the pipelines this target compiles an exit handler (TFX's form of
        `Pipeline(..., exit_handler=...)`; a list of one component is taken too)."""
        self._exit_handler = one_exit_handler(component)

    def to_ir(self, pipeline: Pipeline | PipelineIR) -> PipelineIR:
        """Compiles a Pipeline; passes an IR through. The pipeline root is kept as written (a remote
        root such as gs://... must stay as it is); a target whose tasks run on this machine's
        filesystem makes it absolute."""
        if isinstance(pipeline, PipelineIR):
            return pipeline
        if isinstance(pipeline, Pipeline):
            return compile_pipeline(with_exit_handler(pipeline, self._exit_handler))
        raise DefinitionError(f"A target compiles a Pipeline or a PipelineIR, got {type(pipeline).__name__}.")

    @abc.abstractmethod
    def render(self, ir: PipelineIR, output: str | None = None) -> str:
        """The compiled file's text (for a folder target, its main file's); `output`, the path it is
        meant for, may choose its format."""

    def write(self, ir: PipelineIR, output: str) -> list[str]:
        """Writes the compiled pipeline at `output` (a file, or a folder if `writes_folder`); returns
        the paths written."""
        text = self.render(ir, output)
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
        return [output]

    def compile(self, pipeline: Pipeline | PipelineIR, output: str) -> list[str]:
        """Compiles `pipeline` and writes it at `output`; returns the paths written."""
        return self.write(self.to_ir(pipeline), output)


def with_exit_handler(pipeline: Pipeline, handler: BaseComponent | None) -> Pipeline:
    """The pipeline with the runner's exit handler set on it (if the runner has one)."""
    if handler is not None and pipeline.exit_handler is not handler:
        pipeline.set_exit_handler(handler)
    return pipeline


class IRTarget(CompileTarget):
    """headrace's own IR as JSON: what `headrace run x.json` runs and every other target reads."""

    def render(self, ir: PipelineIR, output: str | None = None) -> str:
        """The IR's JSON text."""
        return ir.dump() + "\n"
