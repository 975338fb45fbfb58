"""TFX's config protos of the data components, as real protobuf messages built at import (no protoc).

`Input`, `Output`, `SplitConfig`, `CustomConfig` and the `PayloadFormat` / `FileFormat` enums are
TFX's `tfx/proto/example_gen.proto` (package `tfx.components.example_gen`); `RangeConfig`,
`StaticRange` and `RollingRange` are `tfx/proto/range_config.proto` (package `tfx.configs`);
`TrainArgs` and `EvalArgs` are `tfx/proto/trainer.proto` (package `tfx.components.trainer`);
`PushDestination` (with `PushDestination.Filesystem`) and the `Versioning` enum are
`tfx/proto/pusher.proto` (package `tfx.components.pusher`); `FeatureSlicingSpec` and
`SingleSlicingSpec` are `tfx/proto/evaluator.proto` (package `tfx.components.evaluator`);
`ServingSpec`, `ValidationSpec`, `RequestSpec` and their parts (`TensorFlowServing`,
`LocalDockerConfig`, `KubernetesConfig`, `PodOverrides`, `EnvVar`, `EnvVarSource`,
`SecretKeySelector`, `Resources`, `TensorFlowServingRequestSpec`) are
`tfx/proto/infra_validator.proto` (package `tfx.components.infra_validator`); `ModelSpec`,
`DataSpec`, `OutputExampleSpec`, `OutputColumnsSpec`, `ClassifyOutput`, `RegressOutput`,
`PredictOutput` and `PredictOutputCol` are `tfx/proto/bulk_inferrer.proto` (package
`tfx.components.bulkinferrer`; its `ModelSpec` is not TFMA's `tensorflow_model_analysis.ModelSpec`). Full
names, field numbers and types are TFX's, so binary encoding, JSON and text format are the same as
TFX's messages, and TFX's code builds them unchanged::

    from headrace.components import proto
    output = proto.Output(split_config=proto.SplitConfig(splits=[
        proto.SplitConfig.Split(name='train', hash_buckets=3),
        proto.SplitConfig.Split(name='eval', hash_buckets=1)]))

The files live in a private descriptor pool (:data:`DESCRIPTOR_POOL`), so a real `tfx` in the same
process never clashes with them; a TFX message and a headrace one are different classes (convert
through bytes or JSON). Pass `descriptor_pool=DESCRIPTOR_POOL` to `json_format` only to expand a
`google.protobuf.Any` that holds one of these messages. Messages pickle (pickle and cloudpickle).
Importing this module imports google.protobuf and nothing else heavy.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from google.protobuf import any_pb2, descriptor_pool

from headrace.components.proto.builder import MAX, Enum, Field, Message, build

DESCRIPTOR_POOL = descriptor_pool.DescriptorPool()
"""The private pool holding these files (and google/protobuf/any.proto, which CustomConfig uses)."""
DESCRIPTOR_POOL.AddSerializedFile(any_pb2.DESCRIPTOR.serialized_pb)

# -- tfx/proto/example_gen.proto ------------------------------------------------------------------
FORMAT_UNSPECIFIED = 0
FORMAT_TF_EXAMPLE = 6
FORMAT_TF_SEQUENCE_EXAMPLE = 7
FORMAT_PROTO = 11
FORMAT_PARQUET = 15
FILE_FORMAT_UNSPECIFIED = 0
FORMAT_TFRECORDS_GZIP = 5
FILE_FORMAT_PARQUET = 16

_SPLIT_NAME = Field("name", 1, "string")
_example_gen = build(
    DESCRIPTOR_POOL,
    "tfx/proto/example_gen.proto",
    "tfx.components.example_gen",
    [
        Message(
            "Input",
            [Field("splits", 1, "Split", repeated=True)],
            nested=[Message("Split", [_SPLIT_NAME, Field("pattern", 2, "string")])],
        ),
        Message("CustomConfig", [Field("custom_config", 1, ".google.protobuf.Any")]),
        Enum(
            "PayloadFormat",
            [
                ("FORMAT_UNSPECIFIED", FORMAT_UNSPECIFIED),
                ("FORMAT_TF_EXAMPLE", FORMAT_TF_EXAMPLE),
                ("FORMAT_TF_SEQUENCE_EXAMPLE", FORMAT_TF_SEQUENCE_EXAMPLE),
                ("FORMAT_PROTO", FORMAT_PROTO),
                ("FORMAT_PARQUET", FORMAT_PARQUET),
            ],
            reserved=[(1, 5), (8, 10), (12, 14), (16, MAX)],
        ),
        Enum(
            "FileFormat",
            [
                ("FILE_FORMAT_UNSPECIFIED", FILE_FORMAT_UNSPECIFIED),
                ("FORMAT_TFRECORDS_GZIP", FORMAT_TFRECORDS_GZIP),
                ("FILE_FORMAT_PARQUET", FILE_FORMAT_PARQUET),
            ],
            reserved=[(1, 4), 6, (7, 15), (17, MAX)],
        ),
        Message("Output", [Field("split_config", 3, "SplitConfig")], reserved=[1, 2, 4]),
        Message(
            "SplitConfig",
            [
                Field("splits", 1, "Split", repeated=True),
                Field("partition_feature_name", 2, "string", oneof="splitting_method_config"),
            ],
            nested=[Message("Split", [_SPLIT_NAME, Field("hash_buckets", 2, "uint32")], reserved=[3])],
        ),
    ],
    dependencies=["google/protobuf/any.proto"],
    module=__name__,
)
EXAMPLE_GEN_DESCRIPTOR = _example_gen.descriptor
"""The FileDescriptor of tfx/proto/example_gen.proto (TFX's `example_gen_pb2.DESCRIPTOR`)."""
PayloadFormat = _example_gen.enums["PayloadFormat"]
FileFormat = _example_gen.enums["FileFormat"]

# -- tfx/proto/range_config.proto -----------------------------------------------------------------
_range_config = build(
    DESCRIPTOR_POOL,
    "tfx/proto/range_config.proto",
    "tfx.configs",
    [
        Message("StaticRange", [Field("start_span_number", 1, "int32"), Field("end_span_number", 2, "int32")]),
        Message(
            "RollingRange",
            [Field("start_span_number", 1, "int32"), Field("num_spans", 2, "int32")],
            reserved=[3],
        ),
        Message(
            "RangeConfig",
            [
                Field("static_range", 1, "StaticRange", oneof="range"),
                Field("rolling_range", 2, "RollingRange", oneof="range"),
            ],
            reserved=[3, 4, 5],
        ),
    ],
    module=__name__,
)
RANGE_CONFIG_DESCRIPTOR = _range_config.descriptor
"""The FileDescriptor of tfx/proto/range_config.proto (TFX's `range_config_pb2.DESCRIPTOR`)."""

# -- tfx/proto/trainer.proto ---------------------------------------------------------------------
_SPLITS = Field("splits", 1, "string", repeated=True)
_NUM_STEPS = Field("num_steps", 2, "int32")
_trainer = build(
    DESCRIPTOR_POOL,
    "tfx/proto/trainer.proto",
    "tfx.components.trainer",
    [
        Message("TrainArgs", [_SPLITS, _NUM_STEPS], reserved=[(3, 9)]),
        Message("EvalArgs", [_SPLITS, _NUM_STEPS], reserved=[3]),
    ],
    module=__name__,
)
TRAINER_DESCRIPTOR = _trainer.descriptor
"""The FileDescriptor of tfx/proto/trainer.proto (TFX's `trainer_pb2.DESCRIPTOR`)."""

# -- tfx/proto/pusher.proto ----------------------------------------------------------------------
AUTO = 0
UNIX_TIMESTAMP = 1
_pusher = build(
    DESCRIPTOR_POOL,
    "tfx/proto/pusher.proto",
    "tfx.components.pusher",
    [
        Message(
            "PushDestination",
            [Field("filesystem", 3, "Filesystem", oneof="destination")],
            nested=[
                Message(
                    "Filesystem",
                    [Field("base_directory", 1, "string"), Field("versioning", 6, "Versioning")],
                    reserved=[(2, 5), (7, 9)],
                )
            ],
            reserved=[1, 2, (4, 6)],
        ),
        Enum("Versioning", [("AUTO", AUTO), ("UNIX_TIMESTAMP", UNIX_TIMESTAMP)]),
    ],
    module=__name__,
)
PUSHER_DESCRIPTOR = _pusher.descriptor
"""The FileDescriptor of tfx/proto/pusher.proto (TFX's `pusher_pb2.DESCRIPTOR`)."""
Versioning = _pusher.enums["Versioning"]

# -- tfx/proto/evaluator.proto -------------------------------------------------------------------
_evaluator = build(
    DESCRIPTOR_POOL,
    "tfx/proto/evaluator.proto",
    "tfx.components.evaluator",
    [
        Message("SingleSlicingSpec", [Field("column_for_slicing", 1, "string", repeated=True)], reserved=[2]),
        Message("FeatureSlicingSpec", [Field("specs", 1, "SingleSlicingSpec", repeated=True)], reserved=[2]),
    ],
    module=__name__,
)
EVALUATOR_DESCRIPTOR = _evaluator.descriptor
"""The FileDescriptor of tfx/proto/evaluator.proto (TFX's `evaluator_pb2.DESCRIPTOR`)."""

# -- tfx/proto/infra_validator.proto -------------------------------------------------------------
_STRING_MAP = "map<string, string>"
_infra_validator = build(
    DESCRIPTOR_POOL,
    "tfx/proto/infra_validator.proto",
    "tfx.components.infra_validator",
    [
        Message(
            "ServingSpec",
            [
                Field("tensorflow_serving", 1, "TensorFlowServing", oneof="serving_binary"),
                Field("local_docker", 2, "LocalDockerConfig", oneof="serving_platform"),
                Field("kubernetes", 3, "KubernetesConfig", oneof="serving_platform"),
                Field("model_name", 4, "string"),
            ],
        ),
        Message(
            "TensorFlowServing",
            [
                Field("image_name", 3, "string"),
                Field("tags", 1, "string", repeated=True),
                Field("digests", 2, "string", repeated=True),
            ],
        ),
        Message(
            "LocalDockerConfig",
            [
                Field("client_base_url", 1, "string"),
                Field("client_api_version", 2, "string"),
                Field("client_timeout_seconds", 3, "int32"),
                Field("host_ip_address", 4, "string"),
            ],
        ),
        Message(
            "KubernetesConfig",
            [
                Field("service_account_name", 1, "string"),
                Field("active_deadline_seconds", 2, "int32"),
                Field("serving_pod_overrides", 3, "PodOverrides"),
            ],
        ),
        Message(
            "PodOverrides",
            [
                Field("annotations", 1, _STRING_MAP),
                Field("env", 2, "EnvVar", repeated=True),
                Field("resources", 3, "Resources"),
            ],
        ),
        Message(
            "EnvVar",
            [Field("name", 1, "string"), Field("value", 2, "string"), Field("value_from", 3, "EnvVarSource")],
        ),
        Message("EnvVarSource", [Field("secret_key_ref", 4, "SecretKeySelector")], reserved=[1, 2, 3]),
        Message("SecretKeySelector", [Field("name", 1, "string"), Field("key", 2, "string")]),
        Message(
            "Resources",
            [Field("requests", 1, _STRING_MAP), Field("limits", 2, _STRING_MAP), Field("claims", 3, _STRING_MAP)],
        ),
        Message("ValidationSpec", [Field("max_loading_time_seconds", 1, "int32"), Field("num_tries", 2, "int32")]),
        Message(
            "RequestSpec",
            [
                Field("tensorflow_serving", 1, "TensorFlowServingRequestSpec", oneof="kind"),
                Field("split_name", 2, "string"),
                Field("num_examples", 3, "int32"),
                Field("make_warmup", 4, "bool"),
            ],
        ),
        Message(
            "TensorFlowServingRequestSpec",
            [Field("tag_set", 1, "string", repeated=True), Field("signature_names", 2, "string", repeated=True)],
        ),
    ],
    module=__name__,
)
INFRA_VALIDATOR_DESCRIPTOR = _infra_validator.descriptor
"""The FileDescriptor of tfx/proto/infra_validator.proto (TFX's `infra_validator_pb2.DESCRIPTOR`)."""

# -- tfx/proto/bulk_inferrer.proto ---------------------------------------------------------------
_bulk_inferrer = build(
    DESCRIPTOR_POOL,
    "tfx/proto/bulk_inferrer.proto",
    "tfx.components.bulkinferrer",
    [
        Message(
            "ModelSpec",
            [Field("model_signature_name", 2, "string", repeated=True), Field("tag", 5, "string", repeated=True)],
            reserved=[1, 3, 4, 6],
        ),
        Message("DataSpec", [Field("example_splits", 2, "string", repeated=True)], reserved=[1, 3, 4]),
        Message(
            "OutputExampleSpec",
            [Field("output_columns_spec", 3, "OutputColumnsSpec", repeated=True)],
            reserved=[1, 2, 4],
        ),
        Message(
            "OutputColumnsSpec",
            [
                Field("signature_name", 1, "string"),
                Field("classify_output", 2, "ClassifyOutput", oneof="output_type"),
                Field("regress_output", 3, "RegressOutput", oneof="output_type"),
                Field("predict_output", 4, "PredictOutput", oneof="output_type"),
            ],
        ),
        Message("ClassifyOutput", [Field("label_column", 1, "string"), Field("score_column", 2, "string")]),
        Message("RegressOutput", [Field("value_column", 1, "string")]),
        Message("PredictOutput", [Field("output_columns", 1, "PredictOutputCol", repeated=True)]),
        Message("PredictOutputCol", [Field("output_key", 1, "string"), Field("output_column", 2, "string")]),
    ],
    module=__name__,
)
BULK_INFERRER_DESCRIPTOR = _bulk_inferrer.descriptor
"""The FileDescriptor of tfx/proto/bulk_inferrer.proto (TFX's `bulk_inferrer_pb2.DESCRIPTOR`)."""

if TYPE_CHECKING:
    # What type checkers see (google.protobuf is untyped here): each name is a message class.
    from google.protobuf.message import Message as _Message

    class Input(_Message):
        class Split(_Message): ...

    class CustomConfig(_Message): ...

    class Output(_Message): ...

    class SplitConfig(_Message):
        class Split(_Message): ...

    class StaticRange(_Message): ...

    class RollingRange(_Message): ...

    class RangeConfig(_Message): ...

    class TrainArgs(_Message): ...

    class EvalArgs(_Message): ...

    class PushDestination(_Message):
        class Filesystem(_Message): ...

    class SingleSlicingSpec(_Message): ...

    class FeatureSlicingSpec(_Message): ...

    class ServingSpec(_Message): ...

    class TensorFlowServing(_Message): ...

    class LocalDockerConfig(_Message): ...

    class KubernetesConfig(_Message): ...

    class PodOverrides(_Message): ...

    class EnvVar(_Message): ...

    class EnvVarSource(_Message): ...

    class SecretKeySelector(_Message): ...

    class Resources(_Message): ...

    class ValidationSpec(_Message): ...

    class RequestSpec(_Message): ...

    class TensorFlowServingRequestSpec(_Message): ...

    class ModelSpec(_Message): ...

    class DataSpec(_Message): ...

    class OutputExampleSpec(_Message): ...

    class OutputColumnsSpec(_Message): ...

    class ClassifyOutput(_Message): ...

    class RegressOutput(_Message): ...

    class PredictOutput(_Message): ...

    class PredictOutputCol(_Message): ...

else:
    Input = _example_gen.messages["Input"]
    CustomConfig = _example_gen.messages["CustomConfig"]
    Output = _example_gen.messages["Output"]
    SplitConfig = _example_gen.messages["SplitConfig"]
    StaticRange = _range_config.messages["StaticRange"]
    RollingRange = _range_config.messages["RollingRange"]
    RangeConfig = _range_config.messages["RangeConfig"]
    TrainArgs = _trainer.messages["TrainArgs"]
    EvalArgs = _trainer.messages["EvalArgs"]
    PushDestination = _pusher.messages["PushDestination"]
    SingleSlicingSpec = _evaluator.messages["SingleSlicingSpec"]
    FeatureSlicingSpec = _evaluator.messages["FeatureSlicingSpec"]
    ServingSpec = _infra_validator.messages["ServingSpec"]
    TensorFlowServing = _infra_validator.messages["TensorFlowServing"]
    LocalDockerConfig = _infra_validator.messages["LocalDockerConfig"]
    KubernetesConfig = _infra_validator.messages["KubernetesConfig"]
    PodOverrides = _infra_validator.messages["PodOverrides"]
    EnvVar = _infra_validator.messages["EnvVar"]
    EnvVarSource = _infra_validator.messages["EnvVarSource"]
    SecretKeySelector = _infra_validator.messages["SecretKeySelector"]
    Resources = _infra_validator.messages["Resources"]
    ValidationSpec = _infra_validator.messages["ValidationSpec"]
    RequestSpec = _infra_validator.messages["RequestSpec"]
    TensorFlowServingRequestSpec = _infra_validator.messages["TensorFlowServingRequestSpec"]
    ModelSpec = _bulk_inferrer.messages["ModelSpec"]
    DataSpec = _bulk_inferrer.messages["DataSpec"]
    OutputExampleSpec = _bulk_inferrer.messages["OutputExampleSpec"]
    OutputColumnsSpec = _bulk_inferrer.messages["OutputColumnsSpec"]
    ClassifyOutput = _bulk_inferrer.messages["ClassifyOutput"]
    RegressOutput = _bulk_inferrer.messages["RegressOutput"]
    PredictOutput = _bulk_inferrer.messages["PredictOutput"]
    PredictOutputCol = _bulk_inferrer.messages["PredictOutputCol"]

Input.__doc__ = "ExampleGen's input: named splits, each a glob `pattern` relative to input_base."
CustomConfig.__doc__ = "Extra configuration of a custom ExampleGen, packed in a google.protobuf.Any."
Output.__doc__ = "ExampleGen's output: how to split the examples (`split_config`)."
SplitConfig.__doc__ = "Output splits by hash buckets, optionally hashing one feature (`partition_feature_name`)."
StaticRange.__doc__ = "The spans [start_span_number, end_span_number] (ExampleGen takes one span: start == end)."
RollingRange.__doc__ = "The latest `num_spans` spans, none before `start_span_number`."
RangeConfig.__doc__ = "Which spans to process: a `static_range` or a `rolling_range`."
TrainArgs.__doc__ = "Trainer's training: the `splits` to train on (default ['train']) and `num_steps`."
EvalArgs.__doc__ = "Trainer's evaluation: the `splits` to evaluate on (default ['eval']) and `num_steps`."
PushDestination.__doc__ = "Where Pusher copies a blessed model: a `filesystem` base_directory (and `versioning`)."
SingleSlicingSpec.__doc__ = "One slicing directive: the columns to slice on (none: the whole data set)."
FeatureSlicingSpec.__doc__ = "TFX's deprecated Evaluator slicing: a list of SingleSlicingSpec."
ServingSpec.__doc__ = (
    "InfraValidator's serving binary (`tensorflow_serving`) and platform (`local_docker`, `kubernetes`)."
)
TensorFlowServing.__doc__ = "TF Serving's docker image: `image_name` and its `tags` / `digests`."
LocalDockerConfig.__doc__ = "TF Serving in the local Docker engine (client URL, API version, timeout, host IP)."
KubernetesConfig.__doc__ = "TF Serving in a Kubernetes pod (service account, deadline, pod overrides)."
PodOverrides.__doc__ = "Annotations, environment variables and resources of the serving pod."
EnvVar.__doc__ = "An environment variable of the serving container: a `value` or a `value_from` source."
EnvVarSource.__doc__ = "Where an EnvVar's value comes from: a `secret_key_ref`."
SecretKeySelector.__doc__ = "A key of a Kubernetes Secret."
Resources.__doc__ = "The serving pod's resource requests, limits and claims."
ValidationSpec.__doc__ = "InfraValidator's limits: `max_loading_time_seconds` and `num_tries`."
RequestSpec.__doc__ = "InfraValidator's requests: `tensorflow_serving` signatures, `split_name`, `num_examples`."
TensorFlowServingRequestSpec.__doc__ = "The SavedModel `tag_set` and the `signature_names` to send requests to."
ModelSpec.__doc__ = "BulkInferrer's model: the `model_signature_name`(s) to run and the SavedModel `tag`s."
DataSpec.__doc__ = "BulkInferrer's data: the `example_splits` to run on (empty: every split)."
OutputExampleSpec.__doc__ = "BulkInferrer's output as examples: how each signature's outputs map to columns."
OutputColumnsSpec.__doc__ = "One signature's output columns: a classify, regress or predict output."
ClassifyOutput.__doc__ = "Column names of a classification's labels and scores."
RegressOutput.__doc__ = "Column name of a regression's value."
PredictOutput.__doc__ = "Column names of a predict signature's outputs."
PredictOutputCol.__doc__ = "A predict signature's output key and its column name."


_UNKNOWN_FIELD = re.compile(r'Message type "([\w.]+)" has no field named "(\w+)" at "([\w.\[\]]+)"')


def config_dict(owner: str, name: str, value: Any, message: type) -> dict[str, Any] | None:
    """A component's config parameter as its proto-JSON dict (field names as in the .proto), checked
    against `message` (one of this module's classes) at definition time.

    `value` is None (returned as is), a `message` (headrace's class, or another class of the same full
    name, e.g. a real TFX's `infra_validator_pb2.ServingSpec`: converted through bytes), or a dict of its
    fields (.proto or JSON names). Anything else, a different message (TFMA's `ModelSpec` for
    BulkInferrer's `tfx.components.bulkinferrer.ModelSpec`), an unknown field or a wrong value type is a
    DefinitionError naming `owner`, the parameter and the fix.
    """
    from google.protobuf import json_format

    from headrace.errors import DefinitionError, did_you_mean

    if value is None:
        return None
    full = message.DESCRIPTOR.full_name  # type: ignore[attr-defined]
    short = full.rsplit(".", 1)[-1]
    hint = f"pass tfx.v1.proto.{short}(...) (headrace.components.proto.{short}), its dict, or None"
    descriptor = getattr(value, "DESCRIPTOR", None)
    if descriptor is not None and hasattr(value, "SerializeToString"):
        if descriptor.full_name != full:
            raise DefinitionError(
                f"{owner}: {name} must be a {full}, got a {descriptor.full_name}"
                + (" (same short name, another proto)" if descriptor.name == short else "")
                + f"; {hint}."
            )
        parsed = value if isinstance(value, message) else message.FromString(value.SerializeToString())  # type: ignore[attr-defined]
    elif isinstance(value, dict):
        try:
            parsed = json_format.ParseDict(value, message())
        except json_format.ParseError as e:
            unknown = _UNKNOWN_FIELD.search(str(e))
            if unknown is None:
                raise DefinitionError(f"{owner}: {name} is not a valid {full}: {e} ({hint}).") from None
            owner_type, field, where = unknown.groups()
            fields = [f.name for f in DESCRIPTOR_POOL.FindMessageTypeByName(owner_type).fields]
            raise DefinitionError(
                f"{owner}: {name} has no field '{field}' (at {where}; {owner_type} has {', '.join(fields)})."
                f"{did_you_mean(field, fields)}"
            ) from None
    else:
        raise DefinitionError(f"{owner}: {name} must be a {full} message; got {type(value).__name__}: {hint}.")
    result: dict[str, Any] = json_format.MessageToDict(parsed, preserving_proto_field_name=True)
    return result


__all__ = [
    "AUTO",
    "BULK_INFERRER_DESCRIPTOR",
    "DESCRIPTOR_POOL",
    "EVALUATOR_DESCRIPTOR",
    "EXAMPLE_GEN_DESCRIPTOR",
    "FILE_FORMAT_PARQUET",
    "FILE_FORMAT_UNSPECIFIED",
    "FORMAT_PARQUET",
    "FORMAT_PROTO",
    "FORMAT_TFRECORDS_GZIP",
    "FORMAT_TF_EXAMPLE",
    "FORMAT_TF_SEQUENCE_EXAMPLE",
    "FORMAT_UNSPECIFIED",
    "INFRA_VALIDATOR_DESCRIPTOR",
    "PUSHER_DESCRIPTOR",
    "RANGE_CONFIG_DESCRIPTOR",
    "TRAINER_DESCRIPTOR",
    "UNIX_TIMESTAMP",
    "ClassifyOutput",
    "CustomConfig",
    "DataSpec",
    "EnvVar",
    "EnvVarSource",
    "EvalArgs",
    "FeatureSlicingSpec",
    "FileFormat",
    "Input",
    "KubernetesConfig",
    "LocalDockerConfig",
    "ModelSpec",
    "Output",
    "OutputColumnsSpec",
    "OutputExampleSpec",
    "PayloadFormat",
    "PodOverrides",
    "PredictOutput",
    "PredictOutputCol",
    "PushDestination",
    "RangeConfig",
    "RegressOutput",
    "RequestSpec",
    "Resources",
    "RollingRange",
    "SecretKeySelector",
    "ServingSpec",
    "SingleSlicingSpec",
    "SplitConfig",
    "StaticRange",
    "TensorFlowServing",
    "TensorFlowServingRequestSpec",
    "TrainArgs",
    "ValidationSpec",
    "Versioning",
    "config_dict",
]
