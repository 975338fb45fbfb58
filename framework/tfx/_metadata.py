"""TFX's `tfx.orchestration.metadata.Metadata`: a connection handle used as a context manager."""

from __future__ import annotations

import copy
from typing import Any

from headrace.metadata.store import Metadata as _StoreHandle


class Metadata:
    """A handle on an ML Metadata store; `with Metadata(config) as m:` connects, `m.store` is the
    ml-metadata `MetadataStore`. Not thread-safe. Nested `with` on one object is allowed.

    Args:
        connection_config: An ML Metadata `ConnectionConfig` (e.g. from `sqlite_metadata_connection_config`).
    """

    def __init__(self, connection_config: Any) -> None:
        self._connection_config = connection_config
        self._handle: _StoreHandle | None = None
        self._users = 0

    def __enter__(self) -> Metadata:
        if self._handle is None:
            self._handle = _StoreHandle(self._connection_config)
        self._users += 1
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._users -= 1
        if self._users == 0:
            self._handle = None

    @property
    def handle(self) -> _StoreHandle:
        """headrace's store handle (`headrace.metadata.Metadata`) behind this object.

        Raises:
            RuntimeError: outside `with`.
        """
        if self._handle is None:
            raise RuntimeError("Metadata object is not in enter state; use it as `with Metadata(config) as m:`.")
        return self._handle

    @property
    def store(self) -> Any:
        """The ml-metadata `MetadataStore` (only inside `with`)."""
        return self.handle.store

    @property
    def connection_config(self) -> Any:
        """A copy of the connection config."""
        return copy.deepcopy(self._connection_config)


__all__ = ["Metadata"]
