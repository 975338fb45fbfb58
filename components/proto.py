"""TFX's config protos of the data components, as real protobuf messages built at import (no protoc).

`Input`, `Output`, `SplitConfig`, `CustomConfig` and the `PayloadFormat` / `FileFormat` enums are
TFX's `tfx/proto/example_gen.proto` (package `tfx.components.example_gen`); `RangeConfig`,
`StaticRange` and `RollingRange` are `tfx/proto/range_config.proto` (package `tfx.configs`);
`TrainArgs` and `EvalArgs` are `tfx/proto/trainer.proto` (package `tfx.components.trainer`);
`PushDestination` (with `PushDestination.Filesystem`) and the `Versioning` enum are
`tfx/proto/pusher.proto` (package `tfx.components.pusher`). Full
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

from typing import TYPE_CHECKING

from google.protobuf import any_pb2, descriptor_pool

from headrace.components._proto_builder import MAX, Enum, Field, Message, build

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

__all__ = [
    "AUTO",
    "DESCRIPTOR_POOL",
    "EXAMPLE_GEN_DESCRIPTOR",
    "FILE_FORMAT_PARQUET",
    "FILE_FORMAT_UNSPECIFIED",
    "FORMAT_PARQUET",
    "FORMAT_PROTO",
    "FORMAT_TFRECORDS_GZIP",
    "FORMAT_TF_EXAMPLE",
    "FORMAT_TF_SEQUENCE_EXAMPLE",
    "FORMAT_UNSPECIFIED",
    "PUSHER_DESCRIPTOR",
    "RANGE_CONFIG_DESCRIPTOR",
    "TRAINER_DESCRIPTOR",
    "UNIX_TIMESTAMP",
    "CustomConfig",
    "EvalArgs",
    "FileFormat",
    "Input",
    "Output",
    "PayloadFormat",
    "PushDestination",
    "RangeConfig",
    "RollingRange",
    "SplitConfig",
    "StaticRange",
    "TrainArgs",
    "Versioning",
]
