"""InfraValidator's TFX specs at definition time (no TensorFlow): TFX's infra_validator_pb2 messages,
their dicts or None; what cannot run here is refused with the parameter and the fix."""

from __future__ import annotations

import pytest

from headrace.components import CsvExampleGen, InfraValidator
from headrace.components.serving.infra_validator import serving_note
from headrace.dsl import Importer
from headrace.errors import DefinitionError
from headrace.tfx import v1 as tfx
from headrace.types.standard_artifacts import Model


@pytest.fixture
def channels(tmp_path):
    model = Importer(source_uri="/nowhere", artifact_type=Model)
    examples = CsvExampleGen(input_base=tmp_path)
    return model.outputs["result"], examples.outputs["examples"]


def test_the_tutorials_protos_and_their_dicts_give_the_same_exec_properties(channels):
    model, examples = channels
    from_protos = InfraValidator(
        model=model,
        examples=examples,
        serving_spec=tfx.proto.ServingSpec(
            tensorflow_serving=tfx.proto.TensorFlowServing(tags=["latest"]),
            local_docker=tfx.proto.LocalDockerConfig(),
        ),
        request_spec=tfx.proto.RequestSpec(
            tensorflow_serving=tfx.proto.TensorFlowServingRequestSpec(signature_names=["serving_default"]),
            num_examples=3,
        ),
        validation_spec=tfx.proto.ValidationSpec(max_loading_time_seconds=60, num_tries=2),
    )
    from_dicts = InfraValidator(
        model=model,
        examples=examples,
        serving_spec={"tensorflow_serving": {"tags": ["latest"]}, "local_docker": {}},
        request_spec={"tensorflow_serving": {"signatureNames": ["serving_default"]}, "num_examples": 3},
        validation_spec={"max_loading_time_seconds": 60, "num_tries": 2},
    )
    props = from_protos.exec_properties
    assert props == from_dicts.exec_properties
    assert props["serving_spec"] == {"tensorflow_serving": {"tags": ["latest"]}, "local_docker": {}}
    assert props["request_spec"]["tensorflow_serving"] == {"signature_names": ["serving_default"]}
    assert props["validation_spec"] == {"max_loading_time_seconds": 60, "num_tries": 2}
    bare = InfraValidator(model=model)
    assert [bare.exec_properties.get(k) for k in ("serving_spec", "request_spec", "validation_spec")] == [None] * 3


def test_the_serving_note_says_what_was_asked_and_which_backend_runs():
    note = serving_note({"tensorflow_serving": {"tags": ["latest", "2.15.0"]}, "local_docker": {}, "model_name": "m"})
    assert "TensorFlow Serving (tensorflow/serving: latest, 2.15.0) on local Docker as model 'm'" in note
    assert "backend 'tensorflow_loader'" in note
    assert serving_note({}) == ""


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"serving_spec": {"tensorflow_serving": {"tags": ["latest"]}, "kubernetes": {}}},
            r"serving_spec.kubernetes cannot run here.*Use ServingSpec\(tensorflow_serving=",
        ),
        ({"request_spec": {"num_examples": -2}}, r"num_examples must be at least 1, got -2"),
        ({"validation_spec": {"num_tries": -1}}, r"validation_spec num_tries must be positive, got -1"),
        ({"validation_spec": {"max_loading_time_seconds": -1}}, r"max_loading_time_seconds must be positive"),
        ({"validation_spec": {"num_try": 2}}, r"validation_spec has no field 'num_try'.*Did you mean 'num_tries'"),
        ({"serving_spec": tfx.proto.RequestSpec()}, r"serving_spec must be a tfx.components.infra_validator.Serving"),
        ({"validation_spec": 60}, r"validation_spec must be a .*ValidationSpec message; got int"),
    ],
)
def test_bad_specs_are_definition_errors_naming_the_parameter(channels, kwargs, match):
    model, examples = channels
    with pytest.raises(DefinitionError, match=match) as info:
        InfraValidator(model=model, examples=examples, **kwargs)
    assert str(info.value).startswith("InfraValidator: ")


def test_a_request_spec_needs_examples():
    model = Importer(source_uri="/nowhere", artifact_type=Model).outputs["result"]
    with pytest.raises(DefinitionError, match=r"request_spec needs examples.*pass examples="):
        InfraValidator(model=model, request_spec=tfx.proto.RequestSpec(num_examples=2))
    with pytest.raises(DefinitionError, match=r"request_spec needs examples"):
        InfraValidator(model=model, request_spec=tfx.proto.RequestSpec(make_warmup=True))


def test_make_warmup_is_accepted(channels):
    model, examples = channels
    spec = InfraValidator(model=model, examples=examples, request_spec=tfx.proto.RequestSpec(make_warmup=True))
    assert spec.exec_properties["request_spec"]["make_warmup"] is True
