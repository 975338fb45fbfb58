"""The one layout every page shares, and escaping: pages are Jinja2 templates with autoescaping on
for everything, so a name, property or log line a user controls always shows as text.

A page module calls `page(request, "runs.html", title, **context)`; templates extend `base.html` and
use the helpers registered here (`url`, `when`, `duration`, `shown`, `state_class`).
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import jinja2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

T = TypeVar("T")

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")),
    autoescape=True,  # every template, whatever its name
    undefined=jinja2.StrictUndefined,  # a missing value is a bug, not an empty cell
    trim_blocks=True,
    lstrip_blocks=True,
)


def when(ms: int | float | None) -> str:
    """An epoch-milliseconds time in local time, or '-'."""
    return datetime.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S") if ms else "-"


def duration(seconds: float | None) -> str:
    """Seconds as '0.42s', '3m 05s' or '2h 03m', or '-'."""
    if seconds is None or seconds < 0:
        return "-"
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes < 60 else f"{minutes // 60}h {minutes % 60:02d}m"


def shown(value: Any) -> str:
    """A property's value as text: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def state_class(state: str | None) -> str:
    """The CSS class of a state badge (only letters: a state read from the store is never trusted)."""
    text = "".join(c for c in (state or "NOTRUN") if c.isalpha()).upper()
    return f"state-{text or 'NOTRUN'}"


def why(run: Any) -> str:
    """Why a run ran, as recorded: what started it (a runner, a scheduler's run), whether it was
    resumed, and the process driving its latest attempt."""
    text = run.started_by or "started"
    if run.scheduler_run:
        text += f" for Airflow run {run.scheduler_run}"
    if run.runner:
        text += f" on {run.runner}"
    if run.trigger:
        text += f" ({run.trigger_text})"
    return text + ("; resumed" if run.resumed else "")


def url(request: Request, name: str, query: dict[str, Any] | None = None, **params: Any) -> str:
    """The path of route `name` with its parameters percent-encoded (ids may hold any character),
    and an optional query string (empty values left out)."""
    encoded = {k: quote(str(v), safe="") for k, v in params.items()}
    path = str(request.app.url_path_for(name, **encoded))
    kept = {k: v for k, v in (query or {}).items() if v not in (None, "", [])}
    return path + (f"?{urlencode(kept, doseq=True)}" if kept else "")


def page(request: Request, template: str, title: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page in the shared layout."""
    html = _ENV.get_template(template).render(
        request=request,
        title=title,
        store=request.app.state.store.describe(),
        url=lambda name, query=None, **params: url(request, name, query, **params),
        static=lambda path: url(request, "static", path=path).replace("%2F", "/"),
        when=when,
        duration=duration,
        shown=shown,
        state_class=state_class,
        why=why,
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers={"cache-control": "no-store"})


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """A page that says what is wrong (a run or artifact that is not in the store, a bad parameter)."""
    return page(request, "error.html", f"{status}", status_code=status, message=message)


def found(read: Callable[..., T], *args: Any) -> T:
    """`read(*args)` (a reader's lookup of a run, execution or artifact); NotInStoreError (there is no
    such thing in the store) becomes a 404 page saying so. Any other MetadataError (the store cannot be
    read) goes on to the 503 page."""
    from headrace.errors import NotInStoreError

    try:
        return read(*args)
    except NotInStoreError as e:
        raise HTTPException(404, detail=str(e)) from None
