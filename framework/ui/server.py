"""Serving the UI: checks the bind and the access token, binds, prints the URL, runs uvicorn."""

from __future__ import annotations

import secrets
import socket
import sys
from typing import Any

from headrace.errors import HeadraceError
from headrace.ui.app import create_app
from headrace.ui.security import is_loopback


class UIError(HeadraceError):
    """`headrace ui` cannot start as asked (a port in use, a non-loopback bind without a token)."""


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as e:
        sock.close()
        raise UIError(
            f"Cannot listen on {host}:{port}: {e.strerror or e}. Pass another --port (0 picks a free one)."
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(config: Any, host: str = "127.0.0.1", port: int = 8080, token: str | None = None) -> None:
    """Serves the UI over the store `config` until interrupted.

    A non-loopback `host` needs an access token: `token`, or one generated here; the printed URL
    carries it. On a loopback host a given token is required too.
    """
    import uvicorn

    loopback = is_loopback(host)
    if not loopback and not token:
        token = secrets.token_urlsafe(24)
    sock = _bind(host, port)
    port = sock.getsockname()[1]
    app = create_app(config, token=token, loopback=loopback, port=port)
    app.app.state.store.check()  # a store that cannot be read fails now, with its message
    shown_host = f"[{host.strip('[]')}]" if ":" in host else host
    address = f"http://{shown_host}:{port}/" + (f"?token={token}" if token else "")
    print(f"headrace ui: {address}", flush=True)
    print(f"  store: {app.app.state.store.describe()} (read-only); Ctrl-C stops", flush=True)
    if not loopback:
        print(f"  listening on {host} (not only this machine): every request needs the token", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        sys.stdout.flush()
