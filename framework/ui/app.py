"""The ASGI application: the pages' routes, the UI's own static files, error pages, and the security
layer around it all."""

from __future__ import annotations

import os
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from headrace.errors import MetadataError
from headrace.ui.pages import PAGES
from headrace.ui.render import error_page
from headrace.ui.security import Guard
from headrace.ui.store import Store

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":  # no route: Starlette's own detail
        detail = f"Nothing at {request.url.path}: start from the runs page."
    return error_page(request, exc.status_code, detail)


async def _store_error(request: Request, exc: Exception) -> Response:
    """The store cannot be read (a MySQL server down, a store replaced): a page that says so, not a 500."""
    return error_page(request, 503, f"The ML Metadata store cannot be read now: {exc}")


def create_app(config: Any, token: str | None = None, loopback: bool = True, port: int = 0) -> Any:
    """The UI over the ML Metadata store `config` (opened read-only), wrapped in its security layer.

    Args:
        config: An ML Metadata ConnectionConfig.
        token: The access token every request must carry, or None (loopback binds only).
        loopback: The server is bound to a loopback address: requests must name a loopback host.
        port: The port served (the token cookie's name carries it, so two UIs on one host do not mix).
    """
    routes = [route for module in PAGES for route in module.ROUTES]
    routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))
    handlers = {HTTPException: _http_error, MetadataError: _store_error}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.store = Store(config)
    return Guard(app, token=token, loopback=loopback, port=port)
