"""The `Metadata` handle: artifact, execution and context types, contexts, and artifact conversions.

Opening the store and retrying its calls is `headrace.metadata.connection`'s; values and events are
`headrace.metadata.values`'.
"""

from __future__ import annotations

from typing import Any

from headrace.errors import MetadataError
from headrace.metadata.connection import Connection
from headrace.metadata.values import get_value, set_value
from headrace.types.artifact import Artifact, ArtifactState
from headrace.types.registry import artifact_class

# Context types headrace records.
PIPELINE = "pipeline"
PIPELINE_RUN = "pipeline_run"
NODE = "node"
CACHE = "cache"


class Metadata(Connection):
    """A store handle with cached type ids and retrying calls.

    Not thread-safe: use one per thread or process.
    """

    def __init__(self, config: Any):
        from ml_metadata.proto import metadata_store_pb2

        super().__init__(config)
        self.pb = metadata_store_pb2
        self._artifact_type_ids: dict[str, int] = {}
        self._artifact_type_names: dict[int, str] = {}
        self._execution_type_ids: dict[str, int] = {}
        self._context_type_ids: dict[str, int] = {}
        self._contexts: dict[tuple[str, str], Any] = {}

    # -- types --------------------------------------------------------------------------
    def _type_id(self, kind: str, name: str, properties: dict[str, int]) -> int:
        """Finds a type by name (a cheap read), registering it only if it is missing or lacks a
        property (a write), so an unchanged pipeline starts without type writes."""
        from ml_metadata import errors as mlmd_errors

        try:
            existing = self.call(getattr(self.store, f"get_{kind}_type"), name)
        except MetadataError as e:
            if not isinstance(e.__cause__, mlmd_errors.NotFoundError):
                raise
            existing = None
        if existing is not None and all(existing.properties.get(k) == v for k, v in properties.items()):
            return int(existing.id)
        proto = getattr(self.pb, kind.title().replace("_", "") + "Type")(name=name)
        for key, value in properties.items():
            proto.properties[key] = value
        put = getattr(self.store, f"put_{kind}_type")
        return int(self.call(put, proto, can_add_fields=True, can_omit_fields=True))

    def artifact_type_id(self, name: str, properties: dict[str, str]) -> int:
        """Registers (or finds) an artifact type; new properties are added to an existing type."""
        found = self._artifact_type_ids.get(name)
        if found is None:
            wanted = {k: getattr(self.pb, "DOUBLE" if p == "FLOAT" else p) for k, p in properties.items()}
            try:
                found = self._type_id("artifact", name, wanted)
            except MetadataError as e:
                raise MetadataError(
                    f"Artifact type '{name}' conflicts with the type already registered in {self.describe()} "
                    f"(a property changed type?): {e.__cause__}"
                ) from e
            self._artifact_type_ids[name] = found
            self._artifact_type_names[found] = name
        return found

    def artifact_type_name(self, type_id: int) -> str:
        """The name of an artifact type id."""
        name = self._artifact_type_names.get(type_id)
        if name is None:
            [t] = self.call(self.store.get_artifact_types_by_id, [type_id])
            name = self._artifact_type_names[type_id] = t.name
            self._artifact_type_ids[t.name] = type_id
        return name

    def execution_type_id(self, name: str) -> int:
        """Registers (or finds) an execution type."""
        found = self._execution_type_ids.get(name)
        if found is None:
            found = self._execution_type_ids[name] = self._type_id("execution", name, {})
        return found

    def context_type_id(self, name: str) -> int:
        """Registers (or finds) a context type."""
        found = self._context_type_ids.get(name)
        if found is None:
            found = self._context_type_ids[name] = self._type_id("context", name, {})
        return found

    # -- contexts -----------------------------------------------------------------------
    def get_context(self, type_name: str, name: str) -> Any | None:
        """A context by type and name, or None."""
        key = (type_name, name)
        ctx = self._contexts.get(key)
        if ctx is None:
            ctx = self.call(self.store.get_context_by_type_and_name, type_name, name)
            if ctx is not None and type_name != CACHE:
                self._contexts[key] = ctx
        return ctx

    def ensure_contexts(self, wanted: list[tuple[str, str]]) -> list[Any]:
        """Gets or creates contexts (type name, name), in one write for the missing ones."""
        out: list[Any] = [self.get_context(t, n) for t, n in wanted]
        missing = [i for i, c in enumerate(out) if c is None]
        if missing:
            new = [self.pb.Context(type_id=self.context_type_id(wanted[i][0]), name=wanted[i][1]) for i in missing]
            try:
                ids = self.call(self.store.put_contexts, new)
            except MetadataError:
                # Another process created one of them first: read them all back.
                self._contexts.clear()
                return [self._must_get(t, n) for t, n in wanted]
            for i, ctx, cid in zip(missing, new, ids, strict=True):
                ctx.id = cid
                out[i] = ctx
                self._contexts[wanted[i]] = ctx
        return out

    def _must_get(self, type_name: str, name: str) -> Any:
        ctx = self.get_context(type_name, name)
        if ctx is None:
            raise MetadataError(f"Context {type_name}/{name} vanished from {self.describe()}.")
        return ctx

    # -- conversions ----------------------------------------------------------------------
    def artifact_to_proto(self, art: Artifact, properties_decl: dict[str, str] | None = None) -> Any:
        """An Artifact as an ML Metadata proto (registering its type if needed)."""
        decl = properties_decl if properties_decl is not None else {k: p.type.value for k, p in art.PROPERTIES.items()}
        proto = self.pb.Artifact(type_id=self.artifact_type_id(art.type_name, decl), uri=art.uri)
        if art.id is not None:
            proto.id = art.id
        proto.state = self.pb.Artifact.State.Value(art.state.value)
        for key, value in art._properties.items():
            set_value(proto.properties[key], value, declared=True)
        for key, value in art._custom_properties.items():
            set_value(proto.custom_properties[key], value)
        return proto

    def artifact_from_proto(self, proto: Any) -> Artifact:
        """An ML Metadata artifact proto as an Artifact of its registered class."""
        type_name = proto.type or self.artifact_type_name(proto.type_id)
        cls = artifact_class(type_name)
        art = cls()
        if cls is Artifact:
            object.__setattr__(art, "TYPE_NAME", type_name)
        art.id = proto.id
        art.uri = proto.uri
        art.type_id = proto.type_id
        art.state = ArtifactState(self.pb.Artifact.State.Name(proto.state))
        art._properties = {k: get_value(v) for k, v in proto.properties.items()}
        art._custom_properties = {k: get_value(v) for k, v in proto.custom_properties.items()}
        return art
