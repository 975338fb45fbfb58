"""BulkInferrer: batch predictions of a (blessed) model over an Examples artifact.

The SavedModel's serving signature is called on streamed record batches (features by name, or
serialized tf.Example for a parsing signature, as TFX's models take them), and each split's rows
are written with their predictions as Parquet: `Split-<name>/predictions-00000-of-00001.parquet`,
one row per input row, the input features followed by `prediction.<output>` columns. Memory is
bounded by a batch. TensorFlow runs in the run's TensorFlow worker (imported once per run).

Two execution paths write the same rows and columns, chosen as StatisticsGen chooses
(`_execution_path.choose_path`; `execution_path=` forces one): in process, or a Beam pipeline
built from the pipeline's beam_pipeline_args (`_bulk_inferrer_beam`: the model loaded once per
worker, BatchElements batches) for splits over 8 GiB or a non-Direct runner. The Beam path's
row order is the order the runner processed the rows in, not the input's.

The specs are TFX's `bulk_inferrer_pb2` messages (headrace.components.proto) or their dicts,
checked at definition. Honoured: ModelSpec `model_signature_name` (one; default serving_default)
and `tag` (the MetaGraph tags to load); DataSpec `example_splits` (default: every split);
OutputExampleSpec `output_columns_spec` (one, for that signature): the prediction columns are then
the ones it names (`predict_output` output_key -> output_column, `classify_output` 'classes' /
'scores' -> label_column / score_column, `regress_output` 'outputs' -> value_column) instead of
`prediction.<output>`. They are still written to the `inference_result` Parquet files beside the
input features; TFX writes them as an `output_examples` Examples artifact, which BulkInferrer does
not have. Refused: several signatures (TFX's multi-head inference).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import Any

from headrace.components import common as _common
from headrace.components import proto
from headrace.components.io.execution_path import check_path, choose_path
from headrace.dsl.base_component import BaseComponent
from headrace.dsl.executor import BaseExecutor, BeamExecutorSpec
from headrace.errors import DefinitionError
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
        "output_example_spec": ExecutionParameter(type=dict, optional=True),
        "execution_path": ExecutionParameter(type=str, optional=True),
    }
    INPUTS = {
        "examples": ChannelParameter(type=Examples),
        "model": ChannelParameter(type=Model),
        "model_blessing": ChannelParameter(type=ModelBlessing, optional=True),
    }
    OUTPUTS = {"inference_result": ChannelParameter(type=InferenceResult)}


def predict_batch(signature: Any, batch: Any) -> dict[str, Any]:
    """{output name: numpy array} of a serving signature on one record batch, fed by feature name,
    or with serialized tf.Examples if it parses them itself."""
    from headrace.components.io.examples import feature_values, serialize_examples
    from headrace.components.serving._serving_probe import _feed

    features = feature_values(batch)
    request = {"features": features, "count": batch.num_rows}
    if any(n not in features for n in signature.structured_input_signature[1]):
        request["serialized"] = serialize_examples(batch)
    outputs = {key: tensor.numpy() for key, tensor in signature(**_feed(signature, request)).items()}
    for key, value in outputs.items():
        if value.ndim == 0 or value.shape[0] != batch.num_rows:
            raise ValueError(f"output '{key}' has shape {list(value.shape)}, not one row per example")
    return outputs


def predictions(signature: Any, uri: str, split: str, payload: str, batch_rows: int = BATCH_ROWS) -> Iterator[Any]:
    """(record batch, {output name: numpy array}) for each batch of a split."""
    from headrace.components.io.examples import iter_batches

    for batch in iter_batches(uri, split, payload, batch_rows=batch_rows):
        yield batch, predict_batch(signature, batch)


# The output keys of TF's classify and regress signatures (tf.saved_model.CLASSIFY_OUTPUT_CLASSES & co.).
_CLASSIFY_KEYS = {"label_column": "classes", "score_column": "scores"}
_REGRESS_KEYS = {"value_column": "outputs"}


def output_columns(output_example_spec: dict[str, Any] | None) -> dict[str, str] | None:
    """{signature output key: column name} from an OutputExampleSpec dict (None: `prediction.<key>`)."""
    if not output_example_spec:
        return None
    [spec] = output_example_spec.get("output_columns_spec") or [{}]
    if "classify_output" in spec:
        named = spec["classify_output"]
        return {key: named[field] for field, key in _CLASSIFY_KEYS.items() if named.get(field)}
    if "regress_output" in spec:
        value = spec["regress_output"].get("value_column")
        return {"outputs": value} if value else {}
    return {c["output_key"]: c["output_column"] for c in spec["predict_output"].get("output_columns") or []}


def prediction_table(batch: Any, outputs: dict[str, Any], columns: dict[str, str] | None) -> Any:
    """The batch's columns followed by its prediction columns (sorted by name), as a pyarrow Table."""
    import numpy as np
    import pyarrow as pa

    arrays, names = list(batch.columns), list(batch.schema.names)
    if columns is not None:
        absent = sorted(set(columns) - set(outputs))
        if absent:
            raise ValueError(
                f"output_example_spec names signature output(s) {absent}, which the signature does not "
                f"return (it returns {sorted(outputs)})"
            )
        outputs = {columns[key]: outputs[key] for key in columns}
    for key, value in sorted(outputs.items()):
        flat = value.reshape(batch.num_rows, -1)
        column = flat[:, 0] if flat.shape[1] == 1 else list(flat)
        if value.dtype == object:
            column = [v.decode() if isinstance(v, bytes) else v for v in np.asarray(column, dtype=object)]
        arrays.append(pa.array(column))
        names.append(key if columns is not None else f"prediction.{key}")
    return pa.Table.from_arrays(arrays, names=names)


def write_tables(out_path: str, tables: Iterable[Any]) -> int:
    """Writes tables to one Parquet file with the first table's schema; returns the row count."""
    import pyarrow.parquet as pq

    writer = None
    rows = 0
    try:
        for table in tables:
            if writer is None:
                writer = pq.ParquetWriter(out_path, table.schema)
            writer.write_table(table.cast(writer.schema))
            rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows


def _predict_split(
    signature: Any, uri: str, split: str, payload: str, out_path: str, columns: dict[str, str] | None = None
) -> int:
    tables = (prediction_table(b, o, columns) for b, o in predictions(signature, uri, split, payload))
    return write_tables(out_path, tables)


class Executor(BaseExecutor):
    """Loads the model once, predicts every chosen split batch by batch."""

    def Do(
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        from headrace.components.io.examples import payload_format, split_names, split_uri
        from headrace.components.serving.infra_validator import serving_dir

        result = output_dict["inference_result"][0]
        blessing = (input_dict.get("model_blessing") or [None])[0]
        if blessing is not None and blessing.get_custom_property("blessed", 0) != 1:
            result.set_custom_property("inferred", 0)
            result.set_custom_property("reason", "the model is not blessed")
            print("the model is not blessed: no inference")
            return
        examples = input_dict["examples"][0]
        model_spec = exec_properties.get("model_spec") or {}
        model_dir, tags = serving_dir(input_dict["model"][0].uri), model_spec.get("tag") or None
        name = (model_spec.get("model_signature_name") or ["serving_default"])[0]
        available = split_names(examples)
        wanted = (exec_properties.get("data_spec") or {}).get("example_splits") or available
        unknown = [s for s in wanted if s not in available]
        if unknown:
            raise ValueError(f"data_spec example_splits {unknown} are not splits of the examples ({available}).")
        columns = output_columns(exec_properties.get("output_example_spec"))
        out_dirs = {split: split_uri(result.uri, split) for split in wanted}
        for out_dir in out_dirs.values():
            os.makedirs(out_dir, exist_ok=True)
        args = list(self.context.beam_pipeline_args)
        path = choose_path(exec_properties.get("execution_path") or "auto", examples.uri, wanted, args)
        if path == "beam":
            from headrace.components.serving._bulk_inferrer_beam import predict_splits_beam

            counts = predict_splits_beam(
                model_dir, tags, name, examples.uri, payload_format(examples), out_dirs, columns, args
            )
        else:
            _common.quiet_tensorflow()

            model = _common.load_saved_model("BulkInferrer", model_dir, tags)
            if name not in model.signatures:
                raise _common.ModelLoadError(
                    f"the model has no signature '{name}' (it has {sorted(model.signatures)})."
                )
            counts = {
                split: _predict_split(
                    model.signatures[name],
                    examples.uri,
                    split,
                    payload_format(examples),
                    os.path.join(out_dir, PREDICTIONS_FILE),
                    columns,
                )
                for split, out_dir in out_dirs.items()
            }
        result.set_custom_property("execution_path", path)
        result.set_custom_property("inferred", 1)
        result.set_custom_property("split_names", json.dumps(list(counts)))
        result.set_custom_property("split_rows", json.dumps(counts))
        print("predictions: " + ", ".join(f"{s} {n:,} rows" for s, n in counts.items()))
        result.set_custom_property("summary", "predictions: " + ", ".join(f"{s} {n:,}" for s, n in counts.items()))


def check_model_spec(owner: str, spec: dict[str, Any] | None) -> dict[str, Any] | None:
    """One signature: TFX's multi-head inference (several signatures at once) is not here."""
    names = (spec or {}).get("model_signature_name") or []
    if len(names) > 1:
        raise DefinitionError(
            f"{owner}: model_spec model_signature_name {names} asks for multi-head inference over several "
            "signatures, which BulkInferrer does not do; give one signature (one BulkInferrer per signature)."
        )
    if any(not n for n in names):
        raise DefinitionError(f"{owner}: model_spec model_signature_name {names} has an empty name.")
    return spec


def check_data_spec(owner: str, spec: dict[str, Any] | None) -> dict[str, Any] | None:
    """Split names, each once (whether the examples have them is checked when they exist)."""
    splits = (spec or {}).get("example_splits") or []
    if any(not s for s in splits) or len(set(splits)) != len(splits):
        raise DefinitionError(
            f"{owner}: data_spec example_splits {splits} must be distinct, non-empty split names, e.g. ['eval']."
        )
    return spec


def check_output_example_spec(owner: str, spec: dict[str, Any] | None, signatures: list[str]) -> dict[str, Any] | None:
    """One output_columns_spec, for the signature run, with an output type and distinct column names."""
    if spec is None:
        return None
    where = f"{owner}: output_example_spec"
    columns = spec.get("output_columns_spec") or []
    if len(columns) != 1:
        raise DefinitionError(
            f"{where} needs exactly one output_columns_spec (for the one signature BulkInferrer runs), got "
            f"{len(columns)}; e.g. OutputExampleSpec(output_columns_spec=[OutputColumnsSpec(predict_output="
            "PredictOutput(output_columns=[PredictOutputCol(output_key='y', output_column='y_pred')]))])."
        )
    [column] = columns
    run = signatures[0] if signatures else "serving_default"
    named = column.get("signature_name")
    if named and named != run:
        raise DefinitionError(
            f"{where} is for signature '{named}', but the model_spec runs '{run}'; set "
            f"model_spec model_signature_name=['{named}'] or drop signature_name."
        )
    kinds = [k for k in ("classify_output", "regress_output", "predict_output") if k in column]
    if not kinds:
        raise DefinitionError(
            f"{where}: the output_columns_spec needs classify_output, regress_output or predict_output."
        )
    if "predict_output" in column:
        pairs = column["predict_output"].get("output_columns") or []
        if not pairs or any(not p.get("output_key") or not p.get("output_column") for p in pairs):
            raise DefinitionError(
                f"{where}: predict_output needs output_columns, each with an output_key and an output_column; "
                f"got {pairs}."
            )
    names = list((output_columns(spec) or {}).values())
    if not names:
        raise DefinitionError(f"{where}: {kinds[0]} names no output column; set its column name(s).")
    if len(set(names)) != len(names):
        raise DefinitionError(f"{where}: output column names {names} must be distinct.")
    return spec


class BulkInferrer(BaseComponent):
    """Runs a model's serving signature over examples, one prediction per row.

    Args:
        examples: A channel of Examples.
        model: A channel of Model (a SavedModel, in `Format-Serving/` as the Trainer writes it).
        model_blessing: If given, inference runs only for a blessed model (else it records why not).
        data_spec: TFX's `bulk_inferrer_pb2.DataSpec` (or dict): `example_splits` to predict
            (default: every split).
        model_spec: TFX's `bulk_inferrer_pb2.ModelSpec` (or dict; not TFMA's ModelSpec):
            `model_signature_name` (one; default serving_default) and `tag` (default: serve).
        output_example_spec: TFX's `OutputExampleSpec` (or dict): one `output_columns_spec` naming
            the prediction columns (see the module docstring; written to `inference_result`).
        execution_path: 'auto' (the default), 'in_process' or 'beam', as StatisticsGen's: 'auto'
            uses Beam for splits over HEADRACE_BEAM_THRESHOLD_BYTES (8 GiB) or when the
            pipeline's beam_pipeline_args name a runner other than DirectRunner. Both paths write
            the same rows and columns; the Beam path's row order is the runner's, not the input's.
    """

    SPEC_CLASS = BulkInferrerSpec
    # a Beam executor, as TFX's: `.with_beam_pipeline_args([...])` gives this node Beam arguments of its own
    EXECUTOR_SPEC = BeamExecutorSpec(Executor, worker_group=_common.TFDV_GROUP)

    def __init__(
        self,
        examples: Channel,
        model: Channel,
        model_blessing: Channel | None = None,
        data_spec: Any = None,
        model_spec: Any = None,
        output_example_spec: Any = None,
        execution_path: str = "auto",
    ):
        owner = type(self).__name__
        models = check_model_spec(owner, proto.config_dict(owner, "model_spec", model_spec, proto.ModelSpec))
        data = check_data_spec(owner, proto.config_dict(owner, "data_spec", data_spec, proto.DataSpec))
        outputs = check_output_example_spec(
            owner,
            proto.config_dict(owner, "output_example_spec", output_example_spec, proto.OutputExampleSpec),
            (models or {}).get("model_signature_name") or [],
        )
        super().__init__(
            spec=BulkInferrerSpec(
                examples=examples,
                model=model,
                model_blessing=model_blessing,
                data_spec=data,
                model_spec=models,
                output_example_spec=outputs,
                execution_path=check_path(owner, execution_path),
            )
        )


__all__ = ["BulkInferrer", "output_columns"]
