"""The Evaluator's results in TFMA's on-disk layout, written without TFMA or TensorFlow.

TFX users read an Evaluator's output with `tfma.load_eval_result(uri)` (then
`tfma.view.render_slicing_metrics`) and `tfma.load_validation_result(uri)`. Those read, from the
artifact directory:

- `eval_config.json`: an `EvalRun` as JSON (eval_config, version, data_location, file_format,
  model_locations), what `tensorflow_model_analysis/writers/eval_config_writer.py` writes;
- `metrics-00000-of-00001.tfrecord`: one serialized `MetricsForSlice` per slice, with
  `metric_keys_and_values` (the slice key as `slicer.serialize_slice_key` writes it);
- `plots-00000-of-00001.tfrecord`: `PlotsForSlice` records (none: headrace computes no plots);
- `validations-00000-of-00001.tfrecord`: one `ValidationResult`.

The messages are built here from TFMA 0.47.1's field numbers (`tensorflow_model_analysis/proto/
metrics_for_slice.proto` and `validation_result.proto`), only the fields headrace fills, in a private
pool under TFMA's full names, so their bytes parse with TFMA's own classes. Importing this module
imports google.protobuf and nothing else heavy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from google.protobuf import descriptor_pool, wrappers_pb2

from headrace.components.io.tfrecord import write_records
from headrace.components.proto.builder import Field, Message, build

TFMA_FORMAT_VERSION = "0.47.1"
"""The TFMA version whose layout these files follow (EvalRun.version; TFMA only checks it is set)."""
EVAL_CONFIG_FILE = "eval_config.json"
SHARD = "-00000-of-00001.tfrecord"
METRICS_FILE, PLOTS_FILE, VALIDATIONS_FILE = (f"{k}{SHARD}" for k in ("metrics", "plots", "validations"))
CANDIDATE, BASELINE = "candidate", "baseline"  # TFX's model names when a baseline is evaluated too

_POOL = descriptor_pool.DescriptorPool()
_POOL.AddSerializedFile(wrappers_pb2.DESCRIPTOR.serialized_pb)
_PACKAGE = "tensorflow_model_analysis"
_SLICE_KEY = Field("slice_key", 1, "SliceKey", oneof="slicing_spec_oneof")

_metrics = build(
    _POOL,
    "tensorflow_model_analysis/proto/metrics_for_slice.proto",
    _PACKAGE,
    [
        Message(
            "SingleSliceKey",
            [
                Field("column", 1, "string"),
                Field("bytes_value", 2, "bytes", oneof="kind"),
                Field("float_value", 3, "float", oneof="kind"),
                Field("int64_value", 4, "int64", oneof="kind"),
            ],
        ),
        Message("SliceKey", [Field("single_slice_keys", 1, "SingleSliceKey", repeated=True)]),
        Message("SubKey", [Field("class_id", 1, ".google.protobuf.Int32Value")]),
        Message(
            "MetricKey",
            [
                Field("name", 1, "string"),
                Field("output_name", 2, "string"),
                Field("sub_key", 3, "SubKey"),
                Field("model_name", 4, "string"),
                Field("is_diff", 5, "bool"),
            ],
        ),
        Message(
            "MetricValue",
            [
                Field("double_value", 1, ".google.protobuf.DoubleValue", oneof="type"),
                Field("debug_message", 10, "string", oneof="type"),
            ],
        ),
        Message(
            "MetricsForSlice",
            [_SLICE_KEY, Field("metric_keys_and_values", 51, "MetricKeyAndValue", repeated=True)],
            nested=[Message("MetricKeyAndValue", [Field("key", 1, "MetricKey"), Field("value", 2, "MetricValue")])],
        ),
    ],
    dependencies=["google/protobuf/wrappers.proto"],
)
_validation = build(
    _POOL,
    "tensorflow_model_analysis/proto/validation_result.proto",
    _PACKAGE,
    [
        Message(
            "ValidationFailure",
            [
                Field("metric_key", 1, "MetricKey"),
                Field("metric_value", 3, "MetricValue"),
                Field("message", 4, "string"),
            ],
        ),
        Message(
            "MetricsValidationForSlice",
            [
                Field("slice_key", 2, "SliceKey", oneof="slice_key_oneof"),
                Field("failures", 3, "ValidationFailure", repeated=True),
            ],
        ),
        Message(
            "ValidationResult",
            [
                Field("validation_ok", 1, "bool"),
                Field("metric_validations_per_slice", 2, "MetricsValidationForSlice", repeated=True),
            ],
        ),
    ],
    dependencies=["tensorflow_model_analysis/proto/metrics_for_slice.proto"],
)
MetricsForSlice = _metrics.messages["MetricsForSlice"]
SliceKey = _metrics.messages["SliceKey"]
MetricKey = _metrics.messages["MetricKey"]
MetricValue = _metrics.messages["MetricValue"]
ValidationResult = _validation.messages["ValidationResult"]

SliceKeyType = tuple[tuple[str, Any], ...]
"""A slice as TFMA keys it: ((column, value), ...); () is the overall slice."""


class Failure(NamedTuple):
    """One failed threshold: the slice, the metric, its value (or change), and the readable line."""

    slice_name: str
    metric: str
    value: float
    message: str
    is_diff: bool = False


def slice_key(key: SliceKeyType) -> Any:
    """A `SliceKey` as TFMA's `slicer.serialize_slice_key` makes it (str/bytes, int or float values)."""
    result = SliceKey()
    for column, value in key:
        single = result.single_slice_keys.add(column=column)
        if isinstance(value, str | bytes):
            single.bytes_value = value.encode() if isinstance(value, str) else value
        elif isinstance(value, int):
            single.int64_value = value
        elif isinstance(value, float):
            single.float_value = value
        else:
            raise TypeError(f"slice {column}: a {type(value).__name__} value ({value!r}) has no TFMA slice key.")
    return result


def metric_key(name: str, model_name: str = "", is_diff: bool = False) -> Any:
    """A `MetricKey`; headrace's per-class names ('precision/class_2') become TFMA's class_id sub key."""
    base, _, suffix = name.partition("/class_")
    key = MetricKey(name=base if suffix.isdigit() else name, model_name=model_name, is_diff=is_diff)
    if suffix.isdigit():
        key.sub_key.class_id.value = int(suffix)
    return key


def _value(value: Any) -> Any:
    result = MetricValue()
    if isinstance(value, bool | int | float):
        # Set through the field: the private pool's DoubleValue is not wrappers_pb2's class.
        result.double_value.value = float(value)
    else:
        result.debug_message = str(value)
    return result


def _row(message: Any, row: Mapping[str, Any], model_name: str, base: Mapping[str, Any] | None = None) -> None:
    for name, value in row.items():
        message.metric_keys_and_values.add(key=metric_key(name, model_name), value=_value(value))
    for name, value in (base or {}).items():
        if name in row and isinstance(value, int | float) and isinstance(row[name], int | float):
            diff = float(row[name]) - float(value)
            message.metric_keys_and_values.add(key=metric_key(name, model_name, is_diff=True), value=_value(diff))


def _tfma_slices(keys: Mapping[str, SliceKeyType]) -> dict[str, SliceKeyType]:
    # Neither TFMA nor headrace makes a slice of rows that lack the feature; a guard for old results.
    return {name: key for name, key in keys.items() if all(v is not None for _, v in key)}


def metrics_records(
    current: Mapping[str, Mapping[str, Any]],
    baseline: Mapping[str, Mapping[str, Any]] | None,
    keys: Mapping[str, SliceKeyType],
) -> list[bytes]:
    """Serialized `MetricsForSlice`s: one per slice, the baseline's metrics and the diffs beside the
    candidate's (model names 'candidate' / 'baseline', as TFX's Evaluator names them) when there is one."""
    records = []
    for name, key in _tfma_slices(keys).items():
        message = MetricsForSlice(slice_key=slice_key(key))
        if baseline is None:
            _row(message, current[name], "")
        else:
            _row(message, current[name], CANDIDATE, baseline.get(name))
            _row(message, baseline.get(name, {}), BASELINE)
        records.append(message.SerializeToString())
    return records


def validation_record(failures: Sequence[Failure], keys: Mapping[str, SliceKeyType], with_baseline: bool) -> bytes:
    """A serialized `ValidationResult`: validation_ok and the failures grouped by slice."""
    result = ValidationResult(validation_ok=not failures)
    per_slice: dict[str, Any] = {}
    for failure in failures:
        if failure.slice_name not in per_slice:
            per_slice[failure.slice_name] = result.metric_validations_per_slice.add(
                slice_key=slice_key(_tfma_slices(keys).get(failure.slice_name, ()))
            )
        per_slice[failure.slice_name].failures.add(
            metric_key=metric_key(failure.metric, CANDIDATE if with_baseline else "", failure.is_diff),
            metric_value=_value(failure.value),
            message=failure.message,
        )
    return bytes(result.SerializeToString())


def _unwrap(value: Any) -> Any:
    """{"value": x} -> x: the wrappers (DoubleValue, BoolValue, ...) as proto JSON writes them; a dict
    config may spell them as messages (`{"lower_bound": {"value": 0.6}}`), which JSON parsing refuses."""
    if isinstance(value, dict):
        if set(value) == {"value"} and not isinstance(value["value"], dict | list):
            return value["value"]
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _json_eval_config(config: Mapping[str, Any], with_baseline: bool) -> dict[str, Any]:
    """The EvalConfig as TFMA's JSON parser takes it: metric `config`s as JSON strings, and with a
    baseline the 'candidate' and 'baseline' model specs TFX's Evaluator evaluates."""
    out = _unwrap(json.loads(json.dumps(dict(config))))
    for spec in out.get("metrics_specs", []):
        for metric in spec.get("metrics", []):
            if isinstance(metric.get("config"), dict):
                metric["config"] = json.dumps(metric["config"])
    if with_baseline:
        spec = (out.get("model_specs") or [{}])[0]
        out["model_specs"] = [{**spec, "name": CANDIDATE}, {**spec, "name": BASELINE, "is_baseline": True}]
    return out


def write(
    uri: str,
    config: Mapping[str, Any],
    current: Mapping[str, Mapping[str, Any]],
    baseline: Mapping[str, Mapping[str, Any]] | None,
    keys: Mapping[str, SliceKeyType],
    failures: Sequence[Failure],
    data_location: str,
    file_format: str,
    model_locations: Mapping[str, str],
) -> list[str]:
    """Writes TFMA's files into the ModelEvaluation directory `uri`; returns their names."""
    run = {
        "evalConfig": _json_eval_config(config, baseline is not None),
        "version": TFMA_FORMAT_VERSION,
        "dataLocation": data_location,
        "fileFormat": file_format,
        "modelLocations": dict(model_locations),
    }
    with open(os.path.join(uri, EVAL_CONFIG_FILE), "w") as f:
        json.dump(run, f, indent=1, default=str)
    write_records(os.path.join(uri, METRICS_FILE), metrics_records(current, baseline, keys))
    write_records(os.path.join(uri, PLOTS_FILE), [])
    write_records(os.path.join(uri, VALIDATIONS_FILE), [validation_record(failures, keys, baseline is not None)])
    return [EVAL_CONFIG_FILE, METRICS_FILE, PLOTS_FILE, VALIDATIONS_FILE]


__all__ = ["EVAL_CONFIG_FILE", "METRICS_FILE", "PLOTS_FILE", "VALIDATIONS_FILE", "Failure", "write"]
