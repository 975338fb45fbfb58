"""`BeamPipeline`: a function component's argument that receives a Beam pipeline. What is checked when the
function is decorated and the pipeline compiled (no Beam needed: these run in the fast tier, where importing
Beam fails the test); tests/dsl/test_beam_pipeline_arg_runs.py runs such components."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Optional

import pytest

from headrace import (
    BeamExecutorSpec,
    BeamPipeline,
    DefinitionError,
    InputArtifact,
    OutputArtifact,
    OutputDict,
    Parameter,
    Pipeline,
    component,
)
from headrace.compiler import compile_pipeline
from headrace.dsl.executor import BaseExecutor, ExecutorClassSpec, FunctionExecutorSpec
from headrace.dsl.function_component import arg_kinds, call_function
from headrace.errors import MissingDependencyError
from headrace.types import ComponentSpec, standard_artifacts
from headrace.types.component_spec import ChannelParameter


@component
def Produce(examples: OutputArtifact[standard_artifacts.Examples]) -> None:
    pass


@component
def Count(
    examples: InputArtifact[standard_artifacts.Examples],
    counted: OutputArtifact[standard_artifacts.Examples],
    beam_pipeline: BeamPipeline = None,
    factor: Parameter[int] = 1,
) -> OutputDict(n=int):
    return {"n": 0}


@component
def CountNoDefault(examples: InputArtifact[standard_artifacts.Examples], pipeline: BeamPipeline) -> None:
    pass


@component
def Plain(examples: InputArtifact[standard_artifacts.Examples]) -> None:
    pass


def test_the_beam_argument_is_neither_an_input_nor_a_parameter_and_marks_the_spec_as_beam():
    kinds = arg_kinds(Count.FUNCTION)
    assert kinds.beam_arg == "beam_pipeline"
    assert set(Count.SPEC_CLASS.INPUTS) == {"examples"}
    assert set(Count.SPEC_CLASS.PARAMETERS) == {"factor"}
    assert isinstance(Count.EXECUTOR_SPEC, FunctionExecutorSpec) and Count.EXECUTOR_SPEC.uses_beam
    assert arg_kinds(CountNoDefault.FUNCTION).beam_arg == "pipeline"  # no default is fine too
    assert arg_kinds(Plain.FUNCTION).beam_arg is None and not Plain.EXECUTOR_SPEC.uses_beam


def test_optional_beam_pipeline_is_accepted():
    def f(examples: InputArtifact[standard_artifacts.Examples], p: Optional[BeamPipeline] = None) -> None:  # noqa: UP045
        pass

    assert arg_kinds(component(f).FUNCTION).beam_arg == "p"


def test_the_beam_pipeline_cannot_be_passed_to_the_component():
    produce = Produce()
    with pytest.raises(DefinitionError, match="beam_pipeline"):
        Count(examples=produce.outputs["examples"], beam_pipeline=object())


def test_node_beam_arguments_go_to_its_executor_ir_after_the_pipelines_and_not_to_other_nodes(tmp_path):
    produce = Produce()
    own = Count(examples=produce.outputs["examples"]).with_id("own")
    own.with_beam_pipeline_args(["--direct_num_workers=3"]).with_beam_pipeline_args(["--my_flag=x"])
    other = Count(examples=produce.outputs["examples"]).with_id("other")
    ir = compile_pipeline(
        Pipeline("beamfn", str(tmp_path), [produce, own, other], beam_pipeline_args=["--direct_num_workers=2"])
    )
    assert ir.beam_pipeline_args == ("--direct_num_workers=2",)
    assert ir.node("own").executor["uses_beam"] and "uses_beam" not in ir.node("Produce").executor
    assert ir.written_version == 4  # a reader of version 3 would call the function without its pipeline
    assert compile_pipeline(Pipeline("plain", str(tmp_path), [Produce()])).written_version == 3
    assert ir.node("own").executor["beam_pipeline_args"] == ["--direct_num_workers=3", "--my_flag=x"]
    assert "beam_pipeline_args" not in ir.node("other").executor
    assert Count.EXECUTOR_SPEC.beam_pipeline_args == []  # the class's spec is untouched


def test_two_beam_pipeline_arguments_are_refused_naming_both():
    def two(a: BeamPipeline = None, b: BeamPipeline = None) -> None:
        pass

    with pytest.raises(DefinitionError, match=r"^@component two: arguments 'a' and 'b' are both BeamPipeline"):
        component(two)


def test_a_default_other_than_none_is_refused_with_the_fix():
    sentinel = object()

    def defaulted(p: BeamPipeline = sentinel) -> None:  # type: ignore[assignment]
        pass

    with pytest.raises(DefinitionError) as info:
        component(defaulted)
    message = str(info.value)
    assert message.startswith("@component defaulted: the default value of argument 'p' (BeamPipeline) must be None")
    assert "write `p: BeamPipeline = None`" in message


def test_beam_arguments_on_a_component_that_does_not_run_on_beam_are_refused():
    produce = Produce()
    with pytest.raises(DefinitionError, match=r"Plain's executor \(FunctionExecutorSpec\) does not; .*BeamPipeline"):
        Plain(examples=produce.outputs["examples"]).with_beam_pipeline_args(["--direct_num_workers=2"])

    class Spec(ComponentSpec):
        INPUTS = {"examples": ChannelParameter(standard_artifacts.Examples)}

    class NotBeam(BaseExecutor):
        pass

    from headrace.dsl import BaseComponent

    class ClassComponent(BaseComponent):
        SPEC_CLASS = Spec
        EXECUTOR_SPEC = ExecutorClassSpec(NotBeam)

        def __init__(self, examples):
            super().__init__(spec=Spec(examples=examples))

    with pytest.raises(DefinitionError, match="ExecutorClassSpec"):
        ClassComponent(examples=produce.outputs["examples"]).with_beam_pipeline_args(["--x"])

    class BeamComponent(ClassComponent):
        EXECUTOR_SPEC = BeamExecutorSpec(NotBeam, beam_pipeline_args=["--a"])

    node = BeamComponent(examples=produce.outputs["examples"]).with_beam_pipeline_args(["--b"])
    assert node.EXECUTOR_SPEC.beam_pipeline_args == ["--a", "--b"]
    assert BeamComponent.EXECUTOR_SPEC.beam_pipeline_args == ["--a"]
    with pytest.raises(DefinitionError, match=r"write \['--b'\]"):
        node.with_beam_pipeline_args("--b")
    with pytest.raises(DefinitionError, match="must be strings, got 3"):
        Count(examples=produce.outputs["examples"]).with_beam_pipeline_args([3])


def test_a_missing_beam_fails_the_call_with_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "apache_beam", None)  # `import apache_beam` raises ImportError
    examples, counted = standard_artifacts.Examples(), standard_artifacts.Examples()
    with pytest.raises(MissingDependencyError, match=r"@component Count's beam_pipeline.*headrace\[beam\]"):
        call_function(Count.FUNCTION, {"examples": [examples]}, {"counted": [counted]}, {})


DECORATE_WITHOUT_BEAM = """
import sys
from headrace import BeamPipeline, InputArtifact, component
from headrace.tfx.dsl.component.experimental.annotations import BeamComponentParameter
from headrace.tfx.dsl.component.experimental.decorators import component as tfx_component
from headrace.types import standard_artifacts

@component
def F(examples: InputArtifact[standard_artifacts.Examples], p: BeamPipeline = None) -> None:
    import apache_beam as beam

assert F.EXECUTOR_SPEC.uses_beam
assert "apache_beam" not in sys.modules, "decorating a Beam function imported Beam"
print("ok")
"""


def test_decorating_a_beam_function_does_not_import_beam():
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(DECORATE_WITHOUT_BEAM)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_standard_components_that_run_on_beam_take_node_beam_arguments(tmp_path):
    """TFX's StatisticsGen and BulkInferrer are Beam components: `.with_beam_pipeline_args` works on them (TFX's
    Kubeflow test pipelines use it), and their executors get the node's arguments after the pipeline's."""
    from headrace.components import BulkInferrer, StatisticsGen

    produce = Produce()
    stats = StatisticsGen(examples=produce.outputs["examples"]).with_beam_pipeline_args(["--direct_num_workers=4"])
    infer = BulkInferrer(examples=produce.outputs["examples"], model=_model_channel())
    infer.with_beam_pipeline_args(["--runner=DaskRunner"])
    ir = compile_pipeline(Pipeline("std", str(tmp_path), [produce, stats, infer.with_id("infer")]))
    assert ir.node("StatisticsGen").executor["beam_pipeline_args"] == ["--direct_num_workers=4"]
    assert ir.node("infer").executor["beam_pipeline_args"] == ["--runner=DaskRunner"]
    assert (
        "beam_pipeline_args"
        not in compile_pipeline(
            Pipeline("std2", str(tmp_path), [produce, StatisticsGen(examples=produce.outputs["examples"])])
        )
        .node("StatisticsGen")
        .executor
    )


def _model_channel():
    from headrace import Importer

    return Importer(source_uri="/models/m", artifact_type=standard_artifacts.Model).outputs["result"]
