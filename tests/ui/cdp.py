"""A small Chrome DevTools Protocol client: Debian's headless Chromium driven over its websocket
(websocket-client), as a person's browser would load the UI: pages, their console, screenshots."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from typing import Any

import websocket


class Browser:
    """One headless Chromium process and one tab, for a whole test session."""

    def __init__(self, chromium: str):
        self.profile = tempfile.mkdtemp(prefix="headrace-ui-chromium-")
        self.proc = subprocess.Popen(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
                f"--user-data-dir={self.profile}",
                "--window-size=1280,1000",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        port = self._devtools_port()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(t for t in json.load(r) if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self._next = 0
        self.events: list[dict[str, Any]] = []
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")

    def _devtools_port(self) -> int:
        assert self.proc.stderr is not None
        deadline = time.monotonic() + 30
        seen = []
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                break
            seen.append(line)
            found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if found:
                return int(found.group(1))
        raise RuntimeError("Chromium did not start its DevTools endpoint:\n" + "".join(seen)[-3000:])

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Sends a command and returns its result; events that arrive meanwhile are kept in `events`."""
        self._next += 1
        wanted = self._next
        self.ws.send(json.dumps({"id": wanted, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            self._event(message)

    def _event(self, message: dict[str, Any]) -> None:
        """Keeps an event; a JavaScript dialog (which would block the page) is recorded and dismissed."""
        if "method" not in message:
            return  # the answer to a dialog's dismissal
        self.events.append(message)
        if message["method"] == "Page.javascriptDialogOpening":
            self._next += 1  # its answer is not waited for: `call` waits for its own id only
            dismiss = {"id": self._next, "method": "Page.handleJavaScriptDialog", "params": {"accept": True}}
            self.ws.send(json.dumps(dismiss))

    def _drain(self, seconds: float) -> None:
        """Reads events for `seconds`."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.ws.settimeout(max(0.01, end - time.monotonic()))
            try:
                self._event(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                break
            finally:
                self.ws.settimeout(30)

    def open(self, url: str, settle_s: float = 0.3) -> None:
        """Loads `url` and waits for its load event (and `settle_s` more, for late console messages)."""
        self.events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 30
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not finish loading")
            self._drain(0.2)
        self._drain(settle_s)

    def eval(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = 30) -> Any:
        """Polls a JavaScript expression until it is truthy (events keep being collected)."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = self.eval(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"never true: {expression}")
            self._drain(0.25)

    def console_errors(self) -> list[str]:
        """Errors the page logged since it was opened: console.error, uncaught exceptions, and the
        browser's own (a blocked resource, a CSP violation, a failed load)."""
        found = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                found.append(str(params.get("exceptionDetails", {}).get("text")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append(f"{params['entry'].get('text')} ({params['entry'].get('url', '')})")
        return found

    def dialogs(self) -> list[str]:
        """Messages of JavaScript dialogs (alert, confirm) the page tried to open."""
        return [
            e["params"].get("message", "") for e in self.events if e.get("method") == "Page.javascriptDialogOpening"
        ]

    def screenshot(self, path: str) -> bytes:
        """A PNG of the whole page, saved at `path`."""
        width, height = self.eval("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        clip = {"x": 0, "y": 0, "width": max(width, 1), "height": min(max(height, 1), 4000), "scale": 1}
        data = base64.b64decode(
            self.call("Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True)["data"]
        )
        with open(path, "wb") as f:
            f.write(data)
        return data

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)
