"""The runtime image, built once per session by containers/build.sh (which starts the engine if needed,
and reuses an image whose inputs have not changed). Without an engine the tests fail with the reason."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IMAGE = "headrace-runtime:latest"


@pytest.fixture(scope="session")
def runtime_image() -> str:
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
    return IMAGE
