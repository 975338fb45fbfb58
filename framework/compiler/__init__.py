"""Compiling pipelines to the IR, and reading the IR back."""

from headrace.compiler.compiler import Compiler, compile_component, compile_pipeline, runtime_parameters_of
from headrace.compiler.ir import IR_VERSION, ArtifactTypeIR, InputIR, NodeIR, OutputIR, PipelineIR, dump, load

__all__ = [
    "IR_VERSION",
    "ArtifactTypeIR",
    "Compiler",
    "InputIR",
    "NodeIR",
    "OutputIR",
    "PipelineIR",
    "compile_component",
    "compile_pipeline",
    "dump",
    "load",
    "runtime_parameters_of",
]
