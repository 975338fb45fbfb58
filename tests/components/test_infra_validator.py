"""InfraValidator on real SavedModels: a servable model is blessed (feature inputs, or TFX's
serialized tf.Example signature); a model without a serving signature, one that does not load and
one that answers with the wrong shape are not, each with its reason."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from datagen import run

from headrace.components import CsvExampleGen, InfraValidator
from headrace.dsl import Importer
from headrace.errors import DefinitionError
from headrace.types.standard_artifacts import Model

pytestmark = pytest.mark.heavy_imports  # pyarrow reads the predictions back in this process

SPEC = 'input_signature=[tf.TensorSpec([None], tf.float32, name="x"), tf.TensorSpec([None], tf.string, name="kind")]'
MAKE_MODELS = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf

base = sys.argv[1]

class Features(tf.Module):
    @tf.function(SPEC)
    def serve(self, x, kind):
        return {"y": x * 2.0, "n": tf.strings.length(kind)}

class Parsing(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(self, examples):
        parsed = tf.io.parse_example(examples, {"x": tf.io.FixedLenFeature([], tf.float32)})
        return {"y": parsed["x"] + 1.0}

class Scalar(tf.Module):
    @tf.function(SPEC)
    def serve(self, x, kind):
        return {"total": tf.reduce_sum(x)}

class Bare(tf.Module):
    def __init__(self):
        self.v = tf.Variable(1.0)

for name, module in (("features", Features()), ("parsing", Parsing()), ("scalar", Scalar())):
    path = os.path.join(base, name, "Format-Serving")
    tf.saved_model.save(module, path, signatures={"serving_default": module.serve})
tf.saved_model.save(Bare(), os.path.join(base, "bare"))
os.makedirs(os.path.join(base, "garbage"))
open(os.path.join(base, "garbage", "saved_model.pb"), "wb").write(b"not a model")
"""


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("models")
    code = textwrap.dedent(MAKE_MODELS).replace("@tf.function(SPEC)", f"@tf.function({SPEC})")
    subprocess.run([sys.executable, "-c", code, str(base)], check=True, timeout=300)
    return base


def test_servable_models_are_blessed_and_broken_ones_are_not_with_a_reason(models: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "d.csv").write_text("x,kind\n" + "".join(f"{i * 0.5},k{i % 4}\n" for i in range(60)))
    examples = CsvExampleGen(input_base=data)
    nodes = [examples]
    for name in ("features", "parsing", "scalar", "bare", "garbage"):
        model = Importer(source_uri=str(models / name), artifact_type=Model).with_id(f"model_{name}")
        validator = InfraValidator(
            model=model.outputs["result"],
            examples=examples.outputs["examples"],
            request_spec={"num_examples": 5, "tensorflow_serving": {"signature_names": ["serving_default"]}},
            serving_spec={"tensorflow_serving": {"tags": ["latest"]}, "local_docker": {}},
            validation_spec={"max_loading_time_seconds": 120, "num_tries": 1},
        ).with_id(f"infra_{name}")
        nodes += [model, validator]
    result = run(tmp_path / "root", *nodes)
    assert result.state == "COMPLETE", {n: o.error for n, o in result.nodes.items() if o.error}

    def verdict(name: str) -> tuple[str, str]:
        uri = result.nodes[f"infra_{name}"].outputs["blessing"][0]
        files = sorted(p.name for p in Path(uri).iterdir())
        return files[0], (Path(uri) / files[0]).read_text()

    for name in ("features", "parsing"):
        marker, text = verdict(name)
        assert marker == "INFRA_BLESSED", text
    marker, text = verdict("scalar")
    assert marker == "INFRA_NOT_BLESSED" and "expected one row per request example (5)" in text
    marker, text = verdict("bare")
    assert marker == "INFRA_NOT_BLESSED" and "no serving signature" in text
    marker, text = verdict("garbage")
    assert marker == "INFRA_NOT_BLESSED" and "does not load as a SavedModel" in text


def test_bad_specs_are_definition_errors() -> None:
    model = Importer(source_uri="/nowhere", artifact_type=Model)
    with pytest.raises(DefinitionError, match="backend must be one of"):
        InfraValidator(model=model.outputs["result"], backend="triton")
    with pytest.raises(DefinitionError, match="max_loading_time_seconds must be positive"):
        InfraValidator(model=model.outputs["result"], validation_spec={"max_loading_time_seconds": -1})


def test_bulk_inferrer_writes_one_prediction_per_row_and_skips_an_unblessed_model(models: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from headrace.components import BulkInferrer
    from headrace.types.standard_artifacts import ModelBlessing

    data = tmp_path / "data"
    data.mkdir()
    (data / "d.csv").write_text("x,kind\n" + "".join(f"{i * 0.5},k{i % 4}\n" for i in range(90)))
    examples = CsvExampleGen(input_base=data)
    nodes: list = [examples]
    for name in ("features", "parsing"):
        model = Importer(source_uri=str(models / name), artifact_type=Model).with_id(f"model_{name}")
        nodes += [
            model,
            BulkInferrer(examples=examples.outputs["examples"], model=model.outputs["result"]).with_id(name),
        ]
    unblessed = Importer(
        source_uri=str(tmp_path / "blessing"), artifact_type=ModelBlessing, custom_properties={"blessed": 0}
    )
    nodes += [
        unblessed,
        BulkInferrer(
            examples=examples.outputs["examples"],
            model=nodes[1].outputs["result"],
            model_blessing=unblessed.outputs["result"],
        ).with_id("gated"),
    ]
    result = run(tmp_path / "root", *nodes)
    assert result.state == "COMPLETE", {n: o.error for n, o in result.nodes.items() if o.error}
    total = 0
    for name, expect in (("features", lambda x: x * 2.0), ("parsing", lambda x: x + 1.0)):
        uri = Path(result.nodes[name].outputs["inference_result"][0])
        for split in ("train", "eval"):
            table = pq.read_table(uri / f"Split-{split}" / "predictions-00000-of-00001.parquet").to_pylist()
            assert table and all(row["prediction.y"] == pytest.approx(expect(row["x"])) for row in table)
            total += len(table) if name == "features" else 0
    assert total == 90  # one prediction per input row
    assert not any(Path(result.nodes["gated"].outputs["inference_result"][0]).iterdir())


def _outputs(root: Path, run_id: str, node: str, key: str):
    from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config

    reader = MetadataReader(Metadata(sqlite_metadata_connection_config(str(root / "metadata.sqlite"))))
    [execution] = [e for e in reader.executions(run_id) if e.node_id == node]
    return execution.outputs[key][0]


def test_tfx_protos_are_honoured_in_a_run(models: Path, tmp_path: Path) -> None:
    """The tutorial's ServingSpec runs on the loader and says so; RequestSpec's split, count, tag_set and
    signatures and ValidationSpec's limits are used; BulkInferrer's tag, splits and output columns too."""
    import pyarrow.parquet as pq

    from headrace.components import BulkInferrer
    from headrace.tfx import v1 as tfx

    data = tmp_path / "data"
    data.mkdir()
    (data / "d.csv").write_text("x,kind\n" + "".join(f"{i * 0.5},k{i % 4}\n" for i in range(60)))
    examples = CsvExampleGen(input_base=data)
    model = Importer(source_uri=str(models / "features"), artifact_type=Model).with_id("model")
    serving = tfx.proto.ServingSpec(
        tensorflow_serving=tfx.proto.TensorFlowServing(tags=["latest"]), local_docker=tfx.proto.LocalDockerConfig()
    )

    def infra(tag: str) -> InfraValidator:
        return InfraValidator(
            model=model.outputs["result"],
            examples=examples.outputs["examples"],
            serving_spec=serving,
            request_spec=tfx.proto.RequestSpec(
                tensorflow_serving=tfx.proto.TensorFlowServingRequestSpec(
                    tag_set=[tag], signature_names=["serving_default"]
                ),
                split_name="train",
                num_examples=4,
            ),
            validation_spec=tfx.proto.ValidationSpec(max_loading_time_seconds=120, num_tries=1),
        ).with_id(f"infra_{tag}")

    inferrer = BulkInferrer(
        examples=examples.outputs["examples"],
        model=model.outputs["result"],
        model_spec=tfx.proto.ModelSpec(model_signature_name=["serving_default"], tag=["serve"]),
        data_spec=tfx.proto.DataSpec(example_splits=["eval"]),
        output_example_spec=tfx.proto.OutputExampleSpec(
            output_columns_spec=[
                tfx.proto.OutputColumnsSpec(
                    predict_output=tfx.proto.PredictOutput(
                        output_columns=[tfx.proto.PredictOutputCol(output_key="y", output_column="doubled")]
                    )
                )
            ]
        ),
    )
    result = run(tmp_path / "root", examples, model, infra("serve"), infra("gpu"), inferrer)
    assert result.state == "COMPLETE", {n: o.error for n, o in result.nodes.items() if o.error}

    served = _outputs(tmp_path / "root", result.run_id, "infra_serve", "blessing").custom_properties
    assert served["blessed"] == 1 and served["requests"] == 4
    assert served["serving_backend"] == "tensorflow_loader"
    assert "TensorFlow Serving (tensorflow/serving: latest) on local Docker" in served["serving_note"]
    wrong_tag = _outputs(tmp_path / "root", result.run_id, "infra_gpu", "blessing").custom_properties
    assert wrong_tag["blessed"] == 0 and "does not load as a SavedModel" in wrong_tag["reason"]

    uri = Path(result.nodes[inferrer.id].outputs["inference_result"][0])
    assert sorted(p.name for p in uri.iterdir()) == ["Split-eval"]  # data_spec example_splits
    rows = pq.read_table(uri / "Split-eval" / "predictions-00000-of-00001.parquet").to_pylist()
    assert rows and set(rows[0]) == {"x", "kind", "doubled"}  # only the named output, under its column
    assert all(row["doubled"] == pytest.approx(row["x"] * 2.0) for row in rows)


def test_bulk_inferrer_names_the_missing_output_key_and_unknown_splits(models: Path, tmp_path: Path) -> None:
    from headrace.components import BulkInferrer

    data = tmp_path / "data"
    data.mkdir()
    (data / "d.csv").write_text("x,kind\n" + "".join(f"{i * 0.5},k{i % 4}\n" for i in range(30)))
    examples = CsvExampleGen(input_base=data)
    model = Importer(source_uri=str(models / "features"), artifact_type=Model).with_id("model")
    spec = {
        "output_columns_spec": [{"predict_output": {"output_columns": [{"output_key": "z", "output_column": "c"}]}}]
    }
    missing_key = BulkInferrer(
        examples=examples.outputs["examples"], model=model.outputs["result"], output_example_spec=spec
    ).with_id("missing_key")
    unknown_split = BulkInferrer(
        examples=examples.outputs["examples"], model=model.outputs["result"], data_spec={"example_splits": ["test"]}
    ).with_id("unknown_split")
    result = run(tmp_path / "root", examples, model, missing_key, unknown_split)
    errors = {n: str(o.error) for n, o in result.nodes.items() if o.error}
    assert "names signature output(s) ['z'], which the signature does not return" in errors["missing_key"]
    assert "data_spec example_splits ['test'] are not splits of the examples" in errors["unknown_split"]


def test_make_warmup_writes_a_warmed_up_model_that_pusher_pushes(models: Path, tmp_path: Path) -> None:
    """TFX's make_warmup: a blessed model is copied into the blessing (stamped_model/) with its requests
    as TF Serving warmup records (PredictionLog), and a Pusher given only the infra_blessing pushes it;
    a model that is not blessed gets no stamped model."""
    from headrace.components import Pusher
    from headrace.components.io.tfrecord import read_records

    data = tmp_path / "data"
    data.mkdir()
    (data / "d.csv").write_text("x,kind\n" + "".join(f"{i * 0.5},k{i % 4}\n" for i in range(60)))
    examples = CsvExampleGen(input_base=data)
    nodes: list = [examples]
    for name in ("features", "scalar"):
        model = Importer(source_uri=str(models / name), artifact_type=Model).with_id(f"model_{name}")
        validator = InfraValidator(
            model=model.outputs["result"],
            examples=examples.outputs["examples"],
            serving_spec={"tensorflow_serving": {"tags": ["latest"]}, "local_docker": {}, "model_name": "m"},
            request_spec={"num_examples": 3, "split_name": "train", "make_warmup": True},
            validation_spec={"max_loading_time_seconds": 120, "num_tries": 1},
        ).with_id(f"infra_{name}")
        nodes += [model, validator]
    pusher = Pusher(
        infra_blessing=nodes[2].outputs["blessing"],
        push_destination={"filesystem": {"base_directory": str(tmp_path / "serving" / "m")}},
    )
    result = run(tmp_path / "root", *nodes, pusher)
    assert result.state == "COMPLETE", {n: o.error for n, o in result.nodes.items() if o.error}

    blessed = _outputs(tmp_path / "root", result.run_id, "infra_features", "blessing")
    assert blessed.custom_properties["blessed"] == 1 and blessed.custom_properties["has_model"] == 1
    stamped = Path(blessed.uri) / "stamped_model"
    assert (stamped / "saved_model.pb").read_bytes() == (
        models / "features" / "Format-Serving" / "saved_model.pb"
    ).read_bytes()
    [record] = list(read_records(str(stamped / "assets.extra" / "tf_serving_warmup_requests")))

    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    request = prediction_log_pb2.PredictionLog.FromString(record).predict_log.request
    assert (request.model_spec.name, request.model_spec.signature_name) == ("m", "serving_default")
    assert sorted(request.inputs) == ["kind", "x"]
    assert len(tf.make_ndarray(request.inputs["x"])) == 3  # num_examples rows

    pushed = Path(tmp_path / "serving" / "m" / "1")
    assert (pushed / "assets.extra" / "tf_serving_warmup_requests").read_bytes() == (
        stamped / "assets.extra" / "tf_serving_warmup_requests"
    ).read_bytes()
    not_blessed = _outputs(tmp_path / "root", result.run_id, "infra_scalar", "blessing")
    assert not_blessed.custom_properties["blessed"] == 0 and "has_model" not in not_blessed.custom_properties
    assert not (Path(not_blessed.uri) / "stamped_model").exists()
