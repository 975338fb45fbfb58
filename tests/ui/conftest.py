"""The UI tests' store and server: tests/ui/ui_pipeline.py run by the CLI (a failed run whose error,
log and properties carry a script payload, then a complete one), a run recorded under a pipeline and
node names that are script payloads, and `headrace ui` started on it as a real process."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from system_tools import installed_tool

REPO = Path(__file__).resolve().parents[2]
PIPELINE = Path(__file__).resolve().parent / "ui_pipeline.py"
PAYLOAD = "<img src=x onerror=alert(1)>"
RUN_ID = r"\d{8}-\d{6}-[0-9a-f]{4}"


def headrace_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADRACE_", "UI_TEST_"))}
    env.update(extra)
    return env


def run_pipeline(home: Path, **env: str) -> str:
    """`headrace run tests/ui/ui_pipeline.py`; returns the run id."""
    result = subprocess.run(
        [sys.executable, "-m", "headrace.cli.main", "run", str(PIPELINE)],
        capture_output=True,
        text=True,
        env=headrace_env(HEADRACE_HOME=str(home), **env),
        cwd=REPO,
        timeout=180,
    )
    found = re.search(rf"^run ({RUN_ID}) ", result.stderr, re.M)
    assert found, result.stdout + result.stderr
    return found.group(1)


def record_payload_run(db: Path, root: Path) -> str:
    """A run of a pipeline whose name and node ids are script payloads. The DSL refuses such names,
    but a store is written by other tools too: the run is recorded through the launcher's API from an
    IR whose names were replaced."""
    from headrace.cli.loader import load_file_as_module
    from headrace.compiler import compile_pipeline
    from headrace.launcher.runs import set_run_state, start_run
    from headrace.metadata import Metadata, sqlite_metadata_connection_config

    ir = compile_pipeline(load_file_as_module(str(PIPELINE)).create_pipeline(str(root)))
    names = {n.id: f"{PAYLOAD}{n.id}" for n in ir.nodes}
    nodes = tuple(
        dataclasses.replace(n, id=names[n.id], upstream=tuple(names[u] for u in n.upstream)) for n in ir.nodes
    )
    ir = dataclasses.replace(ir, pipeline_name=f"{PAYLOAD}pipeline", nodes=nodes)
    md = Metadata(sqlite_metadata_connection_config(db))
    handle = start_run(md, ir, run_id=f"payload-{PAYLOAD}", parameters={"note": PAYLOAD})
    set_run_state(md, handle, "FAILED")
    return handle.run_id


@pytest.fixture(scope="session", autouse=True)
def graphviz() -> str:
    """Graphviz's dot, which draws the run pages' graphs: installed by scripts/services.sh if missing
    (that needs root); without it the tests fail, naming the command."""
    return installed_tool(("dot",), "graphviz", "Graphviz's dot", timeout=600)


@dataclasses.dataclass
class UIStore:
    home: Path
    root: Path
    db: Path
    failed_run: str
    complete_run: str
    payload_run: str


@pytest.fixture(scope="session")
def ui_store(tmp_path_factory: pytest.TempPathFactory) -> UIStore:
    home = tmp_path_factory.mktemp("ui-home")
    failed = run_pipeline(home, UI_TEST_PAYLOAD=PAYLOAD, UI_TEST_FAIL="1")
    complete = run_pipeline(home)
    root = home / "ui-test"
    db = root / "metadata.sqlite"
    return UIStore(home, root, db, failed, complete, record_payload_run(db, root))


class UIServer:
    """`headrace ui` in its own process; `url` is the address it printed."""

    def __init__(self, db: Path | str, *args: str, env: dict[str, str] | None = None):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "headrace.cli.main", "ui", "--metadata", str(db), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=headrace_env(**(env or {})),
            cwd=REPO,
        )
        assert self.proc.stdout is not None
        self.first_line = self.proc.stdout.readline()
        found = re.match(r"headrace ui: (http://\S+)", self.first_line)
        if not found:
            self.stop()
            raise AssertionError(f"headrace ui printed no URL: {self.first_line!r}{self.stderr()}")
        self.url = found.group(1)
        self.base = self.url.split("?")[0].rstrip("/")
        self.port = int(self.base.rsplit(":", 1)[1])

    def stderr(self) -> str:
        return self.proc.stderr.read() if self.proc.poll() is not None and self.proc.stderr else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def ui_server(ui_store: UIStore) -> Iterator[UIServer]:
    server = UIServer(ui_store.db)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    from cdp import Browser

    found = Browser(chromium)
    yield found
    found.close()
