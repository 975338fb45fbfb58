"""The three ways to write a component: fully custom (spec + executor), `@component` functions, containers.

No `from __future__ import annotations` here on purpose: the function components below are defined
with annotations evaluated eagerly, as most user files do.
"""

import json
import typing
from typing import Optional, TypedDict

import pytest

import headrace
from headrace import (
    BaseComponent,
    BaseExecutor,
    Channel,
    ChannelParameter,
    ComponentSpec,
    ExecutionParameter,
    ExecutorClassSpec,
    InputArtifact,
    OutputArtifact,
    OutputDict,
    Parameter,
    Pipeline,
    component,
)
from headrace.compiler import compile_pipeline, dump, load
from headrace.dsl.container_component import create_container_component
from headrace.dsl.function_component import call_function
from headrace.dsl.placeholders import (
    InputUriPlaceholder,
    InputValuePlaceholder,
    OutputUriPlaceholder,
    from_ir,
)
from headrace.types import standard_artifacts

# --------------------------------------------------------------------------------------------------
# Fully custom: TFX's HelloComponent shape, verbatim.


class HelloComponentSpec(ComponentSpec):
    INPUTS = {"input_data": ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS = {"output_data": ChannelParameter(type=standard_artifacts.Examples)}
    PARAMETERS = {"name": ExecutionParameter(type=str)}


class Executor(BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties):
        src = input_dict["input_data"][0]
        dst = output_dict["output_data"][0]
        dst.split_names = src.split_names
        dst.set_custom_property("hello", exec_properties["name"] + ":" + self.context.node_id)


class HelloComponent(BaseComponent):
    SPEC_CLASS = HelloComponentSpec
    EXECUTOR_SPEC = ExecutorClassSpec(Executor)

    def __init__(self, input_data, name=None):
        super().__init__(spec=HelloComponentSpec(input_data=input_data, name=name))


@component
def MakeExamples(examples: OutputArtifact[standard_artifacts.Examples], rows: Parameter[int] = 5):
    examples.split_names = json.dumps(["train"] * rows)


@component
def Validate(
    model: InputArtifact[standard_artifacts.Model],
    blessing: OutputArtifact[standard_artifacts.ModelBlessing],
    accuracy_threshold: Parameter[int] = 10,
) -> OutputDict(accuracy=float):
    blessing.set_custom_property("threshold", accuracy_threshold)
    return {"accuracy": accuracy_threshold / 100}


@component
def Train(examples: InputArtifact[standard_artifacts.Examples], model: OutputArtifact[standard_artifacts.Model]):
    pass


def test_the_tfx_names_are_exported_from_headrace():
    for name in (
        "ComponentSpec",
        "ChannelParameter",
        "ExecutionParameter",
        "BaseExecutor",
        "ExecutorClassSpec",
        "BaseComponent",
        "component",
        "InputArtifact",
        "OutputArtifact",
        "Parameter",
        "OutputDict",
        "Pipeline",
        "Channel",
    ):
        assert name in headrace.__all__
        assert getattr(headrace, name) is globals()[name]


def test_custom_component_outputs_inputs_and_exec_properties():
    make = MakeExamples()
    hello = HelloComponent(input_data=make.outputs["examples"], name="world")

    assert hello.id == "HelloComponent"
    out = hello.outputs["output_data"]
    assert isinstance(out, Channel)
    assert out.type is standard_artifacts.Examples
    assert out.type_name == "Examples"
    assert out.producer is hello
    assert out.producer_component_id == "HelloComponent"
    assert out.output_key == "output_data"
    assert list(hello.outputs) == ["output_data"]
    # The input is the very channel that was passed in, produced by MakeExamples.
    assert hello.inputs == {"input_data": make.outputs["examples"]}
    assert hello.inputs["input_data"].producer is make
    assert hello.exec_properties == {"name": "world"}
    assert hello.upstream_nodes == [make]
    assert hello.type == f"{__name__}.HelloComponent"


def test_custom_component_outputs_are_stable_channels():
    hello = HelloComponent(input_data=MakeExamples().outputs["examples"], name="x")
    # Two lookups return the same channel object: a consumer wired to either sees one edge.
    assert hello.outputs["output_data"] is hello.outputs["output_data"]


def test_with_id_renames_and_the_channel_follows():
    make = MakeExamples()
    hello = HelloComponent(input_data=make.outputs["examples"], name="x")
    channel = hello.outputs["output_data"]
    assert hello.with_id("hello_1") is hello
    assert hello.id == "hello_1"
    assert channel.producer_component_id == "hello_1"
    assert repr(channel) == "Channel(type=Examples, hello_1.outputs['output_data'])"
    with pytest.raises(headrace.DefinitionError, match="Invalid component id '1 bad'"):
        hello.with_id("1 bad")
    assert hello.id == "hello_1"


def test_add_upstream_node_orders_without_a_data_dependency():
    first = MakeExamples().with_id("first")
    second = MakeExamples().with_id("second")
    assert second.add_upstream_node(first) is second
    second.add_upstream_node(first)  # idempotent
    assert second.upstream_nodes == [first]
    assert second.inputs == {}
    ir = compile_pipeline(Pipeline("p", "/root", [second, first]))
    assert [n.id for n in ir.nodes] == ["first", "second"]
    assert ir.node("second").upstream == ("first",)
    assert ir.node("second").inputs == {}
    with pytest.raises(headrace.DefinitionError, match="own upstream"):
        first.add_upstream_node(first)
    with pytest.raises(headrace.DefinitionError, match="expects a component"):
        first.add_upstream_node(second.outputs["examples"])


def test_add_downstream_node_is_the_mirror():
    a, b = MakeExamples().with_id("a"), MakeExamples().with_id("b")
    a.add_downstream_node(b)
    assert b.upstream_nodes == [a]
    assert a.upstream_nodes == []


def test_custom_component_compiles_to_a_python_class_executor():
    make = MakeExamples(rows=2)
    hello = HelloComponent(input_data=make.outputs["examples"], name="world")
    ir = compile_pipeline(Pipeline("custom", "/root", [hello]))
    node = ir.node("HelloComponent")
    assert node.kind == "python_class"
    assert node.executor["module"] == __name__
    assert node.executor["qualname"] == "Executor"
    assert node.parameters == {"name": "world"}
    assert node.inputs["input_data"].producer == "MakeExamples"
    assert node.inputs["input_data"].output_key == "examples"
    assert node.inputs["input_data"].artifact_type.name == "Examples"
    assert node.outputs["output_data"].artifact_type.class_path == "headrace.types.standard_artifacts:Examples"
    assert node.component_type == f"{__name__}.HelloComponent"


def test_custom_executor_do_receives_lists_and_exec_properties():
    src, dst = standard_artifacts.Examples(), standard_artifacts.Examples()
    src.split_names = '["train", "eval"]'
    executor = Executor(BaseExecutor.Context(node_id="hello"))
    executor.Do({"input_data": [src]}, {"output_data": [dst]}, {"name": "world"})
    assert dst.split_names == '["train", "eval"]'
    assert dst.get_custom_property("hello") == "world:hello"


def test_base_executor_without_do_says_what_to_override():
    class Lazy(BaseExecutor):
        pass

    with pytest.raises(NotImplementedError, match=r"Lazy must implement Do\("):
        Lazy().Do({}, {}, {})


def test_base_component_checks_its_class_attributes():
    class NoSpec(BaseComponent):
        EXECUTOR_SPEC = ExecutorClassSpec(Executor)

    with pytest.raises(headrace.DefinitionError, match=r"NoSpec\.SPEC_CLASS must be a ComponentSpec subclass"):
        NoSpec(spec=HelloComponentSpec(input_data=MakeExamples().outputs["examples"], name="x"))

    class WrongSpec(BaseComponent):
        SPEC_CLASS = HelloComponentSpec
        EXECUTOR_SPEC = ExecutorClassSpec(Executor)

    with pytest.raises(headrace.DefinitionError, match=r"expects spec=HelloComponentSpec\(\.\.\.\), got ComponentSpec"):
        WrongSpec(spec=ComponentSpec())

    with pytest.raises(headrace.DefinitionError, match="needs a BaseExecutor subclass"):
        ExecutorClassSpec(HelloComponent)


def test_validate_shape_parameter_default_and_returned_output():
    train = Train(examples=MakeExamples().outputs["examples"])
    validate = Validate(model=train.outputs["model"])
    assert validate.id == "Validate"
    assert set(validate.outputs) == {"blessing", "accuracy"}
    assert validate.outputs["blessing"].type is standard_artifacts.ModelBlessing
    assert validate.outputs["accuracy"].type is standard_artifacts.Float
    assert validate.outputs["accuracy"].producer_component_id == "Validate"
    # A defaulted parameter left out is not in exec_properties: the function default applies at run time.
    assert validate.exec_properties == {}
    assert Validate(model=train.outputs["model"], accuracy_threshold=80).exec_properties == {"accuracy_threshold": 80}
    spec = Validate.SPEC_CLASS
    assert set(spec.INPUTS) == {"model"}
    assert spec.PARAMETERS["accuracy_threshold"].type is int
    assert spec.PARAMETERS["accuracy_threshold"].optional is True


def test_validate_function_runs_with_default_and_given_parameter():
    model = standard_artifacts.Model()
    for props, expected in (({}, 10), ({"accuracy_threshold": 70}, 70)):
        blessing, accuracy = standard_artifacts.ModelBlessing(), standard_artifacts.Float()
        call_function(Validate.FUNCTION, {"model": [model]}, {"blessing": [blessing], "accuracy": [accuracy]}, props)
        assert blessing.get_custom_property("threshold") == expected
        assert accuracy.value == pytest.approx(expected / 100)


def test_function_component_class_keeps_the_function_identity():
    assert Validate.__name__ == "Validate"
    assert Validate.__module__ == __name__
    assert issubclass(Validate, BaseComponent)
    assert Validate.FUNCTION.__name__ == "Validate"
    ir = compile_pipeline(
        Pipeline("p", "/root", [Validate(model=Train(examples=MakeExamples().outputs["examples"]).outputs["model"])])
    )
    executor = ir.node("Validate").executor
    assert (executor["kind"], executor["module"], executor["qualname"]) == ("python_function", __name__, "Validate")
    assert "payload" in executor  # a test module is no installed module: it travels by value


# --------------------------------------------------------------------------------------------------
# Function components: plain-typed arguments and returns are value artifacts.


class Summary(TypedDict):
    total: int
    mean: float
    label: str
    ok: bool
    extra: dict


@component
def AllValues(
    count: int,
    ratio: float,
    label: str,
    flag: bool,
    config: dict,
    items: list,
    typed_map: dict[str, int],
    note: Optional[str] = None,  # noqa: UP045 - the typing.Optional spelling must work too
) -> OutputDict(total=float, message=str, seen=list):
    return {"total": count * ratio, "message": f"{label}:{flag}:{note}", "seen": [config, items, typed_map]}


@component
def Summarize(examples: InputArtifact[standard_artifacts.Examples], bias: Parameter[float] = 0.5) -> Summary:
    return {"total": 3, "mean": 1.5 + bias, "label": "x", "ok": True, "extra": {"k": [1]}}


@component
def WithParams(
    name: Parameter[str],
    weights: Parameter[dict[str, float]],
    sizes: Parameter[list] = None,
    schema: InputArtifact[standard_artifacts.Schema] = None,
    out: OutputArtifact[standard_artifacts.ExternalArtifact] = None,
):
    out.set_custom_property("schema", schema.uri if schema is not None else "none")
    out.set_custom_property("name", name)


def test_plain_typed_arguments_become_value_artifact_inputs():
    inputs = AllValues.SPEC_CLASS.INPUTS
    expected = {
        "count": standard_artifacts.Integer,
        "ratio": standard_artifacts.Float,
        "label": standard_artifacts.String,
        "flag": standard_artifacts.Boolean,
        "config": standard_artifacts.JsonValue,
        "items": standard_artifacts.JsonValue,
        "typed_map": standard_artifacts.JsonValue,
        "note": standard_artifacts.String,
    }
    assert {k: v.type for k, v in inputs.items()} == expected
    assert {k for k, v in inputs.items() if v.optional} == {"note"}
    assert AllValues.SPEC_CLASS.PARAMETERS == {}


def test_output_dict_returns_become_value_artifact_outputs():
    outputs = AllValues.SPEC_CLASS.OUTPUTS
    assert {k: v.type for k, v in outputs.items()} == {
        "total": standard_artifacts.Float,
        "message": standard_artifacts.String,
        "seen": standard_artifacts.JsonValue,
    }


def test_typeddict_return_becomes_value_artifact_outputs():
    outputs = Summarize.SPEC_CLASS.OUTPUTS
    assert {k: v.type for k, v in outputs.items()} == {
        "total": standard_artifacts.Integer,
        "mean": standard_artifacts.Float,
        "label": standard_artifacts.String,
        "ok": standard_artifacts.Boolean,
        "extra": standard_artifacts.JsonValue,
    }
    assert Summarize.SPEC_CLASS.PARAMETERS["bias"].type is float


def test_value_outputs_wire_into_value_inputs():
    summary = Summarize(examples=MakeExamples().outputs["examples"])
    values = AllValues(
        count=summary.outputs["total"],
        ratio=summary.outputs["mean"],
        label=summary.outputs["label"],
        flag=summary.outputs["ok"],
        config=summary.outputs["extra"],
        items=summary.outputs["extra"],
        typed_map=summary.outputs["extra"],
    )
    ir = compile_pipeline(Pipeline("values", "/root", [values]))
    node = ir.node("AllValues")
    assert node.inputs["count"].producer == "Summarize"
    assert node.inputs["count"].output_key == "total"
    assert node.inputs["count"].artifact_type.name == "Integer"
    assert "note" not in node.inputs
    assert [n.id for n in ir.nodes] == ["MakeExamples", "Summarize", "AllValues"]
    # A value output of another type is refused at construction.
    with pytest.raises(headrace.DefinitionError, match="expects a channel of Integer, but got a channel of String"):
        AllValues(
            count=summary.outputs["label"],
            ratio=summary.outputs["mean"],
            label=summary.outputs["label"],
            flag=summary.outputs["ok"],
            config=summary.outputs["extra"],
            items=summary.outputs["extra"],
            typed_map=summary.outputs["extra"],
        )


def test_function_receives_values_and_its_return_fills_value_outputs():
    def value(cls, v):
        art = cls()
        art.value = v
        return art

    ins = {
        "count": [value(standard_artifacts.Integer, 4)],
        "ratio": [value(standard_artifacts.Float, 0.5)],
        "label": [value(standard_artifacts.String, "L")],
        "flag": [value(standard_artifacts.Boolean, True)],
        "config": [value(standard_artifacts.JsonValue, {"a": 1})],
        "items": [value(standard_artifacts.JsonValue, [1, 2])],
        "typed_map": [value(standard_artifacts.JsonValue, {"b": 2})],
    }
    outs = {
        "total": [standard_artifacts.Float()],
        "message": [standard_artifacts.String()],
        "seen": [standard_artifacts.JsonValue()],
    }
    call_function(AllValues.FUNCTION, ins, outs, {})
    assert outs["total"][0].value == 2.0
    # The optional input left out got the function's default (None).
    assert outs["message"][0].value == "L:True:None"
    assert outs["seen"][0].value == [{"a": 1}, [1, 2], {"b": 2}]

    ins["note"] = [value(standard_artifacts.String, "n")]
    call_function(AllValues.FUNCTION, ins, outs, {})
    assert outs["message"][0].value == "L:True:n"


def test_function_that_returns_the_wrong_thing_fails_clearly():
    ins = {"examples": [standard_artifacts.Examples()]}

    @component
    def Partial(examples: InputArtifact[standard_artifacts.Examples]) -> OutputDict(a=int, b=int):
        return {"a": 1}

    outs = {"a": [standard_artifacts.Integer()], "b": [standard_artifacts.Integer()]}
    with pytest.raises(TypeError, match=r"did not return output\(s\) \['b'\]"):
        call_function(Partial.FUNCTION, ins, outs, {})

    @component
    def NotADict(examples: InputArtifact[standard_artifacts.Examples]) -> OutputDict(a=int):
        return 1

    with pytest.raises(TypeError, match="must return a dict, got int"):
        call_function(NotADict.FUNCTION, ins, {"a": [standard_artifacts.Integer()]}, {})

    @component
    def Undeclared(examples: InputArtifact[standard_artifacts.Examples]):
        return {"a": 1}

    with pytest.raises(TypeError, match=r"declares no return annotation; annotate it with -> OutputDict"):
        call_function(Undeclared.FUNCTION, ins, {}, {})

    @component
    def WrongValue(examples: InputArtifact[standard_artifacts.Examples]) -> OutputDict(a=int):
        return {"a": "one"}

    with pytest.raises(TypeError, match=r"Return value 'one' for output 'a'.*Integer artifact value must be integer"):
        call_function(WrongValue.FUNCTION, ins, {"a": [standard_artifacts.Integer()]}, {})


def test_parameter_annotations_become_parameters():
    params = WithParams.SPEC_CLASS.PARAMETERS
    assert set(params) == {"name", "weights", "sizes"}
    assert params["name"].type is str and params["name"].optional is False
    assert params["weights"].base_type is dict
    assert params["sizes"].optional is True
    assert set(WithParams.SPEC_CLASS.INPUTS) == {"schema"}
    assert set(WithParams.SPEC_CLASS.OUTPUTS) == {"out"}

    node = WithParams(name="n", weights={"a": 1.0})
    assert node.exec_properties == {"name": "n", "weights": {"a": 1.0}}
    with pytest.raises(headrace.DefinitionError, match=r"parameter 'name' \(str\) is required"):
        WithParams(weights={"a": 1.0})
    with pytest.raises(
        headrace.DefinitionError, match=r"parameter 'weights' expects dict\[str, float\], got \[1\.0\] \(list\)"
    ):
        WithParams(name="n", weights=[1.0])


def test_optional_artifact_input_may_be_left_out_or_given():
    alone = WithParams(name="n", weights={})
    assert alone.inputs == {}
    assert WithParams.SPEC_CLASS.INPUTS["schema"].optional is True

    @component
    def MakeSchema(schema: OutputArtifact[standard_artifacts.Schema]):
        pass

    maker = MakeSchema()
    wired = WithParams(name="n", weights={}, schema=maker.outputs["schema"])
    assert wired.inputs["schema"].producer is maker
    assert wired.upstream_nodes == [maker]

    out = standard_artifacts.ExternalArtifact()
    call_function(WithParams.FUNCTION, {}, {"out": [out]}, {"name": "n", "weights": {}})
    assert out.get_custom_property("schema") == "none"
    schema = standard_artifacts.Schema()
    schema.uri = "/data/schema"
    call_function(WithParams.FUNCTION, {"schema": [schema]}, {"out": [out]}, {"name": "n", "weights": {}})
    assert out.get_custom_property("schema") == "/data/schema"


def test_typing_optional_input_artifact_is_optional():
    @component
    def Opt(model: Optional[InputArtifact[standard_artifacts.Model]] = None):  # noqa: UP045
        pass

    assert Opt.SPEC_CLASS.INPUTS["model"].optional is True
    assert Opt.SPEC_CLASS.INPUTS["model"].type is standard_artifacts.Model
    assert Opt().inputs == {}


def test_pep604_optional_value_input_is_optional():
    @component
    def Pep604(note: int | None = None):
        pass

    assert Pep604.SPEC_CLASS.INPUTS["note"].type is standard_artifacts.Integer
    assert Pep604.SPEC_CLASS.INPUTS["note"].optional is True


def _define(func):
    return component(func)


def test_missing_annotation_is_a_definition_error_naming_the_argument():
    def NoAnn(x):
        pass

    with pytest.raises(headrace.DefinitionError, match=r"@component NoAnn: argument 'x' has no annotation; use"):
        _define(NoAnn)


@pytest.mark.parametrize("annotation", [set, typing.Any, standard_artifacts.Examples])
def test_unsupported_argument_annotation_is_a_definition_error(annotation):
    def Bad(x):
        pass

    Bad.__annotations__ = {"x": annotation}
    with pytest.raises(headrace.DefinitionError) as err:
        _define(Bad)
    msg = str(err.value)
    assert "argument 'x' has unsupported annotation" in msg
    assert "InputArtifact[...]" in msg and "Parameter[...]" in msg


def test_bad_annotations_are_definition_errors_with_a_fix():
    def Star(*args: int):
        pass

    with pytest.raises(headrace.DefinitionError, match=r"\*args/\*\*kwargs are not supported \('args'\)"):
        _define(Star)

    with pytest.raises(headrace.DefinitionError, match=r"InputArtifact\[\.\.\.\] needs an artifact class"):
        InputArtifact[int]

    with pytest.raises(headrace.DefinitionError, match=r"OutputArtifact\[\.\.\.\] needs an artifact class"):
        OutputArtifact["Model"]

    def DefaultedInput(model: InputArtifact[standard_artifacts.Model] = 3):
        pass

    with pytest.raises(headrace.DefinitionError, match="input artifact 'model' may only default to None"):
        _define(DefaultedInput)

    def BadReturnField(x: int) -> OutputDict(blob=set):
        pass

    with pytest.raises(headrace.DefinitionError, match=r"returned output 'blob' has type .*; use int, float, str"):
        _define(BadReturnField)

    def BadReturn(x: int) -> int:
        pass

    with pytest.raises(headrace.DefinitionError, match=r"return annotation must be OutputDict\(name=type, \.\.\.\)"):
        _define(BadReturn)

    def Clash(x: int) -> OutputDict(x=int):
        pass

    with pytest.raises(headrace.DefinitionError, match="returned output 'x' clashes with an argument name"):
        _define(Clash)

    def BadParam(p: Parameter[set]):
        pass

    with pytest.raises(headrace.DefinitionError, match="ExecutionParameter type must be one of int, float"):
        _define(BadParam)

    def Unresolvable(x: "NoSuchType"):  # noqa: F821
        pass

    with pytest.raises(headrace.DefinitionError, match="@component Unresolvable: cannot evaluate annotations"):
        _define(Unresolvable)

    with pytest.raises(headrace.DefinitionError, match="@component decorates a function"):
        component(3)


def test_function_component_is_a_class_that_takes_keywords_only():
    with pytest.raises(headrace.DefinitionError, match=r"keyword arguments only.*MakeExamples\(rows=\.\.\.\)"):
        MakeExamples(3)
    assert MakeExamples(rows=3).exec_properties == {"rows": 3}


def test_function_component_defined_in_a_function_travels_by_value():
    @component
    def Local(examples: OutputArtifact[standard_artifacts.Examples]):
        pass

    executor = compile_pipeline(Pipeline("local", "/root", [Local()])).node("Local").executor
    assert executor["qualname"].endswith("<locals>.Local")
    assert executor["payload"]["format"] == "cloudpickle"
    assert "def Local(" in executor["payload"]["source"]


# --------------------------------------------------------------------------------------------------
# Container components.

Download = create_container_component(
    name="Download",
    image="example.org/tools:1.2",
    command=["fetch", "--rows", InputValuePlaceholder("rows"), "--out", OutputUriPlaceholder("examples")],
    outputs={"examples": standard_artifacts.Examples},
    parameters={"rows": int},
)

Score = create_container_component(
    name="Score",
    image="example.org/score:latest",
    command=[
        "score",
        InputUriPlaceholder("examples"),
        "--threshold",
        InputValuePlaceholder("threshold"),
        "--mode",
        InputValuePlaceholder("mode"),
        OutputUriPlaceholder("report"),
    ],
    inputs={"examples": standard_artifacts.Examples, "threshold": standard_artifacts.Float},
    outputs={"report": standard_artifacts.ExternalArtifact},
    parameters={"mode": str},
)


@component
def Threshold() -> OutputDict(value=float):
    return {"value": 0.5}


def test_container_component_is_a_component_class():
    assert issubclass(Download, BaseComponent)
    dl = Download(rows=10)
    assert dl.id == "Download"
    assert dl.exec_properties == {"rows": 10}
    assert dl.outputs["examples"].type is standard_artifacts.Examples
    assert dl.outputs["examples"].producer is dl
    with pytest.raises(headrace.DefinitionError, match="parameter 'rows' expects int"):
        Download(rows="10")
    with pytest.raises(headrace.DefinitionError, match="Did you mean 'rows'"):
        Download(rwos=10)


def test_container_component_ir_has_image_and_placeholder_command():
    dl = Download(rows=10)
    th = Threshold()
    score = Score(examples=dl.outputs["examples"], threshold=th.outputs["value"], mode="fast")
    ir = compile_pipeline(Pipeline("containers", "/root", [score]))
    assert [n.id for n in ir.nodes] == ["Download", "Threshold", "Score"]
    assert ir.node("Download").executor == {
        "kind": "container",
        "image": "example.org/tools:1.2",
        "command": [
            "fetch",
            "--rows",
            {"placeholder": "input_value", "name": "rows"},
            "--out",
            {"placeholder": "output_uri", "name": "examples"},
        ],
    }
    node = ir.node("Score")
    assert node.kind == "container"
    assert node.executor["image"] == "example.org/score:latest"
    assert node.executor["command"] == [
        "score",
        {"placeholder": "input_uri", "name": "examples"},
        "--threshold",
        {"placeholder": "input_value", "name": "threshold"},
        "--mode",
        {"placeholder": "input_value", "name": "mode"},
        {"placeholder": "output_uri", "name": "report"},
    ]
    assert node.parameters == {"mode": "fast"}
    assert node.inputs["threshold"].producer == "Threshold"
    assert node.inputs["examples"].output_key == "examples"
    # The command survives the IR round trip and reads back as placeholders.
    again = load(dump(ir))
    assert again == ir
    assert [from_ir(c) for c in again.node("Download").executor["command"]] == [
        "fetch",
        "--rows",
        InputValuePlaceholder("rows"),
        "--out",
        OutputUriPlaceholder("examples"),
    ]


def test_placeholder_ir_reader_rejects_unknown_items():
    with pytest.raises(headrace.errors.IRError, match="Unknown command-line item"):
        from_ir({"placeholder": "env", "name": "HOME"})
    with pytest.raises(headrace.errors.IRError, match="Unknown command-line item"):
        from_ir(3)


@pytest.mark.parametrize(
    ("placeholder", "kwargs", "suggestion"),
    [
        (InputValuePlaceholder("rwos"), {"parameters": {"rows": int}}, "rows"),
        (InputUriPlaceholder("exampels"), {"inputs": {"examples": standard_artifacts.Examples}}, "examples"),
        (OutputUriPlaceholder("modle"), {"outputs": {"model": standard_artifacts.Model}}, "model"),
        (InputValuePlaceholder("treshold"), {"inputs": {"threshold": standard_artifacts.Float}}, "threshold"),
    ],
)
def test_placeholder_naming_an_unknown_name_is_a_definition_error(placeholder, kwargs, suggestion):
    with pytest.raises(headrace.DefinitionError) as err:
        create_container_component("Bad", "img", ["run", placeholder], **kwargs)
    msg = str(err.value)
    assert f"{placeholder!r} refers to an unknown name" in msg
    assert f"Did you mean '{suggestion}'?" in msg
    assert f"Allowed here: {suggestion}." in msg


def test_placeholder_of_the_wrong_kind_is_refused():
    # An output's URI is not an input's URI; an artifact input has no value.
    with pytest.raises(headrace.DefinitionError, match=r"InputUriPlaceholder\('model'\) refers to an unknown name"):
        create_container_component(
            "Bad", "img", ["run", InputUriPlaceholder("model")], outputs={"model": standard_artifacts.Model}
        )
    with pytest.raises(headrace.DefinitionError, match=r"InputValuePlaceholder\('examples'\).*Allowed here: \(none\)"):
        create_container_component(
            "Bad", "img", ["run", InputValuePlaceholder("examples")], inputs={"examples": standard_artifacts.Examples}
        )


def test_container_component_arguments_are_checked():
    with pytest.raises(headrace.DefinitionError, match="name must be an identifier"):
        create_container_component("my step", "img", ["run"])
    with pytest.raises(headrace.DefinitionError, match="image must be a non-empty string"):
        create_container_component("Step", " ", ["run"])
    with pytest.raises(headrace.DefinitionError, match="command must be a non-empty list"):
        create_container_component("Step", "img", [])
    with pytest.raises(headrace.DefinitionError, match="command items must be strings or placeholders, got 3"):
        create_container_component("Step", "img", ["run", 3])
    with pytest.raises(headrace.DefinitionError, match="ExecutionParameter type must be one of"):
        create_container_component("Step", "img", ["run"], parameters={"p": bytes})


def test_container_component_class_belongs_to_the_defining_module():
    assert Download.__module__ == __name__
    assert Download(rows=1).type == f"{__name__}.Download"
