"""Scenario 16, the UI under write load: `headrace ui` keeps answering while 8 processes write runs into
the same SQLite store, and never blocks a writer.

8 writer processes each publish executions (each in its own run) through headrace's own path, as in
scenario 5, twice on fresh stores: once alone (the baseline), once while `headrace ui` serves the store and
two threads ask it for the runs page, the newest run's page and its JSON status without pause.

Violations: a UI request that fails or takes over 10 s; a writer error, or a publish lost or torn (the
store audit of scenario 5); the UI process holding the store's write-lock file open (a reader must never
queue writers); a writer stalled by the reader (the writers' p99 with the UI over 10x the baseline's
p99 + 2 s: on this 2-core machine the UI's CPU alone slows writers down, a lock wait would be seconds).
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from _reliability import FULL, record, trials
from test_s05_metadata_contention import _one_node_ir, _pct, publish_concurrently

from headrace.metadata import Metadata, sqlite_metadata_connection_config

WRITERS = 8
PUBLISHES = trials(100, 12)
READERS = 2
SLOW_REQUEST_S = 10.0
_TIMEOUT_S = 900


def _writers(db: str, ir_json: str) -> tuple[list[float], list[str]]:
    """WRITERS processes publishing PUBLISHES executions each; (latencies, errors incl. lost/torn)."""
    pub = publish_concurrently(db, ir_json, WRITERS, PUBLISHES)
    lost = [f"publish of run {r} lost" for r in pub.lost]
    return pub.latencies, pub.errors + pub.torn + lost


class _Reader(threading.Thread):
    """Asks the UI for the runs page, the newest run's page and its status, until told to stop."""

    def __init__(self, port: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.stop = port, stop
        self.latencies: list[float] = []
        self.failures: list[str] = []

    def _get(self, path: str) -> str:
        t = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read().decode(errors="replace")
        except OSError as e:
            self.failures.append(f"{path}: {type(e).__name__}: {e}")
            return ""
        finally:
            conn.close()
        seconds = time.perf_counter() - t
        self.latencies.append(seconds)
        if response.status != 200:
            self.failures.append(f"{path}: HTTP {response.status}: {body[:300]}")
        elif seconds > SLOW_REQUEST_S:
            self.failures.append(f"{path}: answered in {seconds:.1f} s")
        return body

    def run(self) -> None:
        while not self.stop.is_set():
            newest = re.search(r'href="/runs/([^"?]+)"', self._get("/runs"))
            if newest:
                self._get(f"/runs/{newest.group(1)}")
                self._get(f"/api/status/{newest.group(1)}")


def _holds_lock(pid: int, lock: str) -> bool:
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == lock:
                return True
        except OSError:
            continue
    return False


def test_ui_answers_while_8_processes_write_and_never_blocks_them(write_module, tmp_path: Path):
    started = time.perf_counter()
    violations: list[str] = []
    stores = {}
    for phase in ("alone", "with_ui"):
        root = tmp_path / phase
        db = str(root / "metadata.sqlite")
        ir_json = _one_node_ir(write_module, root)
        Metadata(sqlite_metadata_connection_config(db))  # the store exists before the UI opens it
        stores[phase] = (db, ir_json)

    baseline, errors = _writers(*stores["alone"])
    violations += errors

    db, ir_json = stores["with_ui"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADRACE_")}
    ui = subprocess.Popen(
        [sys.executable, "-m", "headrace.cli.main", "ui", "--metadata", db, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    readers: list[_Reader] = []
    try:
        assert ui.stdout is not None
        found = re.match(r"headrace ui: http://127\.0\.0\.1:(\d+)/", ui.stdout.readline())
        assert found, ui.stderr.read() if ui.stderr else ""
        stop = threading.Event()
        readers = [_Reader(int(found.group(1)), stop) for _ in range(READERS)]
        for r in readers:
            r.start()
        loaded, errors = _writers(db, ir_json)
        violations += errors
        if _holds_lock(ui.pid, db + ".lock"):
            violations.append("the UI holds the store's write-lock file open")
        stop.set()
        for r in readers:
            r.join(120)
    finally:
        ui.terminate()
        ui.wait(timeout=30)
    requests = [x for r in readers for x in r.latencies]
    violations += [f for r in readers for f in r.failures]
    if not requests:
        violations.append("the UI answered no request")
    base_p99, loaded_p99 = _pct(baseline, 0.99), _pct(loaded, 0.99)
    if loaded_p99 > 10 * base_p99 + 2.0:
        violations.append(f"writers stalled while the UI read: p99 {loaded_p99:.2f} s vs {base_p99:.2f} s alone")

    ms = {"base_p50": 1000 * _pct(baseline, 0.5), "base_p99": 1000 * base_p99}
    figure = (
        f"{WRITERS} writers x {PUBLISHES} executions: p50/p99 {ms['base_p50']:.0f}/{ms['base_p99']:.0f} ms "
        f"alone, {1000 * _pct(loaded, 0.5):.0f}/{1000 * loaded_p99:.0f} ms while the UI answered {len(requests)} "
        f"requests (p50 {1000 * _pct(requests, 0.5):.0f} ms, p99 {1000 * _pct(requests, 0.99):.0f} ms, max "
        f"{1000 * max(requests, default=0.0):.0f} ms); failed UI requests, lost/torn publishes, writer errors: "
        f"{len(violations)}"
    )
    record(
        16,
        "The UI under write load",
        trials=WRITERS * PUBLISHES * 2 + len(requests),
        faults=f"{WRITERS} processes publishing into one SQLite store while {READERS} clients read it through "
        "headrace ui without pause (against the same writers alone)",
        violations=len(violations),
        figure=figure,
        details={
            "mode_full": FULL,
            "ui_requests": len(requests),
            "wall_s": round(time.perf_counter() - started, 1),
            "examples": violations[:10],
        },
    )
    assert not violations, violations[:10]
