"""Shared fixtures (pipeline modules written to a temp dir, loaded as a user's file would be; the
services a test needs) and the two tiers.

The tiers: `make test` runs every test; `make unit` (`pytest --unit`) runs the fast tier, every test
that is not `slow`. A test is slow when it
  - is marked `slow` (on the test, or `pytestmark` on its module, with the reason);
  - is marked `heavy_imports` (it loads TensorFlow, TFDV, Beam or pyarrow into the test process) or
    `mariadb` (a service);
  - uses the `runtime_image` fixture (a Docker image build) or the `chromium` fixture;
  - sits in tests/reliability (the fault-injection scenarios);
  - sits in a module that imports a left-out library at its top (tests/unit_tier: TensorFlow, Beam,
    Airflow, the notebook machinery, Docker), or whose `pytestmark` says slow or heavy_imports: under
    --unit such a module is not even imported, so collecting it costs nothing.
The fast tier is everything else, so a new fast test joins it without anyone opting it in. What keeps
a new slow test from landing there unmarked is not a timer but a guard: under --unit every Python
process a test starts (the test process, forked and spawned workers, the CLI, a notebook kernel) refuses
to import the left-out libraries, and the test fails, naming the library and the marker to add.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
import pickle
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from system_tools import installed_tool

from headrace.cli.loader import load_file_as_module

REPO = Path(__file__).resolve().parents[1]
GUARD_DIR = Path(__file__).resolve().parent / "unit_tier"
_SLOW_FIXTURES = {
    "runtime_image": "builds the Docker runtime image",
    "chromium": "renders pages in Chromium",
    "dask_cluster": "runs on the Dask cluster",
}
_SLOW_FOLDERS = {
    "reliability": "a reliability scenario (kills, outages, contention; `make reliability` runs the full forms)",
}
_SLOW_MARKERS = {
    "heavy_imports": "loads heavy libraries into the test process",
    "mariadb": "needs the MariaDB service",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--unit",
        action="store_true",
        help="the fast tier (make unit): leave out slow tests, and fail a test that loads a left-out library",
    )


def _guard() -> ModuleType:
    spec = importlib.util.spec_from_file_location("headrace_unit_guard", GUARD_DIR / "sitecustomize.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("unit"):
        return
    record = Path(config.rootpath) / ".pytest_cache" / f"unit-guard-{os.getpid()}.txt"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text("")
    os.environ["HEADRACE_UNIT_GUARD"] = str(record)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(GUARD_DIR), os.environ.get("PYTHONPATH")) if p)
    config.stash[_RECORD] = [record, 0]
    _guard().install()


_RECORD = pytest.StashKey[list]()


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_RECORD, None)
    if state is not None:
        state[0].unlink(missing_ok=True)


@functools.cache
def _module_slow_reason(path: Path) -> str | None:
    """Why a test module is slow as a whole, read from its source without importing it."""
    folder = path.parent.name
    if folder in _SLOW_FOLDERS and path.parent.parent == Path(__file__).resolve().parent:
        return _SLOW_FOLDERS[folder]
    try:
        tree = ast.parse(path.read_text(), str(path))
    except (OSError, SyntaxError):
        return None
    left_out = _guard().LEFT_OUT
    for node in tree.body:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        for name in names:
            if name.partition(".")[0] in left_out:
                return f"imports {name} at its top"
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            marks = ast.unparse(node.value)
            for mark in ("slow", "heavy_imports"):
                if f"mark.{mark}" in marks:
                    return f"pytestmark {mark}"
    return None


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if config.getoption("unit") and collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        if _module_slow_reason(collection_path):
            return True
    return None


def slow_reason(item: pytest.Item) -> str | None:
    """Why a test is left out of the fast tier, or None if it belongs there."""
    marker = item.get_closest_marker("slow")
    if marker is not None:
        return str(marker.args[0]) if marker.args else "marked slow"
    for name, why in _SLOW_MARKERS.items():
        if item.get_closest_marker(name) is not None:
            return why
    for name, why in _SLOW_FIXTURES.items():
        if name in getattr(item, "fixturenames", ()):
            return why
    return _module_slow_reason(Path(item.path))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks the slow tests `slow` (so `-m slow` and `-m "not slow"` select the tiers), leaves them out
    under --unit, and orders the rest: tests that load TensorFlow (TFDV), Beam or pyarrow into the test
    process run last, since a process that has loaded a library with native threads never forks workers,
    so the tests before them keep the runner's fast path."""
    fast, slow = [], []
    for item in items:
        why = slow_reason(item)
        if why is None:
            fast.append(item)
        else:
            if item.get_closest_marker("slow") is None:
                item.add_marker(pytest.mark.slow(why))
            slow.append(item)
    if config.getoption("unit"):
        if slow:
            config.hook.pytest_deselected(items=slow)
        items[:] = fast
    items.sort(key=lambda item: item.get_closest_marker("heavy_imports") is not None)


@pytest.fixture(autouse=True)
def _unit_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Under --unit: fails the test if it (or a process it started, or a fixture set up for it) tried to
    load a left-out library, even if the code under test caught the ImportError."""
    yield
    state = request.config.stash.get(_RECORD, None)
    if state is None:
        return
    record, offset = state
    with open(record, "rb") as f:
        f.seek(offset)
        new = f.read()
    state[1] = offset + len(new)
    if new:
        lines = [line.split("\t") for line in new.decode(errors="replace").splitlines()]
        seen = "; ".join(sorted({f"{w[1]} ({w[0]}) in pid {w[2]}: {w[3]}" for w in lines if len(w) >= 4}))
        pytest.fail(
            f'this test loads what the fast tier leaves out: {seen}. Mark it `@pytest.mark.slow("why")` '
            "(or its module: pytestmark); `make test` runs it, `make unit` then leaves it out.",
            pytrace=False,
        )


@pytest.fixture
def write_module(tmp_path: Path) -> Callable[[str, str], ModuleType]:
    """Writes `source` to tmp_path/<name>.py and loads it like the CLI loads a pipeline file."""

    def write(source: str, name: str = "user_pipeline") -> ModuleType:
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        return load_file_as_module(str(path))

    return write


def sql(db: Path, query: str) -> list[tuple]:
    """Reads the SQLite store directly (to check what ML Metadata recorded)."""
    con = sqlite3.connect(str(db))
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def run_entrypoint(task: Any, folder: Path, timeout: float = 300) -> Any:
    """Runs an ExecutionTask as a with_image container does, in a fresh process here:
    `python -m headrace.entrypoint execute task.pkl result.pkl` in `folder`; returns its ExecutorResult."""
    (folder / "task.pkl").write_bytes(pickle.dumps(task))
    subprocess.run(
        [sys.executable, "-m", "headrace.entrypoint", "execute", "task.pkl", "result.pkl"],
        cwd=folder,
        check=True,
        timeout=timeout,
    )
    return pickle.loads((folder / "result.pkl").read_bytes())


# -- the container runtime image (tests/containers) -----------------------------------------------
RUNTIME_IMAGE = "headrace-runtime:latest"


@pytest.fixture(scope="session")
def runtime_image() -> str:
    """The runtime image, built once per session by containers/build.sh (which starts the engine if
    needed and reuses an image whose inputs have not changed); without an engine the tests fail."""
    try:
        result = subprocess.run(
            ["bash", str(REPO / "containers" / "build.sh")], cwd=REPO, capture_output=True, text=True, timeout=900
        )  # a cold build (Debian base by debootstrap, wheelhouse, image) takes about 90 s here
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.fail(f"containers/build.sh did not complete: {type(e).__name__}: {e}", pytrace=False)
    if result.returncode != 0:
        pytest.fail(
            f"containers/build.sh failed (exit {result.returncode}); the Docker engine is started by "
            f"`bash scripts/services.sh docker`.\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}",
            pytrace=False,
        )
    return RUNTIME_IMAGE


# -- Chromium (the HTML reports as a person sees them) ---------------------------------------------
@pytest.fixture(scope="session")
def chromium() -> str:
    """Chromium's path. If it is missing it is installed by scripts/services.sh (which needs root);
    without it the test fails: the full suite never skips a service."""
    return installed_tool(("chromium", "chromium-browser"), "chromium", "Chromium", timeout=900)


# -- the Dask cluster (BeamDagRunner and the components' Beam paths on DaskRunner) -------------------
@pytest.fixture(scope="session")
def dask_cluster() -> str:
    """The address of this checkout's Dask cluster (a scheduler and two worker processes started by
    `scripts/services.sh dask`), on a port of its own (from the checkout's path, so that checkouts
    testing side by side each get their own workers, which import their own headrace). It is started
    afresh, so that it runs the code as it is now: the workers import headrace's modules, and so does
    the scheduler, which unpickles each task graph."""
    import zlib

    port = 20000 + zlib.crc32(str(REPO).encode()) % 10000
    env = {**os.environ, "HEADRACE_DASK_PORT": str(port)}
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "services.sh"), "dask_stop", "dask"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    if result.returncode != 0:
        why = f"exit {result.returncode}: {result.stderr[-3000:]}"
        pytest.fail(f"`scripts/services.sh dask` failed ({why})", pytrace=False)
    return f"tcp://127.0.0.1:{port}"
