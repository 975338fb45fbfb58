"""A SavedModel's serving signatures, read from its saved_model.pb without TensorFlow.

TensorFlow's import costs seconds and hundreds of MB, too much for a page; the signatures are a few
fields deep in the SavedModel protobuf, so they are read from its wire format here (the field numbers
are those of tensorflow/core/protobuf/{saved_model,meta_graph}.proto and framework/tensor_shape.proto,
stable since TensorFlow 1.x). The file is untrusted input: every length is bounds-checked and anything
malformed is reported as unreadable, never trusted.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

MAX_BYTES = 256 * 1024 * 1024  # a bigger graph is not read for its signatures
# tensorflow/core/framework/types.proto's DataType, the common ones.
DTYPES = {
    1: "float32",
    2: "float64",
    3: "int32",
    4: "uint8",
    5: "int16",
    6: "int8",
    7: "string",
    8: "complex64",
    9: "int64",
    10: "bool",
    14: "bfloat16",
    17: "uint16",
    19: "float16",
    22: "uint32",
    23: "uint64",
}
_PLACES = ("", "Format-Serving")  # the SavedModel at the artifact's top, or in TFX's Format-Serving folder


class SignatureError(ValueError):
    """The file is not a SavedModel this reader understands."""


@dataclasses.dataclass
class Tensor:
    """One input or output of a signature."""

    key: str
    dtype: str
    shape: str  # such as (-1, 4); '?' for an unknown rank


@dataclasses.dataclass
class Signature:
    """A serving signature: its key (serving_default, ...), method, inputs and outputs."""

    key: str
    method: str
    inputs: list[Tensor]
    outputs: list[Tensor]


def _varint(data: memoryview, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise SignatureError("a truncated or overlong varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _fields(data: memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """(field number, wire type, value) of a message: an int for varints and fixed, bytes for the rest."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
            yield number, wire, value
        elif wire == 2:
            size, at = _varint(data, at)
            if at + size > len(data):
                raise SignatureError("a length past the end of its message")
            yield number, wire, data[at : at + size]
            at += size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            if at + width > len(data):
                raise SignatureError("a truncated fixed-width field")
            yield number, wire, int.from_bytes(data[at : at + width], "little")
            at += width
        else:
            raise SignatureError(f"wire type {wire} (groups) is not used by SavedModel")


def _message(value: int | memoryview) -> memoryview:
    if not isinstance(value, memoryview):
        raise SignatureError("a message field holds a number")
    return value


def _map_entry(entry: memoryview) -> tuple[str, memoryview]:
    key, value = "", memoryview(b"")
    for number, _wire, v in _fields(entry):
        if number == 1:
            key = bytes(_message(v)).decode("utf-8", errors="replace")
        elif number == 2:
            value = _message(v)
    return key, value


def _shape(data: memoryview) -> str:
    dims = []
    for number, _wire, v in _fields(data):
        if number == 3 and v:
            return "?"
        if number == 2:
            size = 0
            for n, _w, x in _fields(_message(v)):
                if n == 1 and isinstance(x, int):
                    size = x - (1 << 64) if x >= 1 << 63 else x
            dims.append(str(size))
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _tensor(key: str, data: memoryview) -> Tensor:
    dtype, shape = "?", "?"
    for number, _wire, v in _fields(data):
        if number == 2 and isinstance(v, int):
            dtype = DTYPES.get(v, f"dtype {v}")
        elif number == 3:
            shape = _shape(_message(v))
    return Tensor(key, dtype, shape)


def _signature(key: str, data: memoryview) -> Signature:
    sig = Signature(key, "", [], [])
    for number, _wire, v in _fields(data):
        if number in (1, 2):
            name, tensor = _map_entry(_message(v))
            (sig.inputs if number == 1 else sig.outputs).append(_tensor(name, tensor))
        elif number == 3:
            sig.method = bytes(_message(v)).decode("utf-8", errors="replace")
    sig.inputs.sort(key=lambda t: t.key)
    sig.outputs.sort(key=lambda t: t.key)
    return sig


def parse(data: bytes) -> list[Signature]:
    """The signatures of a serialized SavedModel (its first MetaGraph's, as TF Serving serves)."""
    for number, _wire, meta_graph in _fields(memoryview(data)):
        if number == 2:
            found = [_signature(*_map_entry(_message(v))) for n, _w, v in _fields(_message(meta_graph)) if n == 5]
            shown = [s for s in found if not s.key.startswith("__")]  # __saved_model_init_op: TF's own
            return sorted(shown, key=lambda s: (s.key != "serving_default", s.key))
    raise SignatureError("no MetaGraph in the file")


def find_saved_model(folder: str) -> str | None:
    """The saved_model.pb of a Model artifact's folder, or None."""
    for place in _PLACES:
        path = os.path.join(folder, place, "saved_model.pb")
        if os.path.isfile(path):
            return path
    return None


def signatures(path: str) -> list[Signature]:
    """The signatures of the SavedModel file `path`.

    Raises:
        SignatureError: the file is too big, or not a SavedModel this reader understands.
    """
    size = os.path.getsize(path)
    if size > MAX_BYTES:
        raise SignatureError(f"{size} bytes: over {MAX_BYTES} bytes, not read for its signatures")
    with open(path, "rb") as f:
        return parse(f.read())
