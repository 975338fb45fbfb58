"""What the `headrace` commands share: finding the store, reading ids, printing values and times."""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from headrace.cli.loader import UserError, load_pipeline

F = TypeVar("F", bound=Callable[..., Any])
METADATA_HELP = "ML Metadata store: a SQLite path or mysql://user:password@host:port/db (env HEADRACE_METADATA)."


def store_options(command: F) -> F:
    """The options every inspecting command takes to find the store: --metadata and --pipeline."""
    command = click.option("--pipeline", "pipeline_file", help="Use this pipeline file's store.")(command)
    return click.option("--metadata", help=METADATA_HELP)(command)


def metadata_store(metadata: str | None, pipeline_file: str | None) -> Any:
    """The store to read, opened."""
    from headrace.metadata import Metadata

    return Metadata(metadata_config(metadata, pipeline_file, must_exist=True))


def metadata_config(metadata: str | None, pipeline_file: str | None, must_exist: bool) -> Any:
    """The store named by --metadata, HEADRACE_METADATA or a pipeline file. Commands that only
    read (and resume) need it to exist: a mistyped SQLite path is an error, not a new empty store."""
    from headrace.metadata import connection_config_from_uri
    from headrace.metadata.config import connection_config_from_dict

    uri = metadata or os.environ.get("HEADRACE_METADATA")
    config = None
    if uri:
        config = connection_config_from_uri(uri)
    elif pipeline_file:
        from headrace.compiler import compile_pipeline

        ir = compile_pipeline(load_pipeline(pipeline_file))
        config = connection_config_from_dict(ir.metadata_connection, os.path.abspath(ir.pipeline_root))
    if config is not None:
        path = config.sqlite.filename_uri if config.WhichOneof("config") == "sqlite" else None
        if must_exist and path and not os.path.exists(path):
            raise UserError(f"No metadata store at {path}: check the path (or run a pipeline first).")
        return config
    raise UserError(
        "Which metadata store? Pass --metadata PATH (printed at the end of every run), --pipeline FILE, "
        "or set HEADRACE_METADATA."
    )


class ArtifactId(click.ParamType):
    """An artifact id, as `runs show` prints it (#11) or bare (11)."""

    name = "ARTIFACT_ID"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        text = str(value).strip().lstrip("#")
        if not text.isdigit():
            self.fail(f"{value!r} is not an artifact id (a number such as 11 or #11, as `runs show` prints).")
        return int(text)


def shown(value: Any) -> str:
    """A property as one line: strings as they are, the rest as JSON (as close to what was stored)."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def when(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S") if ms else "-"


def duration(start_ms: int, end_ms: int) -> str:
    return f"{(end_ms - start_ms) / 1000:.2f}s" if start_ms and end_ms and end_ms >= start_ms else "-"
