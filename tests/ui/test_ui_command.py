"""`headrace ui` as a command (its errors, its imports) and the pieces of its security layer."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from conftest import REPO, headrace_env

from headrace.ui.graph import GraphUnavailableError, _layout, dag_svg, dot_source
from headrace.ui.security import is_loopback, resolve_inside


def headrace(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "headrace.cli.main", *args],
        capture_output=True,
        text=True,
        env=headrace_env(),
        cwd=REPO,
        timeout=timeout,
    )


def test_other_commands_do_not_load_the_web_stack():
    script = (
        "import json, sys\nfrom click.testing import CliRunner\nfrom headrace.cli.main import main\n"
        "result = CliRunner().invoke(main, ['ui', '--help'])\nassert result.exit_code == 0, result.output\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('starlette', 'uvicorn', 'jinja2', 'headrace') and (m.startswith('headrace.ui') or '.' not in m))))"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ["headrace"], "headrace ui --help (or import headrace) loaded the web stack"


def test_a_missing_store_is_a_message_not_a_traceback(tmp_path):
    result = headrace("ui", "--metadata", str(tmp_path / "nope.sqlite"))
    assert result.returncode != 0
    assert "No metadata store at" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "nope.sqlite").exists()  # reading never creates a store


def test_a_port_in_use_is_a_message_not_a_traceback(ui_store):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = headrace("ui", "--metadata", str(ui_store.db), "--port", str(port))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"Cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr


def test_resolve_inside(tmp_path):
    root = tmp_path / "root"
    folder = root / "node" / "out" / "1"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (root / "secret").write_text("s")
    os.symlink(tmp_path, folder / "up")  # leaves the root
    os.symlink(folder / "a.txt", folder / "alias")  # stays inside
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "b.txt").write_text("b")
    os.symlink(outside, root / "linked")  # an artifact folder that is a symlink out of the root

    assert resolve_inside(str(folder), "a.txt", str(root)) == str(folder / "a.txt")
    assert resolve_inside(str(folder), "alias", str(root)) == str(folder / "a.txt")
    for bad in ("../../../secret", "/etc/passwd", "up/root/secret", "a.txt\x00", "..", "\\etc\\passwd"):
        assert resolve_inside(str(folder), bad, str(root)) is None, bad
    assert resolve_inside(str(root / "linked"), "b.txt", str(root)) is None


def test_loopback_names():
    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.1.2.3", "app.localhost"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.4", "example.com", "localhost.example.com"):
        assert not is_loopback(host), host


def test_the_graph_escapes_names_for_dot_and_for_svg():
    from headrace.compiler.ir import NodeIR, PipelineIR

    nodes = (
        NodeIR(id='a"b\\N<script>', component_type="x.A", executor={}),
        NodeIR(id="b", component_type="x.b", executor={}, upstream=('a"b\\N<script>',)),
    )
    ir = PipelineIR(pipeline_name="p", pipeline_root="/tmp/p", nodes=nodes)
    assert 'label="a\\"b\\\\N<script>\\nA\\n' in dot_source(ir)  # the class name, not its module
    assert 'label="b\\n~' in dot_source(ir)  # a node named as its class: the name once
    svg = dag_svg(ir, {"b": ("FAILED", "FAILED <1s>")})
    assert "<script>" not in svg and "a&quot;b\\N&lt;script&gt;" in svg
    assert "FAILED &lt;1s&gt;" in svg and 'id="node_1" class="node state-FAILED"' in svg
    assert 'id="node_0" class="node state-NOTRUN"' in svg and "not run" in svg


def test_no_dot_says_how_to_install_it(monkeypatch, tmp_path):
    from headrace.compiler.ir import NodeIR, PipelineIR

    monkeypatch.setenv("PATH", str(tmp_path))
    _layout.cache_clear()
    ir = PipelineIR("q", "/tmp/q", (NodeIR(id="only", component_type="x.A", executor={}),))
    with pytest.raises(GraphUnavailableError, match="apt-get install graphviz"):
        dag_svg(ir, {})


@pytest.mark.slow("installs headrace into a new virtual environment")
def test_pip_install_of_the_ui_extra_serves_its_pages(ui_store, tmp_path):
    """`pip install 'headrace[ui]'` (not editable: what a user gets) ships every module, template and
    static file the UI serves. The source is copied first, so the build leaves nothing in the checkout."""
    import shutil
    import urllib.request

    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(REPO / "setup.py", source / "setup.py")
    for folder in ("framework", "components", "orchestrators"):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    uv = [sys.executable, "-m", "uv"]
    done = subprocess.run([*uv, "venv", "-q", "--python", sys.executable, str(venv)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lock = REPO / "requirements" / "lock.txt"
    done = subprocess.run(
        [*uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), "-c", str(lock), f"{source}[ui]"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [str(venv / "bin" / "headrace"), "ui", "--metadata", str(ui_store.db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=headrace_env(),
        cwd=tmp_path,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().startswith("headrace ui: http://"), server
        for path, expected in (
            ("/runs", ui_store.complete_run),
            (f"/runs/{ui_store.complete_run}", "<svg"),
            ("/models", "Models"),
            ("/static/ui.css", "{"),
        ):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
                assert response.status == 200 and expected in response.read().decode(), path
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
