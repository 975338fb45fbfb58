"""Real protobuf message classes from a compact Python description, without protoc.

A `.proto` file is written as :class:`Message`, :class:`Field` and :class:`Enum` values; :func:`build`
turns them into a `FileDescriptorProto`, adds it to a descriptor pool and returns the file's
message classes and enum wrappers. With the `.proto`'s package, names and field numbers, the
messages have the same full names, binary encoding, JSON and text format as protoc's.

Only what config protos use is supported: proto3 singular and repeated fields of scalar, message
and enum types, `map<K, V>` fields, nested messages and enums, oneofs and reserved numbers.
"""

from __future__ import annotations

import copyreg
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from google.protobuf import descriptor_pb2, message_factory
from google.protobuf.internal import enum_type_wrapper

MAX = "max"
"""The upper end of a reserved range written `N to max` in a .proto."""

_FDP = descriptor_pb2.FieldDescriptorProto
SCALARS = {
    "double": _FDP.TYPE_DOUBLE,
    "float": _FDP.TYPE_FLOAT,
    "int64": _FDP.TYPE_INT64,
    "uint64": _FDP.TYPE_UINT64,
    "int32": _FDP.TYPE_INT32,
    "fixed64": _FDP.TYPE_FIXED64,
    "fixed32": _FDP.TYPE_FIXED32,
    "bool": _FDP.TYPE_BOOL,
    "string": _FDP.TYPE_STRING,
    "bytes": _FDP.TYPE_BYTES,
    "uint32": _FDP.TYPE_UINT32,
    "sfixed32": _FDP.TYPE_SFIXED32,
    "sfixed64": _FDP.TYPE_SFIXED64,
    "sint32": _FDP.TYPE_SINT32,
    "sint64": _FDP.TYPE_SINT64,
}
_MAX_FIELD_NUMBER = 536870911  # 2**29 - 1
_MAX_ENUM_VALUE = 2147483647  # 2**31 - 1

Reserved = int | tuple[int, int | str]


class Field(NamedTuple):
    """A field: `type` is a scalar name ('string', 'uint32', ...), a message/enum name, relative
    to the enclosing scopes as in a .proto ('Split') or fully qualified ('.google.protobuf.Any'),
    or a map ('map<string, string>': a repeated `<Name>Entry` message, as protoc writes it)."""

    name: str
    number: int
    type: str
    repeated: bool = False
    oneof: str | None = None


class Enum(NamedTuple):
    """An enum: `values` in declaration order; `reserved` numbers or inclusive ranges (`(16, MAX)`)."""

    name: str
    values: Sequence[tuple[str, int]]
    reserved: Sequence[Reserved] = ()


class Message(NamedTuple):
    """A message: its fields, nested messages and enums, reserved numbers or inclusive ranges, and the
    docstring its class gets."""

    name: str
    fields: Sequence[Field] = ()
    nested: Sequence[Message | Enum] = ()
    reserved: Sequence[Reserved] = ()
    doc: str = ""


class ProtoFile(NamedTuple):
    """What :func:`build` returns: the pool's file descriptor, and the file's message classes and
    enum wrappers by name relative to the package ('Input', 'Input.Split', 'PayloadFormat')."""

    descriptor: Any
    messages: dict[str, type]
    enums: dict[str, enum_type_wrapper.EnumTypeWrapper]


def _ranges(reserved: Iterable[Reserved], top: int) -> Iterator[tuple[int, int]]:
    """Inclusive (start, end) ranges of a `reserved` statement."""
    for item in reserved:
        start, end = (item, item) if isinstance(item, int) else item
        yield start, top if end == MAX else int(end)


def _symbols(definitions: Iterable[Message | Enum], scope: str, out: dict[str, str]) -> dict[str, str]:
    """Full name ('.pkg.Outer.Inner') -> 'message' or 'enum', for every definition in the file."""
    for d in definitions:
        full = f"{scope}.{d.name}"
        out[full] = "enum" if isinstance(d, Enum) else "message"
        if isinstance(d, Message):
            _symbols(d.nested, full, out)
    return out


def _resolve(type_name: str, scope: str, symbols: dict[str, str], pool: Any, where: str) -> tuple[str, str]:
    """(full name, kind) of a named type, searched from `scope` outwards as protoc does."""
    if type_name.startswith("."):
        candidates = [type_name]
    else:
        parts = scope.split(".")
        candidates = [".".join([*parts[:i], type_name]) for i in range(len(parts), 0, -1)]
    for full in candidates:
        if full in symbols:
            return full, symbols[full]
        for kind, find in (("message", "FindMessageTypeByName"), ("enum", "FindEnumTypeByName")):
            try:
                if pool is not None:
                    getattr(pool, find)(full[1:])
                    return full, kind
            except KeyError:
                continue
    raise ValueError(f"{where}: unknown type {type_name!r} (not a scalar, nor in this file or its dependencies).")


_MAP = re.compile(r"map\s*<\s*(\w+)\s*,\s*([\w.]+)\s*>$")
_MAP_KEYS = {"int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32"}
_MAP_KEYS |= {"sfixed64", "bool", "string"}


def _map_entry(f: Field, where: str) -> tuple[Message, str]:
    """The `<Name>Entry` message protoc makes for a map field (key = 1, value = 2), and its name."""
    match = _MAP.match(f.type)
    if match is None:
        raise ValueError(f"{where}: malformed map type {f.type!r} (write 'map<string, string>').")
    key, value = match.groups()
    if key not in _MAP_KEYS:
        raise ValueError(f"{where}: a map key must be an integral, bool or string type, not {key!r}.")
    if f.repeated or f.oneof is not None:
        raise ValueError(f"{where}: a map field cannot be repeated or in a oneof.")
    name = "".join(part[:1].upper() + part[1:] for part in f.name.split("_")) + "Entry"
    return Message(name, [Field("key", 1, key), Field("value", 2, value)]), name


def _message_proto(
    m: Message, scope: str, out: descriptor_pb2.DescriptorProto, symbols: dict[str, str], pool: Any
) -> None:
    full = f"{scope}.{m.name}"
    out.name = m.name
    oneofs: list[str] = []
    for f in m.fields:
        fp = out.field.add(name=f.name, number=f.number)
        fp.label = _FDP.LABEL_REPEATED if f.repeated else _FDP.LABEL_OPTIONAL
        if f.type.startswith("map"):
            entry, entry_name = _map_entry(f, f"{full[1:]}.{f.name}")
            _message_proto(entry, full, out.nested_type.add(), symbols, pool)
            out.nested_type[-1].options.map_entry = True
            fp.label, fp.type, fp.type_name = _FDP.LABEL_REPEATED, _FDP.TYPE_MESSAGE, f"{full}.{entry_name}"
        elif f.type in SCALARS:
            fp.type = SCALARS[f.type]
        else:
            fp.type_name, kind = _resolve(f.type, full, symbols, pool, f"{full[1:]}.{f.name}")
            fp.type = _FDP.TYPE_ENUM if kind == "enum" else _FDP.TYPE_MESSAGE
        if f.oneof is not None:
            if f.repeated:
                raise ValueError(f"{full[1:]}.{f.name}: a repeated field cannot be in a oneof.")
            if f.oneof not in oneofs:
                oneofs.append(f.oneof)
                out.oneof_decl.add(name=f.oneof)
            fp.oneof_index = oneofs.index(f.oneof)
    for d in m.nested:
        if isinstance(d, Enum):
            _enum_proto(d, out.enum_type.add())
        else:
            _message_proto(d, full, out.nested_type.add(), symbols, pool)
    for start, end in _ranges(m.reserved, _MAX_FIELD_NUMBER):
        _check_reserved(full[1:], [(f.name, f.number) for f in m.fields], start, end)
        out.reserved_range.add(start=start, end=end + 1)  # a message's reserved range excludes its end


def _enum_proto(e: Enum, out: descriptor_pb2.EnumDescriptorProto) -> None:
    out.name = e.name
    for name, number in e.values:
        out.value.add(name=name, number=number)
    for start, end in _ranges(e.reserved, _MAX_ENUM_VALUE):
        _check_reserved(e.name, e.values, start, end)
        out.reserved_range.add(start=start, end=end)  # an enum's reserved range includes its end


def _check_reserved(owner: str, numbered: Iterable[tuple[str, int]], start: int, end: int) -> None:
    """protoc's check (descriptor pools do not make it): nothing uses a reserved number."""
    for name, number in numbered:
        if start <= number <= end:
            raise ValueError(f"{owner}.{name} uses {number}, which is reserved ({start} to {end}).")


def _reduce(message: Any) -> tuple[Any, ...]:
    """Pickles a message as its class (by module and qualified name) and its serialized state."""
    return type(message), (), message.__getstate__()


def file_proto(
    name: str, package: str, definitions: Sequence[Message | Enum], dependencies: Sequence[str] = (), pool: Any = None
) -> descriptor_pb2.FileDescriptorProto:
    """The proto3 `FileDescriptorProto` of a .proto file (`name` as protoc would record it, e.g.
    'tfx/proto/example_gen.proto'). Types from `dependencies` are looked up in `pool`."""
    fdp = descriptor_pb2.FileDescriptorProto(name=name, package=package, syntax="proto3")
    fdp.dependency.extend(dependencies)
    scope = f".{package}" if package else ""
    symbols = _symbols(definitions, scope, {})
    for d in definitions:
        if isinstance(d, Enum):
            _enum_proto(d, fdp.enum_type.add())
        else:
            _message_proto(d, scope, fdp.message_type.add(), symbols, pool)
    return fdp


def build(
    pool: Any,
    name: str,
    package: str,
    definitions: Sequence[Message | Enum],
    dependencies: Sequence[str] = (),
    module: str | None = None,
) -> ProtoFile:
    """Adds the file to `pool` and returns its message classes and enum wrappers.

    With `module`, the classes pickle: each class's `__module__` and `__qualname__` become `module`
    and its name in the file ('SplitConfig.Split'), so pickle finds it as `module.SplitConfig.Split`
    (the module must expose the top-level classes), and a copyreg reducer pickles its messages by
    class (protobuf pickles a nested message by full name through the default pool, which does
    not know a private pool's messages).
    """
    fdp = file_proto(name, package, definitions, dependencies, pool)
    pool.Add(fdp)
    fd = pool.FindFileByName(name)
    messages: dict[str, type] = {}
    enums: dict[str, enum_type_wrapper.EnumTypeWrapper] = {}

    def walk(descriptors: Iterable[Any], enum_descriptors: Iterable[Any], prefix: str) -> None:
        for ed in enum_descriptors:
            enums[prefix + ed.name] = enum_type_wrapper.EnumTypeWrapper(ed)
        for md in descriptors:
            qualname = prefix + md.name
            cls = message_factory.GetMessageClass(md)
            if module is not None:
                cls.__module__ = module
                cls.__qualname__ = qualname
                copyreg.pickle(cls, _reduce)
            messages[qualname] = cls
            walk(md.nested_types, md.enum_types, qualname + ".")

    walk(fd.message_types_by_name.values(), fd.enum_types_by_name.values(), "")
    for qualname, doc in _docs(definitions, ""):
        messages[qualname].__doc__ = doc
    return ProtoFile(fd, messages, enums)


def _docs(definitions: Iterable[Message | Enum], prefix: str) -> Iterator[tuple[str, str]]:
    """(qualified name, docstring) of every message declared with one."""
    for d in definitions:
        if isinstance(d, Message):
            if d.doc:
                yield prefix + d.name, d.doc
            yield from _docs(d.nested, prefix + d.name + ".")


__all__ = ["MAX", "SCALARS", "Enum", "Field", "Message", "ProtoFile", "build", "file_proto"]
