"""ML Metadata: connection configs, the store handle and the read API.

Importing this package is light; `ml_metadata` itself is imported when a store is opened.
"""

from headrace.metadata.config import (
    connection_config_from_uri,
    mysql_metadata_connection_config,
    read_only_connection_config,
    sqlite_metadata_connection_config,
)
from headrace.metadata.connection import open_store
from headrace.metadata.reader import (
    ArtifactInfo,
    ExecutionInfo,
    LineageGraph,
    LineageNode,
    MetadataReader,
    RunInfo,
)
from headrace.metadata.store import Metadata

__all__ = [
    "ArtifactInfo",
    "ExecutionInfo",
    "LineageGraph",
    "LineageNode",
    "Metadata",
    "MetadataReader",
    "RunInfo",
    "connection_config_from_uri",
    "mysql_metadata_connection_config",
    "open_store",
    "read_only_connection_config",
    "sqlite_metadata_connection_config",
]
