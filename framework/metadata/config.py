"""ML Metadata connection configs: SQLite (the embedded default) and MySQL/MariaDB."""

from __future__ import annotations

import os
from typing import Any

from headrace.errors import DefinitionError, MetadataError

DEFAULT_SQLITE_NAME = "metadata.sqlite"
PASSWORD_ENV = "MYSQL_PWD"  # where a process that did not build the pipeline finds the MySQL password

# MySQL passwords of configs compiled in this process, by (host, port, database, user): the IR never
# carries a password, so the process that compiled a pipeline finds it here and any other process
# (an Airflow task, `headrace run` of an IR file) takes it from PASSWORD_ENV.
_PASSWORDS: dict[tuple[str, int, str, str], str] = {}


def _mysql_key(mysql: dict[str, Any]) -> tuple[str, int, str, str]:
    return (mysql.get("host", ""), int(mysql.get("port", 0)), mysql.get("database", ""), mysql.get("user", ""))


def sqlite_metadata_connection_config(path: str | os.PathLike[str]) -> Any:
    """A ConnectionConfig for a SQLite file (created on first use, with its directory)."""
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = os.path.abspath(os.fspath(path))
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return config


def read_only_connection_config(config: Any) -> Any:
    """A copy of `config` for a reader that must never write: a SQLite store is opened read-only (no
    schema creation or migration, no journal-mode change, no write lock), so it never blocks a writer.
    A MySQL/MariaDB store's database is never created (the server isolates readers from writers)."""
    from ml_metadata.proto import metadata_store_pb2

    copy = metadata_store_pb2.ConnectionConfig()
    copy.CopyFrom(config)
    if copy.WhichOneof("config") == "sqlite":
        copy.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    elif copy.WhichOneof("config") == "mysql":
        copy.mysql.skip_db_creation = True
    return copy


def is_read_only(config: Any) -> bool:
    """Whether `config` is a SQLite store opened read-only (see :func:`read_only_connection_config`)."""
    from ml_metadata.proto import metadata_store_pb2

    return (
        config.WhichOneof("config") == "sqlite"
        and config.sqlite.connection_mode == metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    )


def mysql_metadata_connection_config(host: str, port: int, database: str, username: str, password: str = "") -> Any:
    """A ConnectionConfig for MySQL or MariaDB (the database is created if missing)."""
    from ml_metadata.proto import metadata_store_pb2

    if not isinstance(port, int) or not 0 < port < 65536:
        raise DefinitionError(f"MySQL port must be an int in 1..65535, got {port!r}.")
    config = metadata_store_pb2.ConnectionConfig()
    config.mysql.host = host
    config.mysql.port = port
    config.mysql.database = database
    config.mysql.user = username
    config.mysql.password = password
    return config


def default_connection_config(pipeline_root: str) -> Any:
    """SQLite under the pipeline root: the embedded default."""
    return sqlite_metadata_connection_config(os.path.join(pipeline_root, DEFAULT_SQLITE_NAME))


def connection_config_to_dict(config: Any) -> dict[str, Any] | None:
    """A ConnectionConfig as the IR's dict, without the MySQL password (kept in this process only:
    see :func:`connection_config_from_dict`)."""
    if config is None:
        return None
    from google.protobuf import json_format

    data: dict[str, Any] = json_format.MessageToDict(config, preserving_proto_field_name=True)
    mysql = data.get("mysql")
    if mysql is not None and "password" in mysql:
        _PASSWORDS[_mysql_key(mysql)] = mysql.pop("password")
    return data


def connection_config_from_dict(data: dict[str, Any] | None, pipeline_root: str) -> Any:
    """The IR's connection dict back as a ConnectionConfig (the default when None). A MySQL config's
    password is the one compiled in this process, else the environment variable MYSQL_PWD's."""
    if not data:
        return default_connection_config(pipeline_root)
    from google.protobuf import json_format
    from ml_metadata.proto import metadata_store_pb2

    mysql = data.get("mysql")
    if isinstance(mysql, dict) and not mysql.get("password"):
        password = _PASSWORDS.get(_mysql_key(mysql)) or os.environ.get(PASSWORD_ENV, "")
        data = {**data, "mysql": {**mysql, "password": password}}
    try:
        return json_format.ParseDict(data, metadata_store_pb2.ConnectionConfig())
    except json_format.ParseError as e:  # an IR written by hand or by another tool: say so, no traceback
        raise MetadataError(
            f"The IR's metadata_connection is not an ML Metadata ConnectionConfig: {str(e).splitlines()[0]} "
            "Recompile the pipeline, or pass --metadata."
        ) from None


def connection_config_from_uri(uri: str) -> Any:
    """A config from a CLI-style string: a SQLite file path, or mysql://user:password@host:port/database.
    A MySQL URI without a password takes it from MYSQL_PWD, as MySQL's own clients do."""
    if uri.startswith("mysql://"):
        from urllib.parse import unquote, urlparse

        u = urlparse(uri)
        if not u.hostname or not u.path.strip("/"):
            raise DefinitionError(f"MySQL metadata URI must look like mysql://user:password@host:port/db, got {uri!r}.")
        return mysql_metadata_connection_config(
            u.hostname,
            u.port or 3306,
            u.path.strip("/"),
            unquote(u.username or ""),
            unquote(u.password) if u.password is not None else os.environ.get("MYSQL_PWD", ""),
        )
    return sqlite_metadata_connection_config(uri)


def describe(config: Any) -> str:
    """A short human-readable description of where the store is (no password)."""
    kind = config.WhichOneof("config")
    if kind == "sqlite":
        return config.sqlite.filename_uri
    if kind == "mysql":
        m = config.mysql
        return f"mysql://{m.user}@{m.host}:{m.port}/{m.database}"
    return kind or "unknown"
