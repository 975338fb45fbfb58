"""Issue 18, point 3: TFX's placeholder language after only the import rewrite `tfx` -> `headrace.tfx`:
conditions with ph.logical_and / logical_or / logical_not, the Placeholder and Predicate classes, and
dynamic execution properties (an upstream value artifact's `future()[0].value` given to a parameter,
resolved when the node runs). Each test names the TFX file (v1.16) its code comes from."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from ported.compiler_testdata import dynamic_exec_properties_pipeline as dynamic

from headrace.compiler import compile_pipeline
from headrace.tfx import v1 as tfx
from headrace.tfx.components.example_gen import utils
from headrace.tfx.dsl.component.experimental.annotations import OutputArtifact, Parameter
from headrace.tfx.dsl.component.experimental.decorators import component
from headrace.tfx.dsl.experimental.conditionals import conditional
from headrace.tfx.dsl.placeholder import placeholder as ph
from headrace.tfx.orchestration import pipeline
from headrace.tfx.orchestration.local.local_dag_runner import LocalDagRunner
from headrace.tfx.types import standard_artifacts
from headrace.tfx.utils import proto_utils


# -- tfx/dsl/compiler/testdata/dynamic_exec_properties_pipeline.py, copied verbatim (tests/tfx/ported) ----------
def test_dynamic_exec_properties_pipeline_compiles_with_the_upstream_dependency():
    """TFX's compiler test pipeline: DownstreamComponent(input_num=upstream.outputs['num'].future()[0].value,
    input_str=ph.execution_invocation().pipeline_run_id), its __init__ annotated Union[int, ph.Placeholder]."""
    ir = compile_pipeline(dynamic.create_test_pipeline())
    down = ir.node("DownstreamComponent")
    assert down.upstream == ("UpstreamComponent",)
    assert down.parameters["input_num"]["$placeholder"]["future"]["output_key"] == "num"
    assert down.parameters["input_str"]["$placeholder"] == {"op": "run", "key": "pipeline_run_id"}


def test_dynamic_exec_properties_pipeline_runs_with_the_values_resolved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # its pipeline_root is relative: 'pipeline/dynamic_exec_properties_pipeline'
    seen: list[dict] = []
    monkeypatch.setattr(dynamic.Executor, "Do", lambda self, i, o, exec_properties: seen.append(exec_properties))
    p = dynamic.create_test_pipeline()
    result = LocalDagRunner(executor_mode="inprocess").run(p)  # the patched executor runs in this process
    assert seen == [{"input_num": 2, "input_str": result.run_id}]  # UpstreamComponent: num = start_num + 1


# -- tfx/dsl/compiler/testdata/conditional_pipeline.py -----------------------------------------------------------
# Its Cond blocks, verbatim; the components they read are small stand-ins with the same output keys, whose
# blessings are Integer artifacts (TFX's file reads `.value` of a ModelBlessing, which fails at run time there too).
@component
def Evaluator(blessed: Parameter[int], blessing: OutputArtifact[standard_artifacts.Integer]):
    blessing.value = blessed


@component
def InfraValidator(blessed: Parameter[int], blessing: OutputArtifact[standard_artifacts.Integer]):
    blessing.value = blessed


@component
def Trainer(model: OutputArtifact[standard_artifacts.Model]):
    Path(model.uri, "saved_model.pb").write_text("model")


@component
def Pusher(pushed_model: OutputArtifact[standard_artifacts.PushedModel]):
    pass


def _conditional(root: str, evaluator_blessed: int, infra_blessed: int):
    trainer = Trainer()
    evaluator = Evaluator(blessed=evaluator_blessed)
    with conditional.Cond(evaluator.outputs["blessing"].future()[0].value == 1):
        infra_validator = InfraValidator(blessed=infra_blessed)
        with conditional.Cond(
            ph.logical_and(
                infra_validator.outputs["blessing"].future()[0].value == 1,
                trainer.outputs["model"].future()[0].uri != "",
            )
        ):  # pylint: disable=g-explicit-bool-comparison
            pusher = Pusher()
    return pipeline.Pipeline(
        pipeline_name="cond", pipeline_root=root, components=[trainer, evaluator, infra_validator, pusher]
    )


@pytest.mark.parametrize(
    ("evaluator", "infra", "states"),
    [(1, 1, ("COMPLETE", "COMPLETE")), (1, 0, ("COMPLETE", "SKIPPED")), (0, 1, ("SKIPPED", "SKIPPED"))],
)
def test_conditional_pipeline_nested_cond_with_logical_and(tmp_path, evaluator, infra, states):
    result = LocalDagRunner().run(_conditional(str(tmp_path), evaluator, infra))
    assert result.state == "COMPLETE"
    assert (result.nodes["InfraValidator"].state, result.nodes["Pusher"].state) == states


# -- tfx/types/channel_wrapped_placeholder_test.py: testConcat, testJoinWithSelf --------------------------------
# TFX builds its channels with test_node.TestNode producers; here two components' outputs stand in.
@component
def Left(l: OutputArtifact[standard_artifacts.String]):  # noqa: E741 - TFX's output key
    l.value = "left"


def test_channel_wrapped_placeholders_concatenate_and_join_into_placeholders():
    left = Left().outputs["l"].future().value
    right = Left().with_id("right").outputs["l"].future().value
    for a, b in ((left, right), (left, "#"), ("http://", right)):
        assert isinstance(a + b, ph.Placeholder)
    assert isinstance(ph.join([left, left]), ph.Placeholder)
    assert isinstance(left, ph.ChannelWrappedPlaceholder)


# -- tfx/orchestration/pipeline_test.py: testPipelineWithDynamicExecProperties ----------------------------------
# Its `_make_fake_component_instance` helper builds components from a spec; function components stand in. TFX's
# output type there is a plain Artifact; headrace checks `.value` against a value artifact type when the
# component is defined (TFX when the pipeline is compiled), so the output is a String here.
@component
def ComponentA(output: OutputArtifact[standard_artifacts.String]):
    output.value = "a"


@component
def ComponentB(dynamic_exec_property: Parameter[str]) -> tfx.dsl.components.OutputDict(out=str):
    return {"out": dynamic_exec_property}


def test_pipeline_with_dynamic_exec_properties_has_the_producer_upstream(tmp_path):
    component_a = ComponentA()
    dynamic_exec_prop = component_a.outputs["output"].future()[0].value + "foo"
    component_b = ComponentB(dynamic_exec_property=dynamic_exec_prop)
    my_pipeline = pipeline.Pipeline(
        pipeline_name="a", pipeline_root=str(tmp_path), components=[component_a, component_b], enable_cache=True
    )
    assert my_pipeline.components[1].upstream_nodes == [component_a]
    result = LocalDagRunner().run(my_pipeline)
    [uri] = result.nodes["ComponentB"].outputs["out"]
    out = standard_artifacts.String()
    out.uri = uri
    assert out.value == "afoo"


# -- tfx/dsl/placeholder/placeholder_test.py: the cases that are not about TFX's proto encoding ------------------
def test_placeholder_test_rejects_value_of_output_artifact():
    with pytest.raises(ValueError):
        _ = ph.output("primitive").value


def test_placeholder_test_iterate():
    p = ph.input("model")
    with pytest.raises(RuntimeError, match=r"Iterating over a placeholder is not supported. "):
        # Iterate over a placeholder by mistake.
        for _ in p:
            break


def test_placeholder_test_join_placeholders_with_separator_in_a_container_command(tmp_path):
    """testJoinPlaceholdersWithSeparator's expression, placed in a container component's command."""
    a = ph.output("model").uri
    joined = ph.join([a, "-", a, a], separator=",")
    assert isinstance(joined, ph.Placeholder)
    make = tfx.dsl.experimental.create_container_component(
        name="Joined", image="alpine", command=["echo", joined], outputs={"model": standard_artifacts.Model}
    )
    p = pipeline.Pipeline(pipeline_name="j", pipeline_root=str(tmp_path), components=[make()])
    [item] = [c for c in compile_pipeline(p).nodes[0].executor["command"] if not isinstance(c, str)]
    assert [i if isinstance(i, str) else i["placeholder"] for i in item["items"]] == [
        "output_uri",
        ",",
        "-",
        ",",
        "output_uri",
        ",",
        "output_uri",
    ]


# -- the v1 API: tfx.dsl.placeholders and Cond with logical_or / logical_not --------------------------------------
def test_v1_placeholders_and_logical_operators_in_a_cond(tmp_path):
    """The penguin example's Cond (tfx/examples/penguin/penguin_pipeline_local.py) widened with ph.logical_or /
    ph.logical_not; tfx.dsl.placeholders serves exec_property, input, output and execution_invocation."""
    assert {"exec_property", "input", "output", "execution_invocation"} <= set(dir(tfx.dsl.placeholders))
    evaluator = Evaluator(blessed=0)
    with tfx.dsl.Cond(
        ph.logical_or(
            evaluator.outputs["blessing"].future()[0].value == 1,
            ph.logical_not(evaluator.outputs["blessing"].future()[0].value < 5),
        )
    ):
        pusher = Pusher()
    result = LocalDagRunner().run(
        tfx.dsl.Pipeline(pipeline_name="or", pipeline_root=str(tmp_path), components=[evaluator, pusher])
    )
    assert result.nodes["Pusher"].state == "SKIPPED"
    assert result.nodes["Pusher"].reason == (
        "condition false: (Evaluator.outputs['blessing'][0].value == 1 | ~(Evaluator.outputs['blessing'][0].value < 5))"
        " (it is 0)"
    )


# -- tfx/orchestration/kubeflow/v2/test_utils.py: two_step_pipeline_with_dynamic_exec_properties --------------
@tfx.dsl.components.component
def range_config_generator(
    input_date: tfx.dsl.components.Parameter[str],
    range_config: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.String],
):
    """Implements a function-based TFX component to convert date into a span number for downstream use by ExampleGen.

    Args:
      input_date: input date to generate range_config.
      range_config: range_config to ExampleGen.
    """
    date = datetime.datetime.strptime(input_date, "%Y%m%d")
    range_config_str = proto_utils.proto_to_json(
        tfx.proto.RangeConfig(
            static_range=tfx.proto.StaticRange(
                start_span_number=utils.date_to_span_number(1970, 1, 1),
                end_span_number=utils.date_to_span_number(date.year, date.month, date.day),
            )
        )
    )
    range_config.value = range_config_str


def test_a_standard_components_config_proto_refuses_an_upstream_value_saying_what_to_do(tmp_path):
    """TFX's BigQueryExampleGen(range_config=<generator>.outputs['range_config'].future()[0].value) on CsvExampleGen:
    headrace's standard components check their config protos when the pipeline is defined, so they refuse it
    (a difference, docs/MIGRATING_FROM_TFX.md); a function component's parameter takes it."""
    input_config_generator = range_config_generator(  # pylint: disable=no-value-for-parameter
        input_date="22-09-26"
    )
    with pytest.raises(ValueError, match=r"CsvExampleGen: range_config was given .* a value known only when the node"):
        tfx.components.CsvExampleGen(
            input_base=str(tmp_path),
            range_config=(input_config_generator.outputs["range_config"].future()[0].value),
        )
    with pytest.raises(ValueError, match="Trainer: train_args was given"):
        tfx.components.Trainer(
            module_file=str(tmp_path / "m.py"),
            examples=tfx.dsl.Channel(type=standard_artifacts.Examples),
            train_args=input_config_generator.outputs["range_config"].future()[0].value,
        )


# -- tfx/types/channel_utils_test.py: testPredicateDependentChannels ---------------------------------------------
# TFX's channels come from test_node.TestNode producers; two function components stand in.
@component
def A(foo: OutputArtifact[standard_artifacts.Integer], n: Parameter[int] = 1):
    foo.value = n


@component
def B(bar: OutputArtifact[standard_artifacts.Integer], n: Parameter[int] = 1):
    bar.value = n


def test_predicate_dependent_channels_and_two_futures_compared_at_run_time(tmp_path):
    from headrace.tfx.types import channel_utils

    a, b = A(n=1), B(n=2)
    int1, int2 = a.outputs["foo"], b.outputs["bar"]
    pred1 = int1.future().value == 1
    pred2 = int1.future().value == int2.future().value
    pred3 = ph.logical_not(pred1)
    pred4 = ph.logical_and(pred1, pred2)

    assert set(channel_utils.get_dependent_channels(pred1)) == {int1}
    assert set(channel_utils.get_dependent_channels(pred2)) == {int1, int2}
    assert set(channel_utils.get_dependent_channels(pred3)) == {int1}
    assert set(channel_utils.get_dependent_channels(pred4)) == {int1, int2}
    assert channel_utils.unwrap_simple_channel_placeholder(int1.future()[0].value) is int1

    with conditional.Cond(int1.future().value < int2.future().value):
        runs = Pusher()
    with conditional.Cond(pred2):
        skipped = Pusher().with_id("Skipped")
    result = LocalDagRunner().run(
        pipeline.Pipeline(pipeline_name="two", pipeline_root=str(tmp_path), components=[runs, skipped])
    )
    assert result.nodes["Pusher"].state == "COMPLETE"
    assert result.nodes["Skipped"].reason == (
        "condition false: A.outputs['foo'][0].value == B.outputs['bar'][0].value "
        "(A.outputs['foo'][0].value is 1, B.outputs['bar'][0].value is 2)"
    )
