"""Components the benchmarks run and compile.

They live at module top level in a module of their own: executors run in worker processes,
which import them by module name (the runner hands its sys.path to its workers).
"""

from __future__ import annotations

from headrace import (
    BaseComponent,
    BaseExecutor,
    ChannelParameter,
    ComponentSpec,
    ExecutionParameter,
    ExecutorClassSpec,
    OutputDict,
    component,
)
from headrace.types import standard_artifacts


@component
def Noop(x: int = 0) -> OutputDict(y=int):
    """Passes its input on: a node that does (almost) nothing."""
    return {"y": x}


class TouchSpec(ComponentSpec):
    """A custom-spec component: optional Integer in, Integer out, one parameter."""

    INPUTS = {"x": ChannelParameter(type=standard_artifacts.Integer, optional=True)}
    OUTPUTS = {"y": ChannelParameter(type=standard_artifacts.Integer)}
    PARAMETERS = {"label": ExecutionParameter(type=str, optional=True)}


class TouchExecutor(BaseExecutor):
    """Writes 1 (or the input's value) to the output value artifact."""

    def Do(self, input_dict, output_dict, exec_properties):
        src = input_dict.get("x") or []
        output_dict["y"][0].value = src[0].value if src else 1


class Touch(BaseComponent):
    """A ComponentSpec + BaseExecutor component."""

    SPEC_CLASS = TouchSpec
    EXECUTOR_SPEC = ExecutorClassSpec(TouchExecutor)

    def __init__(self, x=None, label=None):
        super().__init__(spec=TouchSpec(x=x, label=label))
