"""BulkInferrer's TFX specs at definition time (no TensorFlow): bulk_inferrer_pb2 messages, their
dicts or None; TFMA's ModelSpec, multi-head inference and malformed output columns are refused."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pool

from headrace.components import BulkInferrer, CsvExampleGen
from headrace.components.proto.builder import Field, Message, build
from headrace.components.serving.bulk_inferrer import output_columns
from headrace.dsl import Importer
from headrace.errors import DefinitionError
from headrace.tfx import v1 as tfx
from headrace.types.standard_artifacts import Model

P = tfx.proto


@pytest.fixture
def channels(tmp_path):
    model = Importer(source_uri="/nowhere", artifact_type=Model)
    examples = CsvExampleGen(input_base=tmp_path)
    return {"model": model.outputs["result"], "examples": examples.outputs["examples"]}


def _predict(*pairs: tuple[str, str], signature: str = "") -> object:
    return P.OutputExampleSpec(
        output_columns_spec=[
            P.OutputColumnsSpec(
                signature_name=signature,
                predict_output=P.PredictOutput(
                    output_columns=[P.PredictOutputCol(output_key=k, output_column=c) for k, c in pairs]
                ),
            )
        ]
    )


def test_protos_and_dicts_give_the_same_exec_properties(channels):
    from_protos = BulkInferrer(
        **channels,
        model_spec=P.ModelSpec(model_signature_name=["serving_default"], tag=["serve"]),
        data_spec=P.DataSpec(example_splits=["eval"]),
        output_example_spec=_predict(("y", "y_pred")),
    )
    from_dicts = BulkInferrer(
        **channels,
        model_spec={"model_signature_name": ["serving_default"], "tag": ["serve"]},
        data_spec={"example_splits": ["eval"]},
        output_example_spec={
            "output_columns_spec": [
                {"predict_output": {"output_columns": [{"output_key": "y", "output_column": "y_pred"}]}}
            ]
        },
    )
    assert from_protos.exec_properties == from_dicts.exec_properties
    assert from_protos.exec_properties["data_spec"] == {"example_splits": ["eval"]}
    assert output_columns(from_protos.exec_properties["output_example_spec"]) == {"y": "y_pred"}
    assert BulkInferrer(**channels).exec_properties.get("output_example_spec") is None


def test_classify_and_regress_outputs_map_tf_serving_output_keys():
    classify = {"output_columns_spec": [{"classify_output": {"label_column": "label", "score_column": "score"}}]}
    assert output_columns(classify) == {"classes": "label", "scores": "score"}
    regress = {"output_columns_spec": [{"regress_output": {"value_column": "value"}}]}
    assert output_columns(regress) == {"outputs": "value"}
    assert output_columns(None) is None


TFMA_MODEL_SPEC = build(
    descriptor_pool.DescriptorPool(),
    "tfma/config.proto",
    "tensorflow_model_analysis",
    [Message("ModelSpec", [Field("label_key", 4, "string")])],
).messages["ModelSpec"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"model_spec": TFMA_MODEL_SPEC(label_key="species")},
            r"model_spec must be a tfx.components.bulkinferrer.ModelSpec, got a tensorflow_model_analysis.ModelSpec",
        ),
        ({"model_spec": P.ModelSpec(model_signature_name=["a", "b"])}, r"multi-head inference.*give one signature"),
        ({"model_spec": {"signature_name": "a"}}, r"model_spec has no field 'signature_name'.*model_signature_name"),
        ({"data_spec": P.DataSpec(example_splits=["eval", "eval"])}, r"example_splits \['eval', 'eval'\] must be"),
        ({"data_spec": ["eval"]}, r"data_spec must be a tfx.components.bulkinferrer.DataSpec message; got list"),
        ({"output_example_spec": P.OutputExampleSpec()}, r"needs exactly one output_columns_spec.*got 0"),
        (
            {"output_example_spec": {"output_columns_spec": [{"signature_name": "x"}]}},
            r"is for signature 'x', but the model_spec runs 'serving_default'",
        ),
        (
            {"output_example_spec": {"output_columns_spec": [{}]}},
            r"needs classify_output, regress_output or predict_output",
        ),
        ({"output_example_spec": _predict(("y", ""))}, r"each with an output_key and an output_column"),
        ({"output_example_spec": _predict(("y", "c"), ("z", "c"))}, r"output column names \['c', 'c'\] must be"),
        (
            {"output_example_spec": {"output_columns_spec": [{"regress_output": {}}]}},
            r"regress_output names no output column",
        ),
    ],
)
def test_bad_specs_are_definition_errors_naming_the_parameter(channels, kwargs, match):
    with pytest.raises(DefinitionError, match=match) as info:
        BulkInferrer(**channels, **kwargs)
    assert str(info.value).startswith("BulkInferrer: ")


def test_an_output_spec_for_the_signature_the_model_spec_runs_is_accepted(channels):
    spec = _predict(("y", "y_pred"), signature="predict")
    inferrer = BulkInferrer(
        **channels, model_spec=P.ModelSpec(model_signature_name=["predict"]), output_example_spec=spec
    )
    assert inferrer.exec_properties["output_example_spec"]["output_columns_spec"][0]["signature_name"] == "predict"
