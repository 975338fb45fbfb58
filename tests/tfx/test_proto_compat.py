"""TFX's component config protos (headrace.components.proto, served as tfx.proto.example_gen_pb2,
range_config_pb2, evaluator_pb2, infra_validator_pb2, bulk_inferrer_pb2 and tfx.v1.proto): TFX's names,
numbers and types, so the same bytes, JSON and text."""

from __future__ import annotations

import base64
import copy
import json
import pickle
import subprocess
import sys

import cloudpickle
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, text_format, wrappers_pb2
from google.protobuf.descriptor import FieldDescriptor as FD

from headrace.components import proto
from headrace.components.proto.builder import MAX, Enum, Field, Message, build
from headrace.tfx import NotYetAvailableError
from headrace.tfx.proto import example_gen_pb2, range_config_pb2

EG = "tfx.components.example_gen"
STRING, UINT32, INT32, MESSAGE = FD.TYPE_STRING, FD.TYPE_UINT32, FD.TYPE_INT32, FD.TYPE_MESSAGE

# Copied from tensorflow/tfx v1.16.0 tfx/proto/example_gen.proto and range_config.proto:
# full name -> [(field, number, type, repeated, message type)], and the oneofs.
FIELDS = {
    f"{EG}.Input": [("splits", 1, MESSAGE, True, f"{EG}.Input.Split")],
    f"{EG}.Input.Split": [("name", 1, STRING, False, None), ("pattern", 2, STRING, False, None)],
    f"{EG}.CustomConfig": [("custom_config", 1, MESSAGE, False, "google.protobuf.Any")],
    f"{EG}.Output": [("split_config", 3, MESSAGE, False, f"{EG}.SplitConfig")],
    f"{EG}.SplitConfig": [
        ("splits", 1, MESSAGE, True, f"{EG}.SplitConfig.Split"),
        ("partition_feature_name", 2, STRING, False, None),
    ],
    f"{EG}.SplitConfig.Split": [("name", 1, STRING, False, None), ("hash_buckets", 2, UINT32, False, None)],
    "tfx.configs.StaticRange": [
        ("start_span_number", 1, INT32, False, None),
        ("end_span_number", 2, INT32, False, None),
    ],
    "tfx.configs.RollingRange": [("start_span_number", 1, INT32, False, None), ("num_spans", 2, INT32, False, None)],
    "tfx.configs.RangeConfig": [
        ("static_range", 1, MESSAGE, False, "tfx.configs.StaticRange"),
        ("rolling_range", 2, MESSAGE, False, "tfx.configs.RollingRange"),
    ],
}
ONEOFS = {
    f"{EG}.SplitConfig": {"splitting_method_config": ["partition_feature_name"]},
    "tfx.configs.RangeConfig": {"range": ["static_range", "rolling_range"]},
}
PAYLOAD_FORMATS = [
    ("FORMAT_UNSPECIFIED", 0),
    ("FORMAT_TF_EXAMPLE", 6),
    ("FORMAT_TF_SEQUENCE_EXAMPLE", 7),
    ("FORMAT_PROTO", 11),
    ("FORMAT_PARQUET", 15),
]
FILE_FORMATS = [("FILE_FORMAT_UNSPECIFIED", 0), ("FORMAT_TFRECORDS_GZIP", 5), ("FILE_FORMAT_PARQUET", 16)]
CLASSES = [
    proto.Input,
    proto.Input.Split,
    proto.CustomConfig,
    proto.Output,
    proto.SplitConfig,
    proto.SplitConfig.Split,
    proto.StaticRange,
    proto.RollingRange,
    proto.RangeConfig,
]


def _guide_output():
    """docs/guide/examplegen.md's custom split, with a partition feature."""
    return example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(
            splits=[
                example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=3),
                example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=1),
            ],
            partition_feature_name="user_id",
        )
    )


# -- the descriptors are TFX's ---------------------------------------------------------------------------
@pytest.mark.parametrize("full_name", sorted(FIELDS))
def test_messages_have_tfx_full_names_field_numbers_and_types(full_name):
    [cls] = [c for c in CLASSES if c.DESCRIPTOR.full_name == full_name]
    fields = [
        (f.name, f.number, f.type, f.label == FD.LABEL_REPEATED, f.message_type and f.message_type.full_name)
        for f in cls.DESCRIPTOR.fields
    ]
    assert fields == FIELDS[full_name]
    oneofs = {o.name: [f.name for f in o.fields] for o in cls.DESCRIPTOR.oneofs}
    assert oneofs == ONEOFS.get(full_name, {})


def test_files_and_enums_are_tfx_ones():
    eg, rc = example_gen_pb2.DESCRIPTOR, range_config_pb2.DESCRIPTOR
    assert (eg.name, eg.package) == ("tfx/proto/example_gen.proto", EG)
    assert not example_gen_pb2.Input.Split.DESCRIPTOR.fields_by_name["name"].has_presence  # proto3 scalars
    assert (rc.name, rc.package) == ("tfx/proto/range_config.proto", "tfx.configs")
    assert [d.name for d in eg.dependencies] == ["google/protobuf/any.proto"]
    assert set(eg.message_types_by_name) == {"Input", "CustomConfig", "Output", "SplitConfig"}
    assert set(eg.enum_types_by_name) == {"PayloadFormat", "FileFormat"}
    assert set(rc.message_types_by_name) == {"StaticRange", "RollingRange", "RangeConfig"}
    assert example_gen_pb2.PayloadFormat.DESCRIPTOR.full_name == f"{EG}.PayloadFormat"
    assert example_gen_pb2.PayloadFormat.items() == PAYLOAD_FORMATS
    assert example_gen_pb2.FileFormat.items() == FILE_FORMATS


def test_enum_access_patterns_of_generated_modules():
    for name, number in PAYLOAD_FORMATS + FILE_FORMATS:
        assert getattr(example_gen_pb2, name) == number  # module level, as protoc's _pb2 exposes them
        assert getattr(proto, name) == number
    assert example_gen_pb2.FORMAT_PARQUET == 15
    assert example_gen_pb2.PayloadFormat.FORMAT_TF_EXAMPLE == 6
    assert example_gen_pb2.PayloadFormat.Name(6) == "FORMAT_TF_EXAMPLE"
    assert example_gen_pb2.PayloadFormat.Value("FORMAT_PROTO") == 11
    assert example_gen_pb2.FileFormat.Name(5) == "FORMAT_TFRECORDS_GZIP"
    assert example_gen_pb2.PayloadFormat.keys()[-1] == "FORMAT_PARQUET"
    with pytest.raises(ValueError):
        example_gen_pb2.PayloadFormat.Name(3)  # reserved in TFX's enum


# -- construction as TFX code does it -------------------------------------------------------------------
def test_messages_construct_with_tfx_fields():
    split = example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=3)
    assert (split.name, split.hash_buckets) == ("train", 3)
    output = _guide_output()
    assert [s.name for s in output.split_config.splits] == ["train", "eval"]
    assert output.split_config.WhichOneof("splitting_method_config") == "partition_feature_name"
    inp = example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="train", pattern="train/*")])
    assert inp.splits[0].pattern == "train/*"
    rc = range_config_pb2.RangeConfig(static_range=range_config_pb2.StaticRange(start_span_number=1, end_span_number=1))
    assert rc.WhichOneof("range") == "static_range"
    rc.rolling_range.num_spans = 2  # setting the other member of the oneof clears the first
    assert rc.WhichOneof("range") == "rolling_range" and not rc.HasField("static_range")
    with pytest.raises(ValueError):
        example_gen_pb2.SplitConfig.Split(hash_buckets=-1)  # uint32, as in TFX
    with pytest.raises(ValueError):
        example_gen_pb2.Output(splits=[])  # Output has only split_config (TFX reserved 1, 2, 4)


def test_copy_merge_equality_and_deepcopy():
    output = _guide_output()
    other = example_gen_pb2.Output()
    other.CopyFrom(output)
    assert other == output and other is not output
    other.split_config.splits[0].hash_buckets = 4
    assert other != output
    merged = example_gen_pb2.Output()
    merged.MergeFrom(output)
    assert merged == output
    assert copy.deepcopy(output) == output
    assert example_gen_pb2.Output() != example_gen_pb2.Input()


# -- encodings ------------------------------------------------------------------------------------------
BINARY = [
    # Output{split_config(3){splits(1){name(1) 'train', hash_buckets(2) 3}, partition_feature_name(2) 'user_id'}}
    (
        lambda: example_gen_pb2.Output(
            split_config=example_gen_pb2.SplitConfig(
                splits=[example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=3)],
                partition_feature_name="user_id",
            )
        ),
        b"\x1a\x14" + b"\x0a\x09" + b"\x0a\x05train\x10\x03" + b"\x12\x07user_id",
    ),
    # Input{splits(1){name(1) 'train', pattern(2) 'train/*'}}
    (
        lambda: example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="train", pattern="train/*")]),
        b"\x0a\x10" + b"\x0a\x05train\x12\x07train/*",
    ),
    # RangeConfig{static_range(1){start(1) 1, end(2) 1}}; rolling_range(2){num_spans(2) 2}
    (
        lambda: range_config_pb2.RangeConfig(
            static_range=range_config_pb2.StaticRange(start_span_number=1, end_span_number=1)
        ),
        b"\x0a\x04\x08\x01\x10\x01",
    ),
    (
        lambda: range_config_pb2.RangeConfig(rolling_range=range_config_pb2.RollingRange(num_spans=2)),
        b"\x12\x02\x10\x02",
    ),
    # int32, not sint32: -1 is a 10-byte varint
    (lambda: range_config_pb2.StaticRange(start_span_number=-1), b"\x08" + b"\xff" * 9 + b"\x01"),
]


@pytest.mark.parametrize(("make", "wire"), BINARY)
def test_binary_encoding_is_tfx_bytes(make, wire):
    message = make()
    assert message.SerializeToString() == wire
    assert type(message).FromString(wire) == message


def test_json_round_trip_with_proto_and_json_names():
    output = _guide_output()
    as_dict = json_format.MessageToDict(output, preserving_proto_field_name=True)
    assert as_dict == {
        "split_config": {
            "splits": [{"name": "train", "hash_buckets": 3}, {"name": "eval", "hash_buckets": 1}],
            "partition_feature_name": "user_id",
        }
    }
    camel = json_format.MessageToDict(output)
    assert camel["splitConfig"]["splits"][0]["hashBuckets"] == 3
    assert camel["splitConfig"]["partitionFeatureName"] == "user_id"
    assert json_format.ParseDict(as_dict, example_gen_pb2.Output()) == output
    assert json_format.ParseDict(camel, example_gen_pb2.Output()) == output
    assert json_format.Parse(json_format.MessageToJson(output), example_gen_pb2.Output()) == output
    rc = range_config_pb2.RangeConfig(rolling_range=range_config_pb2.RollingRange(num_spans=1))
    assert json_format.MessageToDict(rc, preserving_proto_field_name=True) == {"rolling_range": {"num_spans": 1}}

    from headrace.tfx.utils import proto_utils

    assert proto_utils.json_to_proto(proto_utils.proto_to_json(output), example_gen_pb2.Output()) == output


# docs/guide/examplegen.md blocks #6, #8 and #10 (text-format Input protos), verbatim.
GUIDE_PBTXT = [
    (
        "splits {\n  name: 'train'\n  pattern: 'span-{SPAN}/train/*'\n}\nsplits {\n  name: 'eval'\n"
        "  pattern: 'span-{SPAN}/eval/*'\n}\n",
        ["span-{SPAN}/train/*", "span-{SPAN}/eval/*"],
    ),
    (
        "splits {\n  name: 'train'\n  pattern: '{YYYY}-{MM}-{DD}/train/*'\n}\nsplits {\n  name: 'eval'\n"
        "  pattern: '{YYYY}-{MM}-{DD}/eval/*'\n}\n",
        ["{YYYY}-{MM}-{DD}/train/*", "{YYYY}-{MM}-{DD}/eval/*"],
    ),
    (
        "splits {\n  name: 'train'\n  pattern: 'span-{SPAN}/ver-{VERSION}/train/*'\n}\nsplits {\n  name: 'eval'\n"
        "  pattern: 'span-{SPAN}/ver-{VERSION}/eval/*'\n}\n",
        ["span-{SPAN}/ver-{VERSION}/train/*", "span-{SPAN}/ver-{VERSION}/eval/*"],
    ),
]


@pytest.mark.parametrize(("text", "patterns"), GUIDE_PBTXT)
def test_text_format_of_the_guide_parses(text, patterns):
    inp = text_format.Parse(text, example_gen_pb2.Input())
    assert [(s.name, s.pattern) for s in inp.splits] == list(zip(["train", "eval"], patterns, strict=True))
    assert text_format.Parse(text_format.MessageToString(inp), example_gen_pb2.Input()) == inp


def test_text_format_of_an_output():
    text = text_format.MessageToString(_guide_output())
    assert text.startswith('split_config {\n  splits {\n    name: "train"\n    hash_buckets: 3\n  }')
    assert text_format.Parse(text, example_gen_pb2.Output()) == _guide_output()


def test_custom_config_packs_any_message():
    config = example_gen_pb2.CustomConfig()
    config.custom_config.Pack(wrappers_pb2.StringValue(value="presto"))  # a message of the default pool
    as_dict = json_format.MessageToDict(config, preserving_proto_field_name=True)
    assert as_dict == {"custom_config": {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": "presto"}}
    parsed = json_format.ParseDict(as_dict, example_gen_pb2.CustomConfig())
    unpacked = wrappers_pb2.StringValue()
    assert parsed.custom_config.Unpack(unpacked) and unpacked.value == "presto"
    assert example_gen_pb2.CustomConfig.FromString(config.SerializeToString()) == config

    own = example_gen_pb2.CustomConfig()
    own.custom_config.Pack(range_config_pb2.StaticRange(start_span_number=3))  # one of ours: name the pool
    own_dict = json_format.MessageToDict(own, descriptor_pool=proto.DESCRIPTOR_POOL)
    assert own_dict["customConfig"] == {"@type": "type.googleapis.com/tfx.configs.StaticRange", "startSpanNumber": 3}
    assert json_format.ParseDict(own_dict, example_gen_pb2.CustomConfig(), descriptor_pool=proto.DESCRIPTOR_POOL) == own
    assert own.custom_config.Is(range_config_pb2.StaticRange.DESCRIPTOR)  # Any's methods on our pool's Any


# -- pickling ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.DESCRIPTOR.full_name)
def test_every_message_pickles_with_every_protocol(cls):
    message = cls.FromString(_guide_output().SerializeToString()) if cls is proto.Output else cls()
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(message, protocol=protocol)) == message
    assert cloudpickle.loads(cloudpickle.dumps(message)) == message
    assert pickle.loads(pickle.dumps(cls)) is cls


def test_nested_message_pickles_by_module_and_qualified_name():
    split = example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=3)
    data = pickle.dumps(split)
    assert b"headrace.components.proto" in data and b"SplitConfig.Split" in data
    assert pickle.loads(data) == split


UNPICKLE = """
import base64, pickle, sys
import cloudpickle
value = cloudpickle.loads(base64.b64decode(sys.stdin.read()))
value = value() if callable(value) else value
print(type(value).__module__, type(value).__qualname__, base64.b64encode(pickle.dumps(value)).decode())
"""


def test_messages_and_closures_unpickle_in_a_fresh_process():
    split = example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=1)
    output = _guide_output()
    for payload in (pickle.dumps(split), cloudpickle.dumps(lambda: output)):  # by reference; a closure by value
        proc = subprocess.run(
            [sys.executable, "-c", UNPICKLE],
            input=base64.b64encode(payload).decode(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        module, qualname, back = proc.stdout.split()
        assert module == "headrace.components.proto"
        assert pickle.loads(base64.b64decode(back)) == (split if qualname == "SplitConfig.Split" else output)


# -- a private pool: a real tfx in the same process does not clash --------------------------------------
@pytest.mark.skipif("tfx.proto.example_gen_pb2" in sys.modules, reason="a real tfx is loaded in this process")
def test_messages_are_not_in_the_default_pool():
    for name in (f"{EG}.Input", "tfx.configs.RangeConfig"):
        with pytest.raises(KeyError):
            descriptor_pool.Default().FindMessageTypeByName(name)


TFX_FIRST = """
import json
from google.protobuf import descriptor_pool, json_format, message_factory
from headrace.components.proto.builder import file_proto
from headrace.components.proto import builder as b

# What importing tfx.proto.example_gen_pb2 does: the same file, registered in the default pool first.
defs = [b.Message('Output', [b.Field('split_config', 3, 'SplitConfig')]),
        b.Message('SplitConfig', [b.Field('splits', 1, 'Split', repeated=True),
                                  b.Field('partition_feature_name', 2, 'string', oneof='splitting_method_config')],
                  nested=[b.Message('Split', [b.Field('name', 1, 'string'), b.Field('hash_buckets', 2, 'uint32')])])]
pool = descriptor_pool.Default()
pool.Add(file_proto('tfx/proto/example_gen.proto', 'tfx.components.example_gen', defs, pool=pool))
TfxOutput = message_factory.GetMessageClass(pool.FindMessageTypeByName('tfx.components.example_gen.Output'))

from headrace.tfx.proto import example_gen_pb2  # builds headrace's copy in its own pool
ours = example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(
    splits=[example_gen_pb2.SplitConfig.Split(name='train', hash_buckets=3)], partition_feature_name='user_id'))
theirs = TfxOutput.FromString(ours.SerializeToString())
print(json.dumps({
    'distinct': TfxOutput is not example_gen_pb2.Output,
    'same_name': TfxOutput.DESCRIPTOR.full_name == example_gen_pb2.Output.DESCRIPTOR.full_name,
    'bytes': theirs.SerializeToString() == ours.SerializeToString(),
    'json': json_format.MessageToDict(theirs) == json_format.MessageToDict(ours),
}))
"""


def test_a_tfx_registered_first_in_the_default_pool_does_not_clash():
    proc = subprocess.run([sys.executable, "-c", TFX_FIRST], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"distinct": True, "same_name": True, "bytes": True, "json": True}


# -- the headrace.tfx names -----------------------------------------------------------------------------
def test_tfx_modules_serve_the_same_objects():
    from headrace.tfx import v1
    from headrace.tfx.v1 import proto as v1_proto

    for name in "CustomConfig Input Output PayloadFormat RangeConfig RollingRange SplitConfig StaticRange".split():
        assert getattr(v1_proto, name) is getattr(proto, name)
    assert v1.proto.SplitConfig.Split is proto.SplitConfig.Split
    for name in "Input CustomConfig Output SplitConfig PayloadFormat FileFormat".split():
        assert getattr(example_gen_pb2, name) is getattr(proto, name)
    for name in "RangeConfig RollingRange StaticRange".split():
        assert getattr(range_config_pb2, name) is getattr(proto, name)
    assert example_gen_pb2.DESCRIPTOR is proto.EXAMPLE_GEN_DESCRIPTOR
    assert range_config_pb2.DESCRIPTOR is proto.RANGE_CONFIG_DESCRIPTOR
    import headrace.tfx.proto.example_gen_pb2 as module_form

    assert module_form.Output is proto.Output


@pytest.mark.parametrize(
    ("name", "words"),
    [("SplitsConfig", "data components"), ("ExampleDiffConfig", "data components"), ("TuneArgs", "model components")],
)
def test_v1_proto_names_not_served_yet_name_their_capability(name, words):
    from headrace.tfx.v1 import proto as v1_proto

    with pytest.raises(NotYetAvailableError, match=words):
        getattr(v1_proto, name)


def test_proto_module_all_lists_what_it_exposes():
    assert sorted(proto.__all__) == sorted(set(proto.__all__))
    for name in proto.__all__:
        assert getattr(proto, name) is not None
    assert {"Input", "Output", "SplitConfig", "RangeConfig", "PayloadFormat", "FORMAT_PARQUET"} <= set(proto.__all__)


LIGHT = """
import json, sys
import headrace.components.proto
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_the_protos_is_light():
    proc = subprocess.run([sys.executable, "-c", LIGHT], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    heavy = ("tensorflow", "tensorflow_metadata", "tfx_bsl", "apache_beam", "pyarrow", "tfx")
    assert [m for m in json.loads(proc.stdout) if m.split(".")[0] in heavy] == []


# -- the builder ---------------------------------------------------------------------------------------
def test_builder_refuses_unknown_types_repeated_oneof_members_and_reserved_numbers():
    pool = descriptor_pool.DescriptorPool()
    with pytest.raises(ValueError, match="unknown type 'Nope'"):
        build(pool, "t/a.proto", "t", [Message("A", [Field("x", 1, "Nope")])])
    with pytest.raises(ValueError, match="repeated field cannot be in a oneof"):
        build(pool, "t/b.proto", "t", [Message("B", [Field("x", 1, "string", repeated=True, oneof="o")])])
    with pytest.raises(ValueError, match=r"t\.D\.x uses 2, which is reserved \(1 to 3\)"):
        build(pool, "t/d.proto", "t", [Message("D", [Field("x", 2, "string")], reserved=[(1, 3)])])
    with pytest.raises(ValueError, match=r"E\.B uses 16, which is reserved"):
        build(pool, "t/e.proto", "t", [Enum("E", [("A", 0), ("B", 16)], reserved=[(16, MAX)])])
    built = build(pool, "t/c.proto", "t", [Message("C", [Field("c", 1, "C")], nested=[Message("C", [])])])
    assert built.messages["C"].DESCRIPTOR.fields[0].message_type.full_name == "t.C.C"  # innermost scope first


# -- the model components' protos: evaluator.proto, infra_validator.proto, bulk_inferrer.proto --------------
EV, IV, BI = "tfx.components.evaluator", "tfx.components.infra_validator", "tfx.components.bulkinferrer"
BOOL = FD.TYPE_BOOL
# Copied from tensorflow/tfx (master, 1.22.0.dev) tfx/proto/evaluator.proto, infra_validator.proto and
# bulk_inferrer.proto: full name -> [(field, number, type, repeated, message type)] in declaration order.
MODEL_FIELDS = {
    f"{EV}.SingleSlicingSpec": [("column_for_slicing", 1, STRING, True, None)],
    f"{EV}.FeatureSlicingSpec": [("specs", 1, MESSAGE, True, f"{EV}.SingleSlicingSpec")],
    f"{IV}.ServingSpec": [
        ("tensorflow_serving", 1, MESSAGE, False, f"{IV}.TensorFlowServing"),
        ("local_docker", 2, MESSAGE, False, f"{IV}.LocalDockerConfig"),
        ("kubernetes", 3, MESSAGE, False, f"{IV}.KubernetesConfig"),
        ("model_name", 4, STRING, False, None),
    ],
    f"{IV}.TensorFlowServing": [
        ("image_name", 3, STRING, False, None),
        ("tags", 1, STRING, True, None),
        ("digests", 2, STRING, True, None),
    ],
    f"{IV}.LocalDockerConfig": [
        ("client_base_url", 1, STRING, False, None),
        ("client_api_version", 2, STRING, False, None),
        ("client_timeout_seconds", 3, INT32, False, None),
        ("host_ip_address", 4, STRING, False, None),
    ],
    f"{IV}.KubernetesConfig": [
        ("service_account_name", 1, STRING, False, None),
        ("active_deadline_seconds", 2, INT32, False, None),
        ("serving_pod_overrides", 3, MESSAGE, False, f"{IV}.PodOverrides"),
    ],
    f"{IV}.PodOverrides": [
        ("annotations", 1, MESSAGE, True, f"{IV}.PodOverrides.AnnotationsEntry"),
        ("env", 2, MESSAGE, True, f"{IV}.EnvVar"),
        ("resources", 3, MESSAGE, False, f"{IV}.Resources"),
    ],
    f"{IV}.EnvVar": [
        ("name", 1, STRING, False, None),
        ("value", 2, STRING, False, None),
        ("value_from", 3, MESSAGE, False, f"{IV}.EnvVarSource"),
    ],
    f"{IV}.EnvVarSource": [("secret_key_ref", 4, MESSAGE, False, f"{IV}.SecretKeySelector")],
    f"{IV}.SecretKeySelector": [("name", 1, STRING, False, None), ("key", 2, STRING, False, None)],
    f"{IV}.Resources": [
        ("requests", 1, MESSAGE, True, f"{IV}.Resources.RequestsEntry"),
        ("limits", 2, MESSAGE, True, f"{IV}.Resources.LimitsEntry"),
        ("claims", 3, MESSAGE, True, f"{IV}.Resources.ClaimsEntry"),
    ],
    f"{IV}.ValidationSpec": [("max_loading_time_seconds", 1, INT32, False, None), ("num_tries", 2, INT32, False, None)],
    f"{IV}.RequestSpec": [
        ("tensorflow_serving", 1, MESSAGE, False, f"{IV}.TensorFlowServingRequestSpec"),
        ("split_name", 2, STRING, False, None),
        ("num_examples", 3, INT32, False, None),
        ("make_warmup", 4, BOOL, False, None),
    ],
    f"{IV}.TensorFlowServingRequestSpec": [
        ("tag_set", 1, STRING, True, None),
        ("signature_names", 2, STRING, True, None),
    ],
    f"{BI}.ModelSpec": [("model_signature_name", 2, STRING, True, None), ("tag", 5, STRING, True, None)],
    f"{BI}.DataSpec": [("example_splits", 2, STRING, True, None)],
    f"{BI}.OutputExampleSpec": [("output_columns_spec", 3, MESSAGE, True, f"{BI}.OutputColumnsSpec")],
    f"{BI}.OutputColumnsSpec": [
        ("signature_name", 1, STRING, False, None),
        ("classify_output", 2, MESSAGE, False, f"{BI}.ClassifyOutput"),
        ("regress_output", 3, MESSAGE, False, f"{BI}.RegressOutput"),
        ("predict_output", 4, MESSAGE, False, f"{BI}.PredictOutput"),
    ],
    f"{BI}.ClassifyOutput": [("label_column", 1, STRING, False, None), ("score_column", 2, STRING, False, None)],
    f"{BI}.RegressOutput": [("value_column", 1, STRING, False, None)],
    f"{BI}.PredictOutput": [("output_columns", 1, MESSAGE, True, f"{BI}.PredictOutputCol")],
    f"{BI}.PredictOutputCol": [("output_key", 1, STRING, False, None), ("output_column", 2, STRING, False, None)],
}
MODEL_ONEOFS = {
    f"{IV}.ServingSpec": {"serving_binary": ["tensorflow_serving"], "serving_platform": ["local_docker", "kubernetes"]},
    f"{IV}.RequestSpec": {"kind": ["tensorflow_serving"]},
    f"{BI}.OutputColumnsSpec": {"output_type": ["classify_output", "regress_output", "predict_output"]},
}
# Reserved numbers of those files (a message's reserved ranges are end-exclusive in a descriptor).
MODEL_RESERVED = {
    f"{EV}.SingleSlicingSpec": [(2, 3)],
    f"{EV}.FeatureSlicingSpec": [(2, 3)],
    f"{IV}.EnvVarSource": [(1, 2), (2, 3), (3, 4)],
    f"{BI}.ModelSpec": [(1, 2), (3, 4), (4, 5), (6, 7)],
    f"{BI}.DataSpec": [(1, 2), (3, 4), (4, 5)],
    f"{BI}.OutputExampleSpec": [(1, 2), (2, 3), (4, 5)],
}
V1_MODEL_NAMES = {
    "evaluator_pb2": "FeatureSlicingSpec SingleSlicingSpec",
    "infra_validator_pb2": "EnvVar EnvVarSource KubernetesConfig LocalDockerConfig PodOverrides RequestSpec "
    "SecretKeySelector ServingSpec TensorFlowServing TensorFlowServingRequestSpec ValidationSpec",
    "bulk_inferrer_pb2": "ClassifyOutput DataSpec ModelSpec OutputColumnsSpec OutputExampleSpec PredictOutput "
    "PredictOutputCol RegressOutput",
}
MODEL_CLASSES = {full: getattr(proto, full.rsplit(".", 1)[1]) for full in MODEL_FIELDS}


@pytest.mark.parametrize("full_name", sorted(MODEL_FIELDS))
def test_model_component_messages_have_tfx_full_names_numbers_types_and_reserved_numbers(full_name):
    descriptor = MODEL_CLASSES[full_name].DESCRIPTOR
    assert descriptor.full_name == full_name
    fields = [
        (f.name, f.number, f.type, f.label == FD.LABEL_REPEATED, f.message_type and f.message_type.full_name)
        for f in descriptor.fields
    ]
    assert fields == MODEL_FIELDS[full_name]
    assert {o.name: [f.name for f in o.fields] for o in descriptor.oneofs} == MODEL_ONEOFS.get(full_name, {})
    file = descriptor_pb2.FileDescriptorProto()
    descriptor.file.CopyToProto(file)
    [message] = [m for m in file.message_type if m.name == descriptor.name]
    assert [(r.start, r.end) for r in message.reserved_range] == MODEL_RESERVED.get(full_name, [])


def test_model_component_files_are_tfx_ones():
    from headrace.tfx.proto import bulk_inferrer_pb2, evaluator_pb2, infra_validator_pb2

    for module, name, package, descriptor in (
        (evaluator_pb2, "tfx/proto/evaluator.proto", EV, proto.EVALUATOR_DESCRIPTOR),
        (infra_validator_pb2, "tfx/proto/infra_validator.proto", IV, proto.INFRA_VALIDATOR_DESCRIPTOR),
        (bulk_inferrer_pb2, "tfx/proto/bulk_inferrer.proto", BI, proto.BULK_INFERRER_DESCRIPTOR),
    ):
        assert module.DESCRIPTOR is descriptor
        assert (descriptor.name, descriptor.package, list(descriptor.dependencies)) == (name, package, [])
        assert {f"{package}.{n}" for n in descriptor.message_types_by_name} == {
            full for full in MODEL_FIELDS if full.startswith(package + ".")
        }
    assert infra_validator_pb2.Resources is proto.Resources  # in the _pb2 module, not in tfx.v1.proto (as TFX)


def test_map_fields_are_protoc_map_entries():
    entry = proto.PodOverrides.DESCRIPTOR.fields_by_name["annotations"].message_type
    assert entry.GetOptions().map_entry
    assert [(f.name, f.number, f.type) for f in entry.fields] == [("key", 1, STRING), ("value", 2, STRING)]
    assert proto.PodOverrides.AnnotationsEntry.DESCRIPTOR is entry  # nested, as protoc's classes are
    pod = proto.PodOverrides(annotations={"team": "ml"}, resources=proto.Resources(limits={"cpu": "2"}))
    pod.annotations["tier"] = "gold"
    assert dict(pod.annotations) == {"team": "ml", "tier": "gold"}
    assert json_format.MessageToDict(pod) == {
        "annotations": {"team": "ml", "tier": "gold"},
        "resources": {"limits": {"cpu": "2"}},
    }
    assert text_format.Parse('annotations { key: "a" value: "b" }', proto.PodOverrides()).annotations["a"] == "b"


MODEL_BINARY = [
    # ServingSpec{tensorflow_serving(1){tags(1) 'latest'}, local_docker(2){}, model_name(4) 'm'}
    (
        lambda: proto.ServingSpec(
            tensorflow_serving=proto.TensorFlowServing(tags=["latest"]),
            local_docker=proto.LocalDockerConfig(),
            model_name="m",
        ),
        b"\x0a\x08\x0a\x06latest" + b"\x12\x00" + b"\x22\x01m",
    ),
    # TensorFlowServing: image_name is field 3 though declared first; written in number order
    (
        lambda: proto.TensorFlowServing(image_name="img", tags=["t"], digests=["d"]),
        b"\x0a\x01t" + b"\x12\x01d" + b"\x1a\x03img",
    ),
    (lambda: proto.ValidationSpec(max_loading_time_seconds=60, num_tries=3), b"\x08\x3c\x10\x03"),
    (
        lambda: proto.RequestSpec(
            tensorflow_serving=proto.TensorFlowServingRequestSpec(signature_names=["serving_default"]),
            split_name="eval",
            num_examples=3,
            make_warmup=True,
        ),
        b"\x0a\x11\x12\x0fserving_default" + b"\x12\x04eval" + b"\x18\x03" + b"\x20\x01",
    ),
    # KubernetesConfig{sa(1), deadline(2) 100, overrides(3){env(2){name(1) 'K', value_from(3){secret(4){s, k}}}}}
    (
        lambda: proto.KubernetesConfig(
            service_account_name="sa",
            active_deadline_seconds=100,
            serving_pod_overrides=proto.PodOverrides(
                env=[
                    proto.EnvVar(
                        name="K",
                        value_from=proto.EnvVarSource(secret_key_ref=proto.SecretKeySelector(name="s", key="k")),
                    )
                ]
            ),
        ),
        b"\x0a\x02sa" + b"\x10\x64" + b"\x1a\x0f" + b"\x12\x0d" + b"\x0a\x01K" + b"\x1a\x08" + b"\x22\x06"
        b"\x0a\x01s\x12\x01k",
    ),
    # a map is a repeated entry message {key(1), value(2)}
    (lambda: proto.Resources(requests={"cpu": "1"}), b"\x0a\x08\x0a\x03cpu\x12\x011"),
    (
        lambda: proto.ModelSpec(model_signature_name=["serving_default"], tag=["serve"]),
        b"\x12\x0fserving_default\x2a\x05serve",
    ),
    (lambda: proto.DataSpec(example_splits=["eval"]), b"\x12\x04eval"),
    (
        lambda: proto.OutputExampleSpec(
            output_columns_spec=[
                proto.OutputColumnsSpec(
                    signature_name="s",
                    predict_output=proto.PredictOutput(
                        output_columns=[proto.PredictOutputCol(output_key="y", output_column="c")]
                    ),
                )
            ]
        ),
        b"\x1a\x0d" + b"\x0a\x01s" + b"\x22\x08" + b"\x0a\x06" + b"\x0a\x01y\x12\x01c",
    ),
    (
        lambda: proto.OutputColumnsSpec(classify_output=proto.ClassifyOutput(label_column="l", score_column="s")),
        b"\x12\x06\x0a\x01l\x12\x01s",
    ),
    (lambda: proto.OutputColumnsSpec(regress_output=proto.RegressOutput(value_column="v")), b"\x1a\x03\x0a\x01v"),
    (
        lambda: proto.FeatureSlicingSpec(specs=[proto.SingleSlicingSpec(column_for_slicing=["a", "b"])]),
        b"\x0a\x06\x0a\x01a\x0a\x01b",
    ),
]


@pytest.mark.parametrize(("make", "wire"), MODEL_BINARY)
def test_model_component_messages_encode_to_tfx_bytes(make, wire):
    message = make()
    assert message.SerializeToString(deterministic=True) == wire
    again = type(message).FromString(wire)
    assert again == message
    assert text_format.Parse(text_format.MessageToString(message), type(message)()) == message
    assert json_format.ParseDict(json_format.MessageToDict(message), type(message)()) == message


def test_the_tutorials_serving_spec_in_text_format():
    """TFX's infra validator guide writes these in text format (and the penguin tutorial builds them)."""
    serving = text_format.Parse(
        'tensorflow_serving { tags: "latest" tags: "1.15.0-gpu" } local_docker {}', proto.ServingSpec()
    )
    assert serving.WhichOneof("serving_binary") == "tensorflow_serving"
    assert serving.WhichOneof("serving_platform") == "local_docker"
    assert list(serving.tensorflow_serving.tags) == ["latest", "1.15.0-gpu"]
    request = text_format.Parse(
        "tensorflow_serving { signature_names: ['serving_default', 'classification'] } num_examples: 3",
        proto.RequestSpec(),
    )
    assert (list(request.tensorflow_serving.signature_names), request.num_examples) == (
        ["serving_default", "classification"],
        3,
    )


@pytest.mark.parametrize("cls", list(MODEL_CLASSES.values()), ids=lambda c: c.DESCRIPTOR.full_name)
def test_model_component_messages_pickle(cls):
    message = cls()
    assert pickle.loads(pickle.dumps(message)) == message
    assert cloudpickle.loads(cloudpickle.dumps(message)) == message


def test_v1_proto_and_pb2_modules_serve_the_model_component_messages():
    import importlib

    from headrace.tfx.v1 import proto as v1_proto

    for module, names in V1_MODEL_NAMES.items():
        pb2 = importlib.import_module(f"headrace.tfx.proto.{module}")
        for name in names.split():
            assert getattr(v1_proto, name) is getattr(proto, name) is getattr(pb2, name)
            exec(f"from headrace.tfx.v1.proto import {name}", {})
    namespace: dict = {}
    exec("from headrace.tfx import v1 as tfx", namespace)
    tfx = namespace["tfx"]
    spec = tfx.proto.ServingSpec(
        tensorflow_serving=tfx.proto.TensorFlowServing(tags=["latest"]), local_docker=tfx.proto.LocalDockerConfig()
    )
    assert spec.DESCRIPTOR.full_name == f"{IV}.ServingSpec"
    assert tfx.proto.ModelSpec.DESCRIPTOR.full_name == f"{BI}.ModelSpec"  # TFX's, not TFMA's
    with pytest.raises(NotYetAvailableError, match="model components"):
        exec("from headrace.tfx.proto import tuner_pb2", {})


# -- config_dict: a component's proto parameter, checked at definition -----------------------------------
def test_config_dict_takes_the_message_its_dict_or_none():
    from headrace.components.proto import config_dict

    assert config_dict("C", "p", None, proto.ValidationSpec) is None
    expected = {"max_loading_time_seconds": 60, "num_tries": 2}
    assert (
        config_dict("C", "p", proto.ValidationSpec(max_loading_time_seconds=60, num_tries=2), proto.ValidationSpec)
        == expected
    )
    assert config_dict("C", "p", {"max_loading_time_seconds": 60, "num_tries": 2}, proto.ValidationSpec) == expected
    assert config_dict("C", "p", {"maxLoadingTimeSeconds": 60, "numTries": 2}, proto.ValidationSpec) == expected
    # a oneof member set to an empty message is kept (it says which platform)
    serving = {"tensorflow_serving": {"tags": ["latest"]}, "local_docker": {}}
    assert config_dict("C", "p", serving, proto.ServingSpec) == serving


def test_config_dict_accepts_another_class_of_the_same_full_name_as_a_real_tfx_would_build():
    from headrace.components.proto import config_dict

    pool = descriptor_pool.DescriptorPool()
    other = build(
        pool,
        "tfx/proto/bulk_inferrer.proto",
        BI,
        [Message("DataSpec", [Field("example_splits", 2, "string", repeated=True)])],
    ).messages["DataSpec"]
    assert other is not proto.DataSpec
    assert config_dict("C", "data_spec", other(example_splits=["eval"]), proto.DataSpec) == {"example_splits": ["eval"]}


def test_config_dict_errors_name_the_parameter_and_the_fix():
    from headrace.components.proto import config_dict
    from headrace.errors import DefinitionError

    with pytest.raises(
        DefinitionError,
        match=r"BulkInferrer: model_spec has no field 'signature_name'.*Did you mean 'model_signature_name'",
    ):
        config_dict("BulkInferrer", "model_spec", {"signature_name": ["x"]}, proto.ModelSpec)
    with pytest.raises(DefinitionError, match=r"at RequestSpec.tensorflow_serving.*Did you mean 'signature_names'"):
        config_dict(
            "InfraValidator", "request_spec", {"tensorflow_serving": {"signature_name": "x"}}, proto.RequestSpec
        )
    with pytest.raises(
        DefinitionError, match=r"request_spec is not a valid tfx.components.infra_validator.RequestSpec"
    ):
        config_dict("InfraValidator", "request_spec", {"num_examples": "many"}, proto.RequestSpec)
    with pytest.raises(
        DefinitionError, match=r"must be a .*ValidationSpec message; got str: pass tfx.v1.proto.ValidationSpec"
    ):
        config_dict("InfraValidator", "validation_spec", "60s", proto.ValidationSpec)
    # TFMA's ModelSpec shares the short name with bulk_inferrer.proto's: the error says which is which
    pool = descriptor_pool.DescriptorPool()
    tfma_model_spec = build(
        pool,
        "tfma/config.proto",
        "tensorflow_model_analysis",
        [Message("ModelSpec", [Field("label_key", 4, "string")])],
    ).messages["ModelSpec"]
    with pytest.raises(
        DefinitionError,
        match=r"model_spec must be a tfx.components.bulkinferrer.ModelSpec, got a tensorflow_model_analysis.ModelSpec "
        r"\(same short name, another proto\)",
    ):
        config_dict("BulkInferrer", "model_spec", tfma_model_spec(label_key="y"), proto.ModelSpec)


def test_builder_writes_map_fields_and_refuses_bad_ones():
    pool = descriptor_pool.DescriptorPool()
    built = build(pool, "t/m.proto", "t", [Message("M", [Field("by_name", 1, "map<string, int32>")])])
    message = built.messages["M"](by_name={"a": 1})
    assert message.SerializeToString() == b"\x0a\x05\x0a\x01a\x10\x01"
    assert built.messages["M.ByNameEntry"].DESCRIPTOR.GetOptions().map_entry
    with pytest.raises(ValueError, match="a map key must be"):
        build(pool, "t/n.proto", "t", [Message("N", [Field("m", 1, "map<double, string>")])])
    with pytest.raises(ValueError, match="cannot be repeated or in a oneof"):
        build(pool, "t/o.proto", "t", [Message("O", [Field("m", 1, "map<string, string>", repeated=True)])])
