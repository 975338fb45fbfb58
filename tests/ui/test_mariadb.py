"""`headrace ui` over a MySQL/MariaDB store (scripts/services.sh mariadb): the same pages, read-only."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
import uuid

import pytest
from conftest import PIPELINE, REPO, RUN_ID, UIServer, headrace_env

pytestmark = pytest.mark.mariadb

MYSQL = ["mysql", "-h127.0.0.1", "-P3306", "-uheadrace", "-pheadrace"]


@pytest.fixture
def database():
    """A unique database on the local MariaDB, dropped afterwards; fails (never skips) without MariaDB."""
    probe = subprocess.run([*MYSQL, "-e", "SELECT 1"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.fail(f"MariaDB is not reachable: start it with bash scripts/services.sh mariadb ({probe.stderr})")
    name = f"headrace_ui_{uuid.uuid4().hex[:12]}"
    yield name
    subprocess.run([*MYSQL, "-e", f"DROP DATABASE IF EXISTS `{name}`"], capture_output=True, timeout=30)


def test_runs_and_run_pages_over_mariadb(database, tmp_path):
    uri = f"mysql://headrace:headrace@127.0.0.1:3306/{database}"
    run = subprocess.run(
        [sys.executable, "-m", "headrace.cli.main", "run", str(PIPELINE), "--metadata", uri],
        capture_output=True,
        text=True,
        env=headrace_env(HEADRACE_HOME=str(tmp_path)),
        cwd=REPO,
        timeout=180,
    )
    run_id = re.search(rf"^run ({RUN_ID}) COMPLETE", run.stderr, re.M)
    assert run_id, run.stdout + run.stderr
    server = UIServer(uri)
    try:
        assert server.proc.stdout is not None
        assert f"store: mysql://headrace@127.0.0.1:3306/{database} (read-only)" in server.proc.stdout.readline()
        with urllib.request.urlopen(server.base + "/runs", timeout=30) as r:
            body = r.read().decode()
        assert run_id.group(1) in body and "5 / 0 / 0 / 0" in body
        with urllib.request.urlopen(f"{server.base}/runs/{run_id.group(1)}", timeout=30) as r:
            body = r.read().decode()
        assert body.count('class="node state-COMPLETE"') == 5
    finally:
        server.stop()


def test_a_missing_database_is_not_created(database):
    server_cmd = [sys.executable, "-m", "headrace.cli.main", "ui", "--port", "0", "--metadata"]
    result = subprocess.run(
        [*server_cmd, f"mysql://headrace:headrace@127.0.0.1:3306/{database}"],
        capture_output=True,
        text=True,
        env=headrace_env(),
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert "Cannot open the ML Metadata store" in result.stderr
    listed = subprocess.run([*MYSQL, "-e", "SHOW DATABASES"], capture_output=True, text=True, timeout=30).stdout
    assert database not in listed
