"""`headrace ui`: a local web UI over ML Metadata (the `[ui]` extra)."""

from __future__ import annotations

import os

import click

from headrace.cli.common import metadata_config, store_options
from headrace.cli.loader import UserError

TOKEN_ENV = "HEADRACE_UI_TOKEN"


@click.command(name="ui")
@store_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (not loopback: token).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="0: any free port.")
@click.option("--token", help=f"Access token every request must carry (env {TOKEN_ENV}; generated off loopback).")
def ui(metadata: str | None, pipeline_file: str | None, host: str, port: int, token: str | None) -> None:
    """Serve a read-only web UI over the store: runs, a run's live graph, executions, artifacts."""
    config = metadata_config(metadata, pipeline_file, must_exist=True)
    try:
        from headrace.ui.server import serve
    except ImportError as e:
        if (e.name or "").partition(".")[0] == "headrace":
            raise  # headrace's own module is missing: a broken installation, not a missing extra
        raise UserError(f"headrace ui needs the [ui] extra ({e}): pip install 'headrace[ui]'") from None
    serve(config, host=host, port=port, token=token or os.environ.get(TOKEN_ENV) or None)


COMMANDS = [ui]
