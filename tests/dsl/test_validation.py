"""Eager validation: each mistake is a DefinitionError at construction (or compile) naming the thing and the fix."""

import threading

import pytest

from headrace import (
    BaseComponent,
    BaseExecutor,
    Channel,
    ChannelParameter,
    ComponentSpec,
    DefinitionError,
    ExecutionParameter,
    ExecutorClassSpec,
    InputArtifact,
    OutputArtifact,
    Parameter,
    Pipeline,
    component,
)
from headrace.compiler import compile_pipeline
from headrace.types import standard_artifacts


@component
def Make(examples: OutputArtifact[standard_artifacts.Examples], rows: Parameter[int] = 3):
    pass


@component
def Train(
    examples: InputArtifact[standard_artifacts.Examples],
    model: OutputArtifact[standard_artifacts.Model],
    learning_rate: Parameter[float] = 0.1,
    steps: Parameter[int] = 10,
):
    pass


class GreetSpec(ComponentSpec):
    INPUTS = {"input_data": ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS = {"output_data": ChannelParameter(type=standard_artifacts.Examples)}
    PARAMETERS = {"name": ExecutionParameter(type=str), "times": ExecutionParameter(type=int, optional=True)}


class GreetExecutor(BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties):
        pass


class Greet(BaseComponent):
    SPEC_CLASS = GreetSpec
    EXECUTOR_SPEC = ExecutorClassSpec(GreetExecutor)

    def __init__(self, input_data, name=None, times=None):
        super().__init__(spec=GreetSpec(input_data=input_data, name=name, times=times))


def _message(exc_info) -> str:
    return str(exc_info.value)


# -- channels and inputs ---------------------------------------------------------------------------


def test_channel_of_the_wrong_artifact_type():
    make = Make()
    train = Train(examples=make.outputs["examples"])
    with pytest.raises(DefinitionError) as err:
        Train(examples=train.outputs["model"])
    msg = _message(err)
    assert "input 'examples' expects a channel of Examples" in msg
    assert "got a channel of Model" in msg
    assert "Train.outputs['model']" in msg  # names where the wrong channel came from
    assert "Connect an output of type Examples" in msg


def test_channel_of_the_wrong_type_for_a_custom_component():
    model = Train(examples=Make().outputs["examples"]).outputs["model"]
    with pytest.raises(DefinitionError, match="GreetSpec: input 'input_data' expects a channel of Examples"):
        Greet(input_data=model, name="x")


def test_a_subclass_channel_is_accepted_where_the_base_type_is_declared():
    class SpecialExamples(standard_artifacts.Examples):
        TYPE_NAME = "HeadraceTestSpecialExamples"

    channel = Channel(type=SpecialExamples)
    train = Train(examples=channel)
    assert train.inputs["examples"] is channel


def test_passing_a_component_instead_of_a_channel_suggests_its_output():
    make = Make()
    with pytest.raises(DefinitionError) as err:
        Train(examples=make)
    msg = _message(err)
    assert "input 'examples' must be a Channel of Examples, got Make" in msg
    assert "examples=<component>.outputs['examples']" in msg


def test_missing_required_input():
    with pytest.raises(DefinitionError) as err:
        Train()
    msg = _message(err)
    assert "input 'examples' (a channel of Examples) is required" in msg
    assert "pass examples=<component>.outputs['...']" in msg
    with pytest.raises(DefinitionError, match=r"input 'input_data' \(a channel of Examples\) is required"):
        Greet(input_data=None, name="x")


def test_missing_required_parameter():
    with pytest.raises(DefinitionError) as err:
        Greet(input_data=Make().outputs["examples"])
    assert "parameter 'name' (str) is required; pass name=..." in _message(err)


def test_unknown_parameter_name_suggests_the_nearest():
    with pytest.raises(DefinitionError) as err:
        Train(examples=Make().outputs["examples"], learning_rte=0.5)
    msg = _message(err)
    assert "unknown argument 'learning_rte'" in msg
    assert "Did you mean 'learning_rate'?" in msg
    assert "Arguments: examples, learning_rate, steps." in msg  # outputs are not arguments


def test_unknown_name_far_from_everything_has_no_suggestion_but_lists_known():
    with pytest.raises(DefinitionError) as err:
        Make(zzzzzz=1)
    msg = _message(err)
    assert "unknown argument 'zzzzzz'" in msg
    assert "Did you mean" not in msg
    assert "Arguments: rows." in msg


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"steps": "10"}, "parameter 'steps' expects int, got '10' (str)"),
        ({"steps": 2.5}, "parameter 'steps' expects int, got 2.5 (float)"),
        ({"steps": True}, "parameter 'steps' expects int, got True (bool)"),
        ({"learning_rate": "fast"}, "parameter 'learning_rate' expects float, got 'fast' (str)"),
    ],
)
def test_parameter_of_the_wrong_type(kwargs, expected):
    with pytest.raises(DefinitionError) as err:
        Train(examples=Make().outputs["examples"], **kwargs)
    assert expected in _message(err)


def test_int_is_accepted_for_a_float_parameter_and_stored_as_float():
    train = Train(examples=Make().outputs["examples"], learning_rate=1)
    assert train.exec_properties["learning_rate"] == 1.0
    assert isinstance(train.exec_properties["learning_rate"], float)


def test_custom_component_parameter_of_the_wrong_type():
    with pytest.raises(DefinitionError, match=r"GreetSpec: parameter 'name' expects str, got 5 \(int\)"):
        Greet(input_data=Make().outputs["examples"], name=5)
    with pytest.raises(DefinitionError, match=r"parameter 'times' expects int, got '2' \(str\)"):
        Greet(input_data=Make().outputs["examples"], name="x", times="2")


def test_wrong_output_key_suggests_the_nearest():
    train = Train(examples=Make().outputs["examples"]).with_id("trainer")
    with pytest.raises(DefinitionError) as err:
        train.outputs["modle"]
    msg = _message(err)
    assert "Component 'trainer' has no output 'modle'." in msg
    assert "Did you mean 'model'?" in msg
    assert "Outputs: model." in msg
    # A DefinitionError is a ValueError, not a KeyError: `in` and .get() still work as on a dict.
    assert "modle" not in train.outputs
    assert train.outputs.get("modle") is None


def test_spec_declarations_are_checked_when_the_class_is_defined():
    with pytest.raises(DefinitionError, match=r"BadSpec.INPUTS\['x'\] must be ChannelParameter\(\.\.\.\)"):

        class BadSpec(ComponentSpec):
            INPUTS = {"x": standard_artifacts.Examples}

    with pytest.raises(DefinitionError, match="'x' is declared in both INPUTS and OUTPUTS"):

        class TwiceSpec(ComponentSpec):
            INPUTS = {"x": ChannelParameter(type=standard_artifacts.Examples)}
            OUTPUTS = {"x": ChannelParameter(type=standard_artifacts.Examples)}

    with pytest.raises(DefinitionError, match="ChannelParameter type must be an Artifact subclass"):
        ChannelParameter(type=str)
    with pytest.raises(DefinitionError, match="ExecutionParameter type must be one of int, float, str, bool, dict"):
        ExecutionParameter(type=bytes)
    with pytest.raises(DefinitionError, match="Channel type must be an Artifact subclass"):
        Channel(type="Examples")


# -- pipelines -------------------------------------------------------------------------------------


def test_duplicate_component_id_in_a_pipeline():
    a, b = Make(), Make()
    with pytest.raises(DefinitionError) as err:
        Pipeline("p", "/root", [a, b])
    msg = _message(err)
    assert "Two components have the id 'Make'" in msg
    assert ".with_id('...')" in msg
    # The fix works.
    assert [c.id for c in Pipeline("p", "/root", [a, b.with_id("Make2")]).components] == ["Make", "Make2"]


def test_duplicate_id_reached_only_through_an_upstream_component():
    hidden = Make()
    train = Train(examples=hidden.outputs["examples"])
    with pytest.raises(DefinitionError, match="Two components have the id 'Make'"):
        Pipeline("p", "/root", [train, Make()])


def test_duplicate_id_created_by_a_rename_after_construction_fails_at_compile():
    a, b = Make().with_id("a"), Make().with_id("b")
    pipeline = Pipeline("p", "/root", [a, b])
    b.with_id("a")
    with pytest.raises(DefinitionError, match="Two components have the id 'a'"):
        compile_pipeline(pipeline)


def test_cycle_names_the_nodes():
    a, b, c = Make().with_id("alpha"), Make().with_id("beta"), Make().with_id("gamma")
    b.add_upstream_node(a)
    c.add_upstream_node(b)
    a.add_upstream_node(c)
    with pytest.raises(DefinitionError) as err:
        Pipeline("p", "/root", [a, b, c])
    msg = _message(err)
    assert "The pipeline has a cycle" in msg
    for name in ("alpha", "beta", "gamma"):
        assert name in msg
    assert "Remove one of these dependencies" in msg


def test_cycle_through_a_data_edge_and_an_explicit_edge():
    make = Make().with_id("make")
    train = Train(examples=make.outputs["examples"]).with_id("train")
    make.add_upstream_node(train)
    with pytest.raises(DefinitionError) as err:
        Pipeline("p", "/root", [train])
    msg = _message(err)
    assert "cycle" in msg
    assert "make" in msg and "train" in msg


@pytest.mark.parametrize("name", ["", "my pipeline", "-leading", "a/b", "x" * 101, None, 3])
def test_invalid_pipeline_name(name):
    with pytest.raises(DefinitionError) as err:
        Pipeline(name, "/root", [Make()])
    msg = _message(err)
    assert f"Invalid pipeline_name {name!r}" in msg
    assert "letters, digits, '_', '.', '-'" in msg


@pytest.mark.parametrize("name", ["a", "my_pipeline-1.2", "9lives", "x" * 100])
def test_valid_pipeline_names(name):
    assert Pipeline(name, "/root", [Make()]).pipeline_name == name


def test_pipeline_root_and_connection_config_are_checked():
    with pytest.raises(DefinitionError, match="pipeline_root must be a directory path"):
        Pipeline("p", "", [Make()])
    with pytest.raises(DefinitionError, match=r"sqlite_metadata_connection_config\(path\); got str"):
        Pipeline("p", "/root", [Make()], metadata_connection_config="sqlite:///x.db")
    with pytest.raises(DefinitionError, match="Pipeline components must be components, got 'Make'"):
        Pipeline("p", "/root", ["Make"])


def test_unbound_channel_as_input_fails_at_compile_time():
    train = Train(examples=Channel(type=standard_artifacts.Examples))
    pipeline = Pipeline("p", "/root", [train])  # construction is fine ...
    with pytest.raises(DefinitionError) as err:  # ... compiling is not
        compile_pipeline(pipeline)
    msg = _message(err)
    assert "Input 'examples' of component 'Train'" in msg
    assert "no component produces" in msg
    assert "Importer" in msg


_LOCK = threading.Lock()  # cannot be pickled


def test_function_component_defined_inside_a_function_compiles_by_value():
    @component
    def Inner(examples: OutputArtifact[standard_artifacts.Examples]):
        pass

    executor = compile_pipeline(Pipeline("p", "/root", [Inner()])).node("Inner").executor
    assert "<locals>" in executor["qualname"] and executor["payload"]["data"]


def test_code_that_cannot_travel_fails_at_compile_time_naming_the_global():
    @component
    def Locked(examples: OutputArtifact[standard_artifacts.Examples]):
        with _LOCK:
            pass

    with pytest.raises(DefinitionError) as err:
        compile_pipeline(Pipeline("p", "/root", [Locked()]))
    msg = _message(err)
    assert "@component Locked" in msg
    assert "global '_LOCK'" in msg and "_thread.lock" in msg
    assert "inside the function" in msg  # the fix


def test_executor_class_defined_inside_a_function_compiles_by_value():
    class LocalExecutor(BaseExecutor):
        def Do(self, input_dict, output_dict, exec_properties):
            pass

    class LocalGreet(BaseComponent):
        SPEC_CLASS = GreetSpec
        EXECUTOR_SPEC = ExecutorClassSpec(LocalExecutor)

    node = LocalGreet(spec=GreetSpec(input_data=Make().outputs["examples"], name="x"))
    executor = compile_pipeline(Pipeline("p", "/root", [node])).node("LocalGreet").executor
    assert executor["kind"] == "python_class" and executor["payload"]["format"] == "cloudpickle"


def test_non_json_parameter_fails_at_compile_time():
    # exec_properties changed after construction to hold a non-JSON value: compile still catches it.
    node = Greet(input_data=Make().outputs["examples"], name="x")
    node.spec.exec_properties["bad"] = {1, 2}
    with pytest.raises(DefinitionError, match="Parameters of component 'Greet' must be JSON-serializable"):
        compile_pipeline(Pipeline("p", "/root", [node]))


# -- closure and order -----------------------------------------------------------------------------


def test_pipeline_adds_upstream_components_that_were_not_listed():
    make = Make()
    train = Train(examples=make.outputs["examples"])
    gate = Make().with_id("gate")
    train.add_upstream_node(gate)
    pipeline = Pipeline("p", "/root", [train])
    ids = [c.id for c in pipeline.components]
    assert sorted(ids) == ["Make", "Train", "gate"]
    assert ids[-1] == "Train"
    assert pipeline.components[ids.index("Make")] is make
    assert pipeline.components[ids.index("gate")] is gate


def test_pipeline_orders_components_topologically_whatever_the_listed_order():
    make = Make()
    a = Train(examples=make.outputs["examples"]).with_id("a")
    b = Train(examples=make.outputs["examples"]).with_id("b")
    greet = Greet(input_data=make.outputs["examples"], name="x")
    last = Train(examples=greet.outputs["output_data"]).with_id("last")
    last.add_upstream_node(a)
    last.add_upstream_node(b)
    for listed in ([last, b, a, greet, make], [make, a, b, greet, last], [b, last, make, greet, a]):
        order = [c.id for c in Pipeline("p", "/root", listed).components]
        pos = {cid: i for i, cid in enumerate(order)}
        assert len(order) == 5
        assert pos["Make"] < min(pos["a"], pos["b"], pos["Greet"])
        assert pos["last"] == 4


def test_independent_components_keep_the_listed_order():
    nodes = [Make().with_id(name) for name in ("c", "a", "d", "b")]
    assert [c.id for c in Pipeline("p", "/root", nodes).components] == ["c", "a", "d", "b"]
    assert [c.id for c in Pipeline("p", "/root", nodes[::-1]).components] == ["b", "d", "a", "c"]


def test_listing_a_component_twice_adds_it_once():
    make = Make()
    assert Pipeline("p", "/root", [make, make]).components == [make]
