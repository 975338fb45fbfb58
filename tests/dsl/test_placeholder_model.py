"""The placeholder model (headrace.types.placeholder): one base class, text expressions, logical operators,
dynamic parameters checked when a component is defined, and their IR."""

from __future__ import annotations

import json

import pytest

from headrace import Cond, DefinitionError, OutputArtifact, OutputDict, Parameter, Pipeline, component
from headrace.compiler import compile_pipeline, dump, load
from headrace.dsl import placeholders as ph
from headrace.errors import IRError
from headrace.types import standard_artifacts as sa
from headrace.types.placeholder_ir import evaluate


@component
def Make(n: OutputArtifact[sa.Integer], name: OutputArtifact[sa.String], model: OutputArtifact[sa.Model]):
    n.value = 3
    name.value = "abc"


@component
def Take(count: Parameter[int], text: Parameter[str] = "", rate: Parameter[float] = 0.0) -> OutputDict(out=str):
    return {"out": f"{count}|{text}|{rate}"}


@component
def TakeDict(config: Parameter[dict]) -> OutputDict(out=str):
    return {"out": json.dumps(config)}


def test_every_placeholder_is_a_placeholder():
    make = Make()
    n = make.outputs["n"].future()[0].value
    assert isinstance(n, ph.Placeholder)
    assert isinstance(n == 3, ph.Placeholder) and isinstance(n == 3, ph.Predicate)
    assert isinstance("x" + make.outputs["name"].future()[0].value, ph.Placeholder)
    assert isinstance(n.b64encode(), ph.TextExpression)
    for command_placeholder in (ph.exec_property("p"), ph.input("x")[0].uri, ph.output("o").uri, ph.input("x")):
        assert isinstance(command_placeholder, ph.Placeholder)
    assert isinstance(ph.execution_invocation().pipeline_run_id, ph.Placeholder)


def test_a_deep_copy_is_the_placeholder_itself_as_in_tfx():
    import copy

    make = Make()
    value, name = make.outputs["n"].future()[0].value, make.outputs["name"].future()[0].value
    params = copy.deepcopy({"count": value, "text": "x" + name.b64encode()})
    assert params["count"] is value and params["text"].futures()[0].channel is make.outputs["name"]


def test_logical_functions_build_the_same_predicates_as_the_operators():
    make = Make()
    a = make.outputs["n"].future()[0].value > 1
    b = make.outputs["name"].future()[0].value == "abc"
    assert ph.logical_and(a, b).to_ir() == (a & b).to_ir()
    assert ph.logical_or(a, b).to_ir() == (a | b).to_ir()
    assert ph.logical_not(a).to_ir() == (~a).to_ir()
    assert ph.logical_and(a, ph.logical_not(b)).to_ir()["operands"][1] == {"op": "not", "operands": [b.to_ir()]}
    with pytest.raises(DefinitionError, match="logical_and takes predicates"):
        ph.logical_and(a, make.outputs["n"].future()[0].value)


def test_a_placeholder_has_no_truth_value_no_iteration_and_no_fstring():
    value = Make().outputs["n"].future()[0].value
    with pytest.raises(DefinitionError, match="no truth value"):
        bool(value + "x")
    with pytest.raises(DefinitionError, match="Iterating over a placeholder is not supported"):
        list(value + "x")
    with pytest.raises(DefinitionError, match="f-string"):
        _ = f"--n={value}"
    with pytest.raises(DefinitionError, match="'\\+' joins strings and placeholders"):
        _ = value + 1


def test_join_and_b64encode_evaluate_to_text():
    make = Make()
    joined = ph.join(["gs://bucket", make.outputs["name"].future()[0].value, "file"], "/")
    assert ph.join(["a", "b"], "-") == "a-b" and ph.join([]) == ""
    ir = joined.to_ir()
    values = {"name": "abc"}
    assert evaluate(ir, lambda f: values[f["output_key"]], {}) == "gs://bucket/abc/file"
    encoded = make.outputs["name"].future()[0].value.b64encode().to_ir()
    assert evaluate(encoded, lambda f: "a?b>", {}) == "YT9iPg=="  # URL-safe alphabet by default
    assert evaluate({**encoded, "url_safe": False}, lambda f: "a?b>", {}) == "YT9iPg=="
    assert evaluate({**encoded, "url_safe": False}, lambda f: b"\xfb\xff", {}) == "+/8="
    assert evaluate(encoded, lambda f: b"\xfb\xff", {}) == "-_8="


# -- dynamic parameters: checked when the component is defined -------------------------------------------------
def test_a_future_value_is_a_parameter_and_its_producer_an_upstream_node():
    make = Make()
    take = Take(count=make.outputs["n"].future()[0].value, text="id-" + make.outputs["name"].future()[0].value)
    assert take.upstream_nodes == [make]
    ir = compile_pipeline(Pipeline("p", "/tmp/root", [take]))  # the producer comes with its consumer
    assert [n.id for n in ir.nodes] == ["Make", "Take"]
    node = ir.node("Take")
    assert node.upstream == ("Make",)
    future = {"producer": "Make", "output_key": "n", "index": 0, "attribute": ["value"]}
    assert node.parameters["count"] == {"$placeholder": {"op": "future", "future": future}, "ptype": "int"}
    assert node.parameters["text"]["$placeholder"]["op"] == "concat"
    assert node.parameters["text"]["$placeholder"]["operands"][0] == "id-"


def test_an_integer_value_fits_a_float_parameter_and_json_text_a_dict():
    make = Make()
    Take(count=1, rate=make.outputs["n"].future()[0].value)
    TakeDict(config=make.outputs["name"].future()[0].value)  # JSON text, parsed when the node runs


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda m: Take(count=m.outputs["name"].future()[0].value), "parameter 'count' expects int, but .*yields str"),
        (lambda m: Take(count=1, text=m.outputs["n"].future()[0].value), "parameter 'text' expects str, but .*int"),
        (lambda m: Take(count=m.outputs["model"].future()[0].value), "a Model, which holds no value"),
        (lambda m: Take(count=m.outputs["n"].future()[1].value), "reads artifact \\[1\\].*use .future\\(\\)\\[0\\]"),
        (lambda m: Take(count=m.outputs["n"].future()[0]), "the artifact .* itself; pass what it holds"),
        (lambda m: Take(count=m.outputs["n"].future()[0].value == 1), "predicate .* is the condition of a Cond"),
        (lambda m: Take(count=ph.exec_property("x")), "places a value in a container command line"),
        (lambda m: Take(count=1, text=m.outputs["n"].future()[0].uri + 5), "'\\+' joins strings"),
    ],
    ids=[
        "str-to-int",
        "int-to-str",
        "value-of-model",
        "index-1",
        "whole-artifact",
        "predicate",
        "exec_property",
        "+int",
    ],
)
def test_bad_dynamic_parameters_are_definition_errors_naming_component_and_parameter(build, words):
    with pytest.raises(DefinitionError, match=words) as info:
        build(Make())
    if "joins" not in words:
        assert info.value.args[0].startswith("Take")  # the component's spec names itself first


def test_a_future_compared_with_an_unsupported_type_is_refused():
    make = Make()
    value = make.outputs["n"].future()[0].value
    for other in ([1], make.outputs["model"].future()[0], ph.exec_property("x"), value + "x"):
        with pytest.raises(DefinitionError, match=r"compared with a constant .* or with what another future reads"):
            _ = value == other


def test_two_futures_compare_in_a_condition_written_as_ir_version_4():
    make, other = Make(), Make().with_id("Other")
    with Cond(make.outputs["n"].future()[0].value < other.outputs["n"].future()[0].value):
        take = Take(count=1)
    ir = compile_pipeline(Pipeline("p", "/tmp/root", [take]))
    [condition] = ir.node("Take").conditions
    assert condition["right"] == {"producer": "Other", "output_key": "n", "index": 0, "attribute": ["value"]}
    assert set(ir.node("Take").upstream) == {"Make", "Other"}
    assert json.loads(dump(ir))["ir_version"] == 4 and load(dump(ir)) == ir


def test_a_future_in_a_container_command_says_to_use_a_parameter():
    from headrace.dsl import create_container_component

    make = Make()
    with pytest.raises(DefinitionError, match=r"reads another node's output.*exec_property"):
        create_container_component(
            name="Echo", image="alpine", command=["echo", make.outputs["name"].future()[0].value]
        )


def test_a_cond_block_takes_logical_and_as_in_tfx():
    make = Make()
    with Cond(ph.logical_and(make.outputs["n"].future()[0].value > 1, make.outputs["model"].future()[0].uri != "")):
        take = Take(count=1)
    [condition] = compile_pipeline(Pipeline("p", "/tmp/root", [take])).node("Take").conditions
    assert condition["op"] == "and" and [o["op"] for o in condition["operands"]] == [">", "!="]


# -- the IR ---------------------------------------------------------------------------------------------------
def test_ir_with_dynamic_parameters_is_version_4_round_trips_and_plain_ir_stays_version_3():
    make = Make()
    dynamic = compile_pipeline(Pipeline("p", "/tmp/root", [Take(count=make.outputs["n"].future()[0].value)]))
    assert json.loads(dump(dynamic))["ir_version"] == 4
    assert load(dump(dynamic)) == dynamic
    plain = compile_pipeline(Pipeline("p", "/tmp/root", [Take(count=1)]))
    assert json.loads(dump(plain))["ir_version"] == 3  # an older reader still runs it


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda p: p["count"]["$placeholder"].update(op="eval"), "unknown placeholder operator 'eval'"),
        (lambda p: p["count"].update(ptype="tuple"), "malformed placeholder"),
        (lambda p: p["count"]["$placeholder"]["future"].update(index="0"), "the future of parameter 'count'"),
        (lambda p: p["count"].update(extra=1), "malformed placeholder"),
        (lambda p: p["count"]["$placeholder"]["future"].update(producer="Elsewhere"), "not among its upstream"),
    ],
)
def test_a_malformed_dynamic_parameter_in_the_ir_is_an_ir_error(mutate, words):
    make = Make()
    data = json.loads(
        dump(compile_pipeline(Pipeline("p", "/tmp/root", [Take(count=make.outputs["n"].future()[0].value)])))
    )
    mutate(data["nodes"][1]["parameters"])
    with pytest.raises(IRError, match=words):
        load(json.dumps(data))
