"""Reading a SavedModel's signatures from its wire format (headrace.ui.signature), without TensorFlow:
a message encoded here field by field as TensorFlow lays it out, and malformed files."""

from __future__ import annotations

import pytest

from headrace.ui.signature import SignatureError, parse


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 as TensorFlow writes it: ten bytes
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, value: bytes | int) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value


def tensor(dtype: int, *dims: int) -> bytes:
    shape = b"".join(field(2, field(1, d)) for d in dims)
    return field(1, b"x:0") + field(2, dtype) + field(3, shape)


def entry(key: str, value: bytes) -> bytes:
    return field(1, key.encode()) + field(2, value)


def saved_model() -> bytes:
    serving = (
        field(1, entry("features", tensor(1, -1, 4)))
        + field(1, entry("ids", tensor(9, -1)))
        + field(2, entry("scores", tensor(1, -1, 3)))
        + field(3, b"tensorflow/serving/predict")
    )
    init = field(2, entry("__saved_model_init_op", field(1, b"NoOp")))
    meta_graph = (
        field(2, b"\x0a\x03abc" * 50)  # a graph_def, skipped
        + field(5, entry("custom", field(3, b"tensorflow/serving/classify")))
        + field(5, entry("serving_default", serving))
        + field(5, entry("__saved_model_init_op", init))
    )
    return field(1, 1) + field(2, meta_graph)


def test_signatures_are_read_as_tensorflow_writes_them():
    found = parse(saved_model())
    assert [s.key for s in found] == ["serving_default", "custom"]  # serving_default first, TF's own left out
    serving = found[0]
    assert serving.method == "tensorflow/serving/predict"
    assert [(t.key, t.dtype, t.shape) for t in serving.inputs] == [
        ("features", "float32", "(-1, 4)"),
        ("ids", "int64", "(-1,)"),
    ]
    assert [(t.key, t.dtype, t.shape) for t in serving.outputs] == [("scores", "float32", "(-1, 3)")]


@pytest.mark.parametrize(
    "data",
    [
        b"a stand-in\n",
        b"",
        saved_model()[:-7],  # truncated
        field(2, b"\xff" * 12),  # an overlong varint
        b"\x0b\x0c",  # a group
    ],
)
def test_a_malformed_file_is_an_error_not_a_crash(data):
    with pytest.raises(SignatureError):
        parse(data)
