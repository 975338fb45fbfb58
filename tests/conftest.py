"""Shared fixtures: pipeline modules written to a temp dir, loaded as a user's file would be."""

from __future__ import annotations

import sqlite3
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from headrace.cli.loader import load_file_as_module


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that load TensorFlow (TFDV), Beam or pyarrow into the test process run last: a process
    that has loaded a library with native threads never forks workers, so the tests before them
    keep the runner's fast path."""
    items.sort(key=lambda item: item.get_closest_marker("heavy_imports") is not None)


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


# -- the container runtime image (tests/containers) -----------------------------------------------
RUNTIME_IMAGE = "headrace-runtime:latest"
REPO = Path(__file__).resolve().parents[1]


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
