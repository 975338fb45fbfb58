"""BulkInferrer: batch predictions of a (blessed) model over an Examples artifact.

The SavedModel's serving signature is called on streamed record batches (features by name, or
serialized tf.Example for a parsing signature, as TFX's models take them), and each split's rows
are written with their predictions as Parquet: `Split-<name>/predictions-00000-of-00001.parquet`,
one row per input row, the input features followed by `prediction.<output>` columns. Memory is
bounded by a batch. TensorFlow runs in the run's TensorFlow worker (imported once per run).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from headrace.components import _common
from headrace.components._example_gen_config import as_dict
from headrace.dsl.base_component import BaseComponent
from headrace.dsl.executor import BaseExecutor, ExecutorClassSpec
from headrace.types.artifact import Artifact
from headrace.types.channel import Channel
from headrace.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from headrace.types.standard_artifacts import Examples, InferenceResult, Model, ModelBlessing

PREDICTIONS_FILE = "predictions-00000-of-00001.parquet"
BATCH_ROWS = 8192


class BulkInferrerSpec(ComponentSpec):
    """BulkInferrer's contract (TFX's names)."""

    PARAMETERS = {
        "data_spec": ExecutionParameter(type=dict, optional=True),
        "model_spec": ExecutionParameter(type=dict, optional=True),
    }
    INPUTS = {
        "examples": ChannelParameter(type=Examples),
        "model": ChannelParameter(type=Model),
        "model_blessing": ChannelParameter(type=ModelBlessing, optional=True),
    }
    OUTPUTS = {"inference_result": ChannelParameter(type=InferenceResult)}


def predictions(signature: Any, uri: str, split: str, payload: str, batch_rows: int = BATCH_ROWS) -> Iterator[Any]:
    """(record batch, {output name: numpy array}) for each batch of a split, from a serving
    signature fed by feature name, or with serialized tf.Examples if it parses them itself."""
    from headrace.components._serving_probe import _feed
    from headrace.components.examples_io import feature_values, iter_batches, serialize_examples

    for batch in iter_batches(uri, split, payload, batch_rows=batch_rows):
        features = feature_values(batch)
        request = {"features": features, "count": batch.num_rows}
        if any(n not in features for n in signature.structured_input_signature[1]):
            request["serialized"] = serialize_examples(batch)
        outputs = {key: tensor.numpy() for key, tensor in signature(**_feed(signature, request)).items()}
        for key, value in outputs.items():
            if value.ndim == 0 or value.shape[0] != batch.num_rows:
                raise ValueError(f"output '{key}' has shape {list(value.shape)}, not one row per example")
        yield batch, outputs


def _predict_split(signature: Any, uri: str, split: str, payload: str, out_path: str) -> int:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    rows = 0
    try:
        for batch, outputs in predictions(signature, uri, split, payload):
            arrays, names = list(batch.columns), list(batch.schema.names)
            for key, value in sorted(outputs.items()):
                flat = value.reshape(batch.num_rows, -1)
                column = flat[:, 0] if flat.shape[1] == 1 else list(flat)
                if value.dtype == object:
                    column = [v.decode() if isinstance(v, bytes) else v for v in np.asarray(column, dtype=object)]
                arrays.append(pa.array(column))
                names.append(f"prediction.{key}")
            table = pa.Table.from_arrays(arrays, names=names)
            if writer is None:
                writer = pq.ParquetWriter(out_path, table.schema)
            writer.write_table(table.cast(writer.schema))
            rows += batch.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows


class Executor(BaseExecutor):
    """Loads the model once, predicts every chosen split batch by batch."""

    def Do(
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        from headrace.components.examples_io import payload_format, split_names, split_uri
        from headrace.components.infra_validator import serving_dir

        result = output_dict["inference_result"][0]
        blessing = (input_dict.get("model_blessing") or [None])[0]
        if blessing is not None and blessing.get_custom_property("blessed", 0) != 1:
            result.set_custom_property("inferred", 0)
            result.set_custom_property("reason", "the model is not blessed")
            print("the model is not blessed: no inference")
            return
        _common.quiet_tensorflow()
        import tensorflow as tf

        examples = input_dict["examples"][0]
        model = tf.saved_model.load(serving_dir(input_dict["model"][0].uri))
        name = (exec_properties.get("model_spec") or {}).get("model_signature_name") or ["serving_default"]
        name = name[0] if isinstance(name, list) else name
        if name not in model.signatures:
            raise ValueError(f"the model has no signature '{name}' (it has {sorted(model.signatures)}).")
        wanted = (exec_properties.get("data_spec") or {}).get("example_splits") or split_names(examples)
        counts = {}
        for split in wanted:
            os.makedirs(split_uri(result.uri, split), exist_ok=True)
            out = os.path.join(split_uri(result.uri, split), PREDICTIONS_FILE)
            counts[split] = _predict_split(model.signatures[name], examples.uri, split, payload_format(examples), out)
        result.set_custom_property("inferred", 1)
        result.set_custom_property("split_names", json.dumps(list(counts)))
        result.set_custom_property("split_rows", json.dumps(counts))
        print("predictions: " + ", ".join(f"{s} {n:,} rows" for s, n in counts.items()))
        result.set_custom_property("summary", "predictions: " + ", ".join(f"{s} {n:,}" for s, n in counts.items()))


class BulkInferrer(BaseComponent):
    """Runs a model's serving signature over examples, one prediction per row.

    Args:
        examples: A channel of Examples.
        model: A channel of Model (a SavedModel, in `Format-Serving/` as the Trainer writes it).
        model_blessing: If given, inference runs only for a blessed model (else it records why not).
        data_spec: TFX's `bulk_inferrer_pb2.DataSpec` (or dict): `example_splits` to predict
            (default: every split).
        model_spec: TFX's `ModelSpec` (or dict): `model_signature_name` (default serving_default).
    """

    SPEC_CLASS = BulkInferrerSpec
    EXECUTOR_SPEC = ExecutorClassSpec(Executor, worker_group=_common.TFDV_GROUP)

    def __init__(
        self,
        examples: Channel,
        model: Channel,
        model_blessing: Channel | None = None,
        data_spec: Any = None,
        model_spec: Any = None,
        output_example_spec: Any = None,
    ):
        owner = type(self).__name__
        if output_example_spec is not None:
            from headrace.errors import DefinitionError

            raise DefinitionError(
                f"{owner}: output_example_spec (predictions as Examples) is not supported yet; predictions are "
                "written as an InferenceResult (Parquet, input features and prediction columns)."
            )
        super().__init__(
            spec=BulkInferrerSpec(
                examples=examples,
                model=model,
                model_blessing=model_blessing,
                data_spec=as_dict(owner, "data_spec", data_spec),
                model_spec=as_dict(owner, "model_spec", model_spec),
            )
        )


__all__ = ["BulkInferrer"]
