"""The `Artifact` base class: a typed pointer to data at a URI, mirrored in ML Metadata.

Users define new artifact types by subclassing::

    class Embeddings(Artifact):
        TYPE_NAME = 'Embeddings'
        PROPERTIES = {'dim': Property(PropertyType.INT)}

Declared properties are read and written as attributes (``artifact.dim = 64``);
anything else goes into custom properties.
"""

from __future__ import annotations

import enum
import json
from typing import Any, ClassVar

from headrace.errors import DefinitionError, did_you_mean
from headrace.types import _mlmd_views, registry
from headrace.types.canonical_json import dumps_canonical


class PropertyType(enum.Enum):
    """The value types an artifact property can hold (those ML Metadata stores natively)."""

    INT = "INT"
    FLOAT = "FLOAT"
    STRING = "STRING"


_PY_TYPES = {PropertyType.INT: (int,), PropertyType.FLOAT: (float, int), PropertyType.STRING: (str,)}


class Property:
    """A declared, typed property of an artifact type."""

    def __init__(self, type: PropertyType):
        if not isinstance(type, PropertyType):
            raise DefinitionError(f"Property type must be a PropertyType, got {type!r}.")
        self.type = type

    def check(self, owner: str, name: str, value: Any) -> Any:
        """Returns `value` coerced to this property's type, or raises a clear error."""
        if isinstance(value, bool) or not isinstance(value, _PY_TYPES[self.type]):
            raise DefinitionError(
                f"Property '{name}' of artifact type '{owner}' is {self.type.value}; "
                f"got {value!r} ({type(value).__name__})."
            )
        return float(value) if self.type is PropertyType.FLOAT else value


class ArtifactState(enum.StrEnum):
    """Artifact states, as ML Metadata names them."""

    PENDING = "PENDING"
    LIVE = "LIVE"
    ABANDONED = "ABANDONED"
    MARKED_FOR_DELETION = "MARKED_FOR_DELETION"
    DELETED = "DELETED"
    REFERENCE = "REFERENCE"
    UNKNOWN = "UNKNOWN"


_INSTANCE_FIELDS = frozenset(
    {"id", "uri", "state", "name", "type_id", "_properties", "_custom_properties", "_value", "_has_value"}
)


class Artifact:
    """Base class of all artifact types.

    Attributes:
        id: The ML Metadata id, or None before the artifact is registered.
        uri: Where the artifact's payload lives (a directory).
        state: An :class:`ArtifactState`.
        name: Optional human-readable name.
    """

    TYPE_NAME: ClassVar[str] = "Artifact"
    PROPERTIES: ClassVar[dict[str, Property]] = {}

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        # cloudpickle rebuilds a class that travels by value as an empty skeleton first (its
        # attributes come after), and drops the skeleton when that class is already loaded: a
        # skeleton waits until its attributes are set (artifact_class registers it then).
        if registry.being_unpickled():
            registry.defer(cls)
            return
        if "TYPE_NAME" not in cls.__dict__:
            cls.TYPE_NAME = cls.__name__
        for key, prop in cls.PROPERTIES.items():
            if not isinstance(prop, Property):
                raise DefinitionError(
                    f"{cls.__name__}.PROPERTIES['{key}'] must be a Property(PropertyType.X), got {prop!r}."
                )
        registry.register(cls)

    def __init__(self) -> None:
        self.id: int | None = None
        self.uri: str = ""
        self.state: ArtifactState = ArtifactState.PENDING
        self.name: str = ""
        self.type_id: int | None = None
        self._properties: dict[str, Any] = {}
        self._custom_properties: dict[str, Any] = {}

    # -- typed properties as attributes ------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        props = type(self).PROPERTIES
        if name in props:
            return self._properties.get(name, _default(props[name].type))
        raise AttributeError(
            f"'{type(self).__name__}' artifact has no attribute '{name}'." + did_you_mean(name, list(props))
        )

    def __setattr__(self, name: str, value: Any) -> None:
        props = type(self).PROPERTIES
        if name in props:
            self._properties[name] = props[name].check(self.TYPE_NAME, name, value)
        elif name in _INSTANCE_FIELDS or name.startswith("_") or hasattr(type(self), name):
            object.__setattr__(self, name, value)
        else:
            raise AttributeError(
                f"'{type(self).__name__}' artifact has no property '{name}'; declare it in "
                f"PROPERTIES or use set_custom_property('{name}', value)." + did_you_mean(name, list(props))
            )

    @property
    def type_name(self) -> str:
        """The artifact type's name in ML Metadata."""
        return self.TYPE_NAME

    @property
    def properties(self) -> dict[str, Any]:
        """A copy of the declared property values that have been set."""
        return dict(self._properties)

    # -- custom properties (TFX names) ------------------------------------------------
    def set_custom_property(self, key: str, value: int | float | str | bool) -> None:
        """Sets a custom property (int, float, str or bool)."""
        if not isinstance(value, (int, float, str)):
            raise DefinitionError(
                f"Custom property '{key}' must be int, float, str or bool, got {type(value).__name__}."
            )
        self._custom_properties[key] = value

    def get_custom_property(self, key: str, default: Any = None) -> Any:
        """Returns a custom property, or `default`."""
        return self._custom_properties.get(key, default)

    def has_custom_property(self, key: str) -> bool:
        """Whether the custom property `key` is set."""
        return key in self._custom_properties

    set_string_custom_property = set_custom_property
    set_int_custom_property = set_custom_property
    set_float_custom_property = set_custom_property
    set_bool_custom_property = set_custom_property

    def get_string_custom_property(self, key: str) -> str:
        """A str custom property, or '' when it is missing or not a str (as TFX reads it)."""
        value = self._custom_properties.get(key)
        return value if isinstance(value, str) else ""

    def get_int_custom_property(self, key: str) -> int:
        """An int custom property, or 0 when it is missing (as TFX reads it)."""
        value = self._custom_properties.get(key)
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)  # a wide int stored as a double (see headrace.metadata.values.set_value)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)  # a wider int stored as a string
        return value if isinstance(value, int) else 0

    def get_float_custom_property(self, key: str) -> float:
        """A float custom property, or 0.0 when it is missing (as TFX reads it)."""
        value = self._custom_properties.get(key)
        return float(value) if isinstance(value, (int, float)) else 0.0

    def get_bool_custom_property(self, key: str) -> bool:
        """A bool custom property, or False when it is missing (as TFX reads it)."""
        return bool(self._custom_properties.get(key, False))

    def set_json_value_custom_property(self, key: str, value: Any) -> None:
        """Sets a custom property to any JSON value (kept as JSON text in ML Metadata)."""
        self._custom_properties[key] = dumps_canonical(value)

    def get_json_value_custom_property(self, key: str) -> Any:
        """A custom property set with `set_json_value_custom_property` (None when missing).

        A plain str custom property that is not JSON text comes back as that str."""
        value = self._custom_properties.get(key)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def has_property(self, key: str) -> bool:
        """Whether the declared property `key` has been set."""
        return key in self._properties

    @property
    def custom_properties(self) -> dict[str, Any]:
        """A copy of the custom properties."""
        return dict(self._custom_properties)

    # -- TFX's read-only views ------------------------------------------------------------
    @property
    def type(self) -> type[Artifact]:
        """The artifact's Python class (TFX's `artifact.type`)."""
        return type(self)

    @property
    def producer_component(self) -> str:
        """The id of the node that produced the artifact ('' when not recorded): TFX's system custom
        property, which headrace's launcher sets on every output it registers."""
        return self.get_string_custom_property("producer_component")

    @producer_component.setter
    def producer_component(self, node_id: str) -> None:
        self.set_custom_property("producer_component", str(node_id))

    @property
    def pipeline_name(self) -> str:
        """The pipeline that produced the artifact ('' when not recorded): TFX's system custom property,
        which headrace's launcher sets on every output it registers."""
        return self.get_string_custom_property("pipeline_name")

    @pipeline_name.setter
    def pipeline_name(self, name: str) -> None:
        self.set_custom_property("pipeline_name", str(name))

    @property
    def artifact_type(self) -> Any:
        """The ML Metadata `ArtifactType` proto of this type (name and declared properties)."""
        return _mlmd_views.artifact_type_proto(self)

    @property
    def mlmd_artifact(self) -> Any:
        """The artifact as an ML Metadata `Artifact` proto (a snapshot: editing it changes nothing)."""
        return _mlmd_views.artifact_proto(self)

    def copy_from(self, other: Artifact) -> None:
        """Copies uri, properties and custom properties from an artifact of the same type (TFX's name)."""
        if other.type_name != self.type_name:
            raise DefinitionError(f"copy_from needs a {self.type_name} artifact, got {other.type_name}.")
        self.uri = other.uri
        self._properties = dict(other._properties)
        self._custom_properties = dict(other._custom_properties)

    def _repr_html_(self) -> str:
        """The notebook view: type, id, state, URI, properties and custom properties."""
        from html import escape

        rows = [("type", self.type_name), ("id", self.id), ("state", self.state.value), ("uri", self.uri)]
        rows += [(f"property: {k}", v) for k, v in sorted(self._properties.items())]
        rows += [(f"custom property: {k}", v) for k, v in sorted(self._custom_properties.items())]
        rows += self._html_extra_rows()
        body = "".join(
            f"<tr><th style='text-align:left'>{escape(str(k))}</th><td>{escape(repr(v) if k != 'uri' else str(v))}</td>"
            "</tr>"
            for k, v in rows
        )
        return f"<table class='headrace-artifact'><caption>{escape(type(self).__name__)}</caption>{body}</table>"

    def _html_extra_rows(self) -> list[tuple[str, Any]]:
        return []

    # -- serialization across processes and into the IR --------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable form, used between the launcher and executor processes."""
        return {
            "type_name": self.TYPE_NAME,
            "id": self.id,
            "uri": self.uri,
            "state": self.state.value,
            "name": self.name,
            "properties": dict(self._properties),
            "custom_properties": dict(self._custom_properties),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Artifact:
        """Rebuilds an artifact from :meth:`to_dict` output, as its registered class if known."""
        klass = registry.artifact_class(data["type_name"]) if cls is Artifact else cls
        if klass is not cls:
            return klass.from_dict(data)  # the registered class reads its own fields (a value, say)
        art = klass()
        if klass is Artifact and data["type_name"] != "Artifact":
            object.__setattr__(art, "TYPE_NAME", data["type_name"])
        art.id = data.get("id")
        art.uri = data.get("uri", "")
        art.state = ArtifactState(data.get("state", "PENDING"))
        art.name = data.get("name", "")
        art._properties = dict(data.get("properties", {}))
        art._custom_properties = dict(data.get("custom_properties", {}))
        return art

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id}, uri={self.uri!r}, state={self.state.value})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Artifact) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def _default(ptype: PropertyType) -> Any:
    return {PropertyType.INT: 0, PropertyType.FLOAT: 0.0, PropertyType.STRING: ""}[ptype]


NULL_PROPERTY = "__is_null__"  # TFX's marker of a value artifact whose value is None


class ValueArtifact(Artifact):
    """An artifact holding one small value.

    As in TFX, the artifact's URI *is* the value's file (``{pipeline_root}/{node}/{key}/{attempt}/value``),
    so ``open(artifact.uri).read()`` reads it; the value is also recorded in ML Metadata as the custom
    property ``value``, so CLIs and lineage queries read it without opening files. An artifact written
    by an earlier headrace, whose URI is a folder holding the file ``value``, still reads (see
    :func:`value_file`).
    """

    TYPE_NAME = "ValueArtifact"
    VALUE_FILE: ClassVar[str] = "value"  # the value file's name: the last part of the URI headrace makes
    ADOPTED_MAX_BYTES: ClassVar[int] = 1 << 20  # a value file the executor wrote, recorded in the store up to this

    def __init__(self) -> None:
        super().__init__()
        self._has_value = False
        self._value: Any = None

    @property
    def value(self) -> Any:
        """The value: set by the producer, read lazily by consumers."""
        if not self._has_value:
            if self._custom_properties.get(NULL_PROPERTY):
                self._value = None  # an Optional output the producer returned None for
            elif "value" in self._custom_properties:
                self._value = self.decode_mlmd(self._custom_properties["value"])
            elif self.uri:
                with open(value_file(self.uri), "rb") as f:
                    self._value = self.decode(f.read())
            else:
                raise ValueError(f"{type(self).__name__} artifact has no value yet.")
            self._has_value = True
        return self._value

    @value.setter
    def value(self, value: Any) -> None:
        self._value = self.check_value(value)
        self._has_value = True

    def read(self) -> Any:
        """Reads the value from the store or the file at `uri` and returns it (TFX's `ValueArtifact.read`)."""
        return self.value

    def _html_extra_rows(self) -> list[tuple[str, Any]]:
        try:
            return [("value", self.value)]
        except (OSError, ValueError):
            return [("value", "(not readable)")]

    @property
    def has_value(self) -> bool:
        """Whether a value was set on this object (by a producer)."""
        return self._has_value

    def persist_value(self) -> None:
        """Writes the value's file at `uri` and records the `value` custom property; run on each value
        output once its executor has returned.

        A value set on the artifact is written. A null value (an Optional output that was None) is an empty
        file, as TFX writes it. With no value set, a file the executor wrote at `uri` itself (TFX code:
        ``open(artifact.uri, 'w')``) is kept and its value recorded when it decodes; with no file either,
        an empty one is written, as TFX's launcher leaves it before the executor runs.
        """
        import os

        path = value_file(self.uri)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        if self._has_value:
            with open(path, "wb") as f:
                f.write(self.encode(self._value))
            self._custom_properties["value"] = self.encode_mlmd(self._value)
            return
        if not self._custom_properties.get(NULL_PROPERTY) and os.path.isfile(path):
            if os.path.getsize(path) <= self.ADOPTED_MAX_BYTES:
                try:
                    with open(path, "rb") as f:
                        self.value = self.decode(f.read())
                except (ValueError, DefinitionError):
                    return  # not this type's encoding: kept as written, read (and refused) by its consumer
                self._custom_properties["value"] = self.encode_mlmd(self._value)
            return
        with open(path, "wb"):
            pass

    # Subclasses override these five.
    def check_value(self, value: Any) -> Any:
        """Returns the value to store, or raises DefinitionError for a value of the wrong type."""
        return value

    def encode(self, value: Any) -> bytes:
        """The value as the bytes of its file."""
        return str(value).encode()

    def decode(self, data: bytes) -> Any:
        """The value from the bytes of its file."""
        return data.decode()

    def encode_mlmd(self, value: Any) -> Any:
        """The value as ML Metadata records it (custom property `value`)."""
        return value

    def decode_mlmd(self, stored: Any) -> Any:
        """The value from ML Metadata's custom property `value`."""
        return stored

    def to_dict(self) -> dict[str, Any]:
        """As Artifact.to_dict, with the value when one was set."""
        data = super().to_dict()
        if self._has_value:
            data["value"] = self._value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Artifact:
        """As Artifact.from_dict, keeping a value carried in the dict."""
        art = super().from_dict(data)
        if "value" in data and isinstance(art, ValueArtifact):
            art._value = data["value"]
            art._has_value = True
        return art


def value_file(uri: str) -> str:
    """Where a value artifact's value is: the file at `uri` (TFX's layout, and headrace's now), or
    `{uri}/value` when `uri` is a folder (value artifacts an earlier headrace wrote keep reading)."""
    import os

    return os.path.join(uri, ValueArtifact.VALUE_FILE) if os.path.isdir(uri) else uri
