"""The runtime image (containers/Dockerfile), built by containers/build.sh on the real Docker engine.

build.sh starts the engine when it does not answer (scripts/services.sh docker) and reuses an image
whose inputs have not changed, so the session pays for a build at most once. Without an engine these
tests fail with the reason; they are never skipped.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import headrace

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "containers" / "build.sh"
IMAGE = "headrace-runtime:latest"


def _build() -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(BUILD)], cwd=REPO, capture_output=True, text=True, timeout=900)


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "run", "--rm", IMAGE, *command], capture_output=True, text=True, timeout=120)


def test_image_runs_the_repos_headrace_in_its_venv(runtime_image):
    result = _run("python", "-c", "import headrace, sys; print(headrace.__version__); print(sys.executable)")
    assert result.returncode == 0, result.stderr
    version, executable = result.stdout.split()
    assert version == headrace.__version__
    assert executable == "/opt/headrace/bin/python"


def test_default_image_has_no_tensorflow(runtime_image):
    result = _run("python", "-c", "import tensorflow")
    assert result.returncode != 0
    assert "No module named 'tensorflow'" in result.stderr


def test_image_has_the_tools_a_launcher_may_use(runtime_image):
    result = _run("sh", "-c", "command -v grep && python -c 'import ml_metadata.metadata_store, yaml, click'")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("/grep")


def test_second_build_with_unchanged_inputs_is_a_no_op(runtime_image):
    result = _build()
    assert result.returncode == 0, result.stderr
    assert "is up to date" in result.stdout
