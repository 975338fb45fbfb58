"""TFX's config protos of the standard components, as real protobuf messages built at import (no protoc).

Seven of TFX's files, each declared once below with its package, names and field numbers:
`tfx/proto/example_gen.proto` (Input, Output, SplitConfig, CustomConfig, the PayloadFormat and
FileFormat enums), `range_config.proto`, `trainer.proto`, `pusher.proto`, `evaluator.proto`,
`infra_validator.proto` and `bulk_inferrer.proto` (its `ModelSpec` is not TFMA's). Every message and
enum of them is bound in this module under its name (`__all__` lists them), with its docstring. Full
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

from typing import Any

from google.protobuf import any_pb2, descriptor_pool

from headrace.components.proto.builder import MAX as _MAX
from headrace.components.proto.builder import Enum, Field, Message, build

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
            doc="ExampleGen's input: named splits, each a glob `pattern` relative to input_base.",
        ),
        Message(
            "CustomConfig",
            [Field("custom_config", 1, ".google.protobuf.Any")],
            doc="Extra configuration of a custom ExampleGen, packed in a google.protobuf.Any.",
        ),
        Enum(
            "PayloadFormat",
            [
                ("FORMAT_UNSPECIFIED", FORMAT_UNSPECIFIED),
                ("FORMAT_TF_EXAMPLE", FORMAT_TF_EXAMPLE),
                ("FORMAT_TF_SEQUENCE_EXAMPLE", FORMAT_TF_SEQUENCE_EXAMPLE),
                ("FORMAT_PROTO", FORMAT_PROTO),
                ("FORMAT_PARQUET", FORMAT_PARQUET),
            ],
            reserved=[(1, 5), (8, 10), (12, 14), (16, _MAX)],
        ),
        Enum(
            "FileFormat",
            [
                ("FILE_FORMAT_UNSPECIFIED", FILE_FORMAT_UNSPECIFIED),
                ("FORMAT_TFRECORDS_GZIP", FORMAT_TFRECORDS_GZIP),
                ("FILE_FORMAT_PARQUET", FILE_FORMAT_PARQUET),
            ],
            reserved=[(1, 4), 6, (7, 15), (17, _MAX)],
        ),
        Message(
            "Output",
            [Field("split_config", 3, "SplitConfig")],
            reserved=[1, 2, 4],
            doc="ExampleGen's output: how to split the examples (`split_config`).",
        ),
        Message(
            "SplitConfig",
            [
                Field("splits", 1, "Split", repeated=True),
                Field("partition_feature_name", 2, "string", oneof="splitting_method_config"),
            ],
            nested=[Message("Split", [_SPLIT_NAME, Field("hash_buckets", 2, "uint32")], reserved=[3])],
            doc="Output splits by hash buckets, optionally hashing one feature (`partition_feature_name`).",
        ),
    ],
    dependencies=["google/protobuf/any.proto"],
    module=__name__,
)
EXAMPLE_GEN_DESCRIPTOR = _example_gen.descriptor
"""The FileDescriptor of tfx/proto/example_gen.proto (TFX's `example_gen_pb2.DESCRIPTOR`)."""

# -- tfx/proto/range_config.proto -----------------------------------------------------------------
_range_config = build(
    DESCRIPTOR_POOL,
    "tfx/proto/range_config.proto",
    "tfx.configs",
    [
        Message(
            "StaticRange",
            [Field("start_span_number", 1, "int32"), Field("end_span_number", 2, "int32")],
            doc="The spans [start_span_number, end_span_number] (ExampleGen takes one span: start == end).",
        ),
        Message(
            "RollingRange",
            [Field("start_span_number", 1, "int32"), Field("num_spans", 2, "int32")],
            reserved=[3],
            doc="The latest `num_spans` spans, none before `start_span_number`.",
        ),
        Message(
            "RangeConfig",
            [
                Field("static_range", 1, "StaticRange", oneof="range"),
                Field("rolling_range", 2, "RollingRange", oneof="range"),
            ],
            reserved=[3, 4, 5],
            doc="Which spans to process: a `static_range` or a `rolling_range`.",
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
        Message(
            "TrainArgs",
            [_SPLITS, _NUM_STEPS],
            reserved=[(3, 9)],
            doc="Trainer's training: the `splits` to train on (default ['train']) and `num_steps`.",
        ),
        Message(
            "EvalArgs",
            [_SPLITS, _NUM_STEPS],
            reserved=[3],
            doc="Trainer's evaluation: the `splits` to evaluate on (default ['eval']) and `num_steps`.",
        ),
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
            doc="Where Pusher copies a blessed model: a `filesystem` base_directory (and `versioning`).",
        ),
        Enum("Versioning", [("AUTO", AUTO), ("UNIX_TIMESTAMP", UNIX_TIMESTAMP)]),
    ],
    module=__name__,
)
PUSHER_DESCRIPTOR = _pusher.descriptor
"""The FileDescriptor of tfx/proto/pusher.proto (TFX's `pusher_pb2.DESCRIPTOR`)."""

# -- tfx/proto/evaluator.proto -------------------------------------------------------------------
_evaluator = build(
    DESCRIPTOR_POOL,
    "tfx/proto/evaluator.proto",
    "tfx.components.evaluator",
    [
        Message(
            "SingleSlicingSpec",
            [Field("column_for_slicing", 1, "string", repeated=True)],
            reserved=[2],
            doc="One slicing directive: the columns to slice on (none: the whole data set).",
        ),
        Message(
            "FeatureSlicingSpec",
            [Field("specs", 1, "SingleSlicingSpec", repeated=True)],
            reserved=[2],
            doc="TFX's deprecated Evaluator slicing: a list of SingleSlicingSpec.",
        ),
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
            doc="InfraValidator's serving binary (`tensorflow_serving`) and platform (`local_docker`, `kubernetes`).",
        ),
        Message(
            "TensorFlowServing",
            [
                Field("image_name", 3, "string"),
                Field("tags", 1, "string", repeated=True),
                Field("digests", 2, "string", repeated=True),
            ],
            doc="TF Serving's docker image: `image_name` and its `tags` / `digests`.",
        ),
        Message(
            "LocalDockerConfig",
            [
                Field("client_base_url", 1, "string"),
                Field("client_api_version", 2, "string"),
                Field("client_timeout_seconds", 3, "int32"),
                Field("host_ip_address", 4, "string"),
            ],
            doc="TF Serving in the local Docker engine (client URL, API version, timeout, host IP).",
        ),
        Message(
            "KubernetesConfig",
            [
                Field("service_account_name", 1, "string"),
                Field("active_deadline_seconds", 2, "int32"),
                Field("serving_pod_overrides", 3, "PodOverrides"),
            ],
            doc="TF Serving in a Kubernetes pod (service account, deadline, pod overrides).",
        ),
        Message(
            "PodOverrides",
            [
                Field("annotations", 1, _STRING_MAP),
                Field("env", 2, "EnvVar", repeated=True),
                Field("resources", 3, "Resources"),
            ],
            doc="Annotations, environment variables and resources of the serving pod.",
        ),
        Message(
            "EnvVar",
            [Field("name", 1, "string"), Field("value", 2, "string"), Field("value_from", 3, "EnvVarSource")],
            doc="An environment variable of the serving container: a `value` or a `value_from` source.",
        ),
        Message(
            "EnvVarSource",
            [Field("secret_key_ref", 4, "SecretKeySelector")],
            reserved=[1, 2, 3],
            doc="Where an EnvVar's value comes from: a `secret_key_ref`.",
        ),
        Message(
            "SecretKeySelector",
            [Field("name", 1, "string"), Field("key", 2, "string")],
            doc="A key of a Kubernetes Secret.",
        ),
        Message(
            "Resources",
            [Field("requests", 1, _STRING_MAP), Field("limits", 2, _STRING_MAP), Field("claims", 3, _STRING_MAP)],
            doc="The serving pod's resource requests, limits and claims.",
        ),
        Message(
            "ValidationSpec",
            [Field("max_loading_time_seconds", 1, "int32"), Field("num_tries", 2, "int32")],
            doc="InfraValidator's limits: `max_loading_time_seconds` and `num_tries`.",
        ),
        Message(
            "RequestSpec",
            [
                Field("tensorflow_serving", 1, "TensorFlowServingRequestSpec", oneof="kind"),
                Field("split_name", 2, "string"),
                Field("num_examples", 3, "int32"),
                Field("make_warmup", 4, "bool"),
            ],
            doc="InfraValidator's requests: `tensorflow_serving` signatures, `split_name`, `num_examples`.",
        ),
        Message(
            "TensorFlowServingRequestSpec",
            [Field("tag_set", 1, "string", repeated=True), Field("signature_names", 2, "string", repeated=True)],
            doc="The SavedModel `tag_set` and the `signature_names` to send requests to.",
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
            doc="BulkInferrer's model: the `model_signature_name`(s) to run and the SavedModel `tag`s.",
        ),
        Message(
            "DataSpec",
            [Field("example_splits", 2, "string", repeated=True)],
            reserved=[1, 3, 4],
            doc="BulkInferrer's data: the `example_splits` to run on (empty: every split).",
        ),
        Message(
            "OutputExampleSpec",
            [Field("output_columns_spec", 3, "OutputColumnsSpec", repeated=True)],
            reserved=[1, 2, 4],
            doc="BulkInferrer's output as examples: how each signature's outputs map to columns.",
        ),
        Message(
            "OutputColumnsSpec",
            [
                Field("signature_name", 1, "string"),
                Field("classify_output", 2, "ClassifyOutput", oneof="output_type"),
                Field("regress_output", 3, "RegressOutput", oneof="output_type"),
                Field("predict_output", 4, "PredictOutput", oneof="output_type"),
            ],
            doc="One signature's output columns: a classify, regress or predict output.",
        ),
        Message(
            "ClassifyOutput",
            [Field("label_column", 1, "string"), Field("score_column", 2, "string")],
            doc="Column names of a classification's labels and scores.",
        ),
        Message(
            "RegressOutput",
            [Field("value_column", 1, "string")],
            doc="Column name of a regression's value.",
        ),
        Message(
            "PredictOutput",
            [Field("output_columns", 1, "PredictOutputCol", repeated=True)],
            doc="Column names of a predict signature's outputs.",
        ),
        Message(
            "PredictOutputCol",
            [Field("output_key", 1, "string"), Field("output_column", 2, "string")],
            doc="A predict signature's output key and its column name.",
        ),
    ],
    module=__name__,
)
BULK_INFERRER_DESCRIPTOR = _bulk_inferrer.descriptor
"""The FileDescriptor of tfx/proto/bulk_inferrer.proto (TFX's `bulk_inferrer_pb2.DESCRIPTOR`)."""

_FILES = (_example_gen, _range_config, _trainer, _pusher, _evaluator, _infra_validator, _bulk_inferrer)
# Each message and enum of the files above, bound here under its name (nested ones hang off their parent:
# SplitConfig.Split). Declared once, in the build(...) calls: the bindings, their docs and __all__ follow.
_MESSAGES = {n: c for f in _FILES for n, c in f.messages.items() if "." not in n}
_ENUMS = {n: e for f in _FILES for n, e in f.enums.items() if "." not in n}
globals().update(_MESSAGES)
globals().update(_ENUMS)


def __getattr__(name: str) -> Any:
    """Type checkers see the messages bound above as Any (google.protobuf has no types here); at run time
    every name is bound, so this answers only names the module does not have."""
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


from headrace.components.proto.convert import as_dict as as_dict  # noqa: E402 - convert reads the pool above
from headrace.components.proto.convert import config_dict as config_dict  # noqa: E402

# The constants above (enum values, descriptors, the pool), the messages and enums, and config_dict.
__all__ = sorted(
    [n for n in list(globals()) if n.isupper() and not n.startswith("_")]
    + [*_MESSAGES, *_ENUMS, "as_dict", "config_dict"]
)
