"""The UI's security layer: one ASGI wrapper every request passes, and the rule for serving files.

- Read-only: only GET and HEAD are answered.
- A UI bound to a loopback address answers only requests whose Host is a loopback name (a web page
  elsewhere cannot reach it through DNS rebinding).
- With an access token (required for a non-loopback bind), every request carries it: `?token=` on a
  first visit (answered with a cookie and a redirect that drops it from the address bar), then the
  cookie, or an `Authorization: Bearer` header.
- Every response gets a Content-Security-Policy (the UI's own scripts and styles only, nothing from
  elsewhere), nosniff, no referrer, and may be framed only by the UI itself. A response that set its
  own policy (a served artifact file: sandboxed) keeps it.
- Files are served only from inside an artifact's URI that lies inside the pipeline root of the run
  that produced it, after resolving symlinks (see `resolve_inside`).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
# An artifact file, even opened on its own, runs in an opaque origin: it can read nothing of the UI's.
FILE_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or address to bind or a Host header's name) is this machine only."""
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_inside(base: str, relative: str, *roots: str) -> str | None:
    """The real path of `relative` under `base` if it (symlinks resolved) lies inside `base` and inside
    every one of `roots`; else None. `relative` is the decoded URL path: an absolute path, `..`, or a
    symlink that leads out is refused, whatever encoding it arrived in."""
    if "\x00" in relative or os.path.isabs(relative) or relative.startswith(("/", "\\")):
        return None
    real_base = os.path.realpath(base)
    target = os.path.realpath(os.path.join(real_base, relative))
    for outer in (real_base, *(os.path.realpath(r) for r in roots)):
        if target != outer and not target.startswith(outer.rstrip(os.sep) + os.sep):
            return None
    return target


class Guard:
    """Wraps the app: read-only methods, the Host check, the access token, the response headers."""

    def __init__(self, app: ASGIApp, token: str | None, loopback: bool, port: int):
        self.app = app
        self.token = token
        self.loopback = loopback
        self.cookie = f"headrace_ui_{port}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _plain(send, *refusal)
            return
        if self.token and self._query_token(scope) is not None:
            await self._redirect_with_cookie(scope, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _v in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", PAGE_POLICY.encode()))
                headers += [(k, v) for k, v in _HEADERS if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        if scope["method"] not in ("GET", "HEAD"):
            return 405, "headrace ui is read-only: only GET and HEAD are answered.\n", [(b"allow", b"GET, HEAD")]
        host = _header(scope, b"host")
        name = host.partition("]")[0] + "]" if host.startswith("[") else host.partition(":")[0]
        if self.loopback and not is_loopback(name):
            return 403, f"This headrace ui answers only on localhost, not for host {host!r}.\n", []
        if self.token:
            given = self._query_token(scope) or self._cookie_token(scope) or self._bearer_token(scope)
            if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
                return (
                    401,
                    "This headrace ui needs its access token: open the URL `headrace ui` printed "
                    "(it ends in ?token=...), or send the header 'Authorization: Bearer TOKEN'.\n",
                    [],
                )
        return None

    def _query_token(self, scope: Scope) -> str | None:
        for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
            if key == "token":
                return value
        return None

    def _cookie_token(self, scope: Scope) -> str | None:
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(_header(scope, b"cookie"))
        except Exception:  # noqa: BLE001 - a malformed cookie header is no token
            return None
        found = cookies.get(self.cookie)
        return found.value if found is not None else None

    def _bearer_token(self, scope: Scope) -> str | None:
        kind, _, value = _header(scope, b"authorization").partition(" ")
        return value.strip() if kind.lower() == "bearer" and value.strip() else None

    async def _redirect_with_cookie(self, scope: Scope, send: Send) -> None:
        """A first visit with ?token=: the cookie, and the same address without the token."""
        rest = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1")) if k != "token"]
        path = bytes(scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        path = "/" + path.lstrip("/")  # never '//host': a redirect stays on this server
        location = path + (f"?{urlencode(rest)}" if rest else "")
        cookie = f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict"
        await _plain(send, 303, "", [(b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode())])


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


async def _plain(send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]]) -> None:
    body = text.encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"content-security-policy", PAGE_POLICY.encode()),
        *_HEADERS,
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
