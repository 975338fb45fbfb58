"""Each page of `headrace ui` in a real headless Chromium (Debian's package, over the DevTools
protocol): the expected content, no console error, a screenshot saved and checked; script payloads in
names and properties stay text; the run page follows a run in progress to its end without reloading."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import PAYLOAD, PIPELINE, REPO, headrace_env

SHOTS = Path(os.environ.get("HEADRACE_UI_SCREENSHOTS", REPO / "headrace_runs" / "ui-screenshots"))
GREEN, RED = (0xD3, 0xF0, 0xD3), (0xF7, 0xCF, 0xCF)  # COMPLETE and FAILED node fills (ui.css)


def pixels_near(png: bytes, color: tuple[int, int, int], tolerance: int = 6) -> int:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(
        n
        for n, c in image.getcolors(maxcolors=1 << 24)
        if all(abs(a - b) <= tolerance for a, b in zip(c, color, strict=True))
    )


def check_screenshot(browser, name: str) -> bytes:
    """Saves a screenshot of the page and checks it is not blank."""
    from PIL import Image

    SHOTS.mkdir(parents=True, exist_ok=True)
    png = browser.screenshot(str(SHOTS / f"{name}.png"))
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colors = image.getcolors(maxcolors=1 << 24)
    background = max(colors)[0]
    assert len(colors) > 20 and background < 0.97 * image.width * image.height, f"{name}: a blank screenshot"
    return png


def open_page(browser, ui_server, path: str) -> None:
    browser.open(ui_server.base + path)
    assert browser.console_errors() == [], f"{path}: console errors {browser.console_errors()}"
    assert browser.dialogs() == []


def test_runs_page(browser, ui_server, ui_store):
    open_page(browser, ui_server, "/runs")
    text = browser.eval("document.body.innerText")
    for run_id in (ui_store.failed_run, ui_store.complete_run):
        assert run_id in text
    rows = browser.eval("[...document.querySelectorAll('table.runs tbody tr')].map(r => r.innerText)")
    failed = next(r for r in rows if ui_store.failed_run in r)
    assert "FAILED" in failed and "4 / 0 / 1 / 0 of 5" in failed, failed
    complete = next(r for r in rows if ui_store.complete_run in r)
    assert "COMPLETE" in complete and "5 / 0 / 0 / 0 of 5" in complete, complete
    assert "LocalDagRunner on " in complete  # why it ran: `headrace run` drove it with LocalDagRunner
    assert rows.index(complete) < rows.index(failed), "newest first"
    check_screenshot(browser, "runs")
    # Filters, and pages of one run each: older, then newer again.
    open_page(browser, ui_server, "/runs?state=FAILED&pipeline=ui-test")
    assert browser.eval("document.querySelectorAll('table.runs tbody tr').length") == 1
    open_page(browser, ui_server, "/runs?limit=1")
    first = browser.eval("document.querySelector('table.runs tbody tr').innerText")
    browser.open(browser.eval("document.querySelector('nav.pages a:last-child').href"))
    second = browser.eval("document.querySelector('table.runs tbody tr').innerText")
    assert first != second and browser.console_errors() == []


def test_failed_run_page(browser, ui_server, ui_store):
    open_page(browser, ui_server, f"/runs/{ui_store.failed_run}")
    assert browser.eval("document.querySelectorAll('svg.dag g.node').length") == 5
    assert browser.eval("document.getElementById('node_2').classList.contains('state-FAILED')")
    assert browser.eval("document.getElementById('node_4').classList.contains('state-COMPLETE')")  # the Pusher
    assert browser.eval("document.getElementById('node_0').classList.contains('state-COMPLETE')")
    text = browser.eval("document.body.innerText")
    assert f"ValueError: check failed: {PAYLOAD}" in text  # the error, as text
    assert f"checking: {PAYLOAD}" in text  # the log's tail
    assert f"headrace run --resume {ui_store.failed_run} --metadata {ui_store.db}" in text
    assert browser.eval("document.querySelectorAll('img[src=x]').length") == 0
    png = check_screenshot(browser, "run-failed")
    assert pixels_near(png, GREEN) > 2000 and pixels_near(png, RED) > 1000, "the DAG's nodes are not drawn"
    # A node of the graph opens its execution.
    browser.eval("document.getElementById('node_2').dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    browser.wait_for("location.pathname.startsWith('/executions/') && document.readyState == 'complete'")
    assert browser.eval("document.querySelector('h1').textContent").startswith("Check")


def test_execution_page(browser, ui_server, ui_store):
    open_page(browser, ui_server, f"/runs/{ui_store.complete_run}")
    href = browser.eval("[...document.querySelectorAll('table.nodes a')].find(a => a.textContent == 'Train').href")
    open_page(browser, ui_server, href.split(ui_server.base, 1)[1])
    text = browser.eval("document.body.innerText")
    for expected in ("Inputs", "Examples", "Outputs", "Model", "Cache key", "component_type", "Attempts of Train"):
        assert expected in text, expected
    assert "A digest of these parts" in text  # the parts shown reproduce the recorded key
    check_screenshot(browser, "execution")


def test_artifact_pages(browser, ui_server, ui_store):
    open_page(browser, ui_server, f"/runs/{ui_store.complete_run}")
    href = browser.eval("[...document.querySelectorAll('table.nodes a')].find(a => a.textContent == 'Train').href")
    browser.open(href)
    links = browser.eval(
        "Object.fromEntries([...document.querySelectorAll('table.artifacts tbody tr')]"
        ".map(r => [r.cells[0].innerText + ':' + r.cells[2].innerText, r.cells[1].querySelector('a').href]))"
    )
    # The Model: its training metrics.
    browser.open(links["model:Model"])
    assert browser.console_errors() == []
    text = browser.eval("document.body.innerText")
    assert "Training metrics" in text and "0.875" in text and "model.txt" in text
    assert "The SavedModel's signatures cannot be read: saved_model.pb" in text  # a stand-in, not a SavedModel
    # The value artifact: its value, read through the ValueArtifact API.
    browser.open(links["accuracy:Float"])
    assert browser.eval("document.querySelector('pre.value').innerText") == "0.875"
    # The Examples: the report inline in a sandboxed frame (no scripts, not the UI's origin).
    browser.open(links["examples:Examples"])
    assert browser.console_errors() == []
    assert browser.eval("document.querySelector('iframe.report').getAttribute('sandbox')") == ""
    # The frame's document is not reachable from the page: another (opaque) origin.
    assert browser.eval("document.querySelector('iframe.report').contentDocument") is None
    assert browser.eval("document.title") != "evil ran"
    files = browser.eval("[...document.querySelectorAll('table.files a')].map(a => a.textContent)")
    assert {"data.csv", "evil.html", "report.html"} <= set(files)
    check_screenshot(browser, "artifact-examples")


def test_models_page(browser, ui_server, ui_store):
    open_page(browser, ui_server, "/models")
    rows = browser.eval("[...document.querySelectorAll('table.versions tbody tr')].map(r => r.innerText)")
    assert len(rows) >= 2, rows  # each run pushed a new model
    assert browser.eval("document.querySelector('section.model h2').textContent") == "ui-model"
    served = browser.eval(
        "[...document.querySelectorAll('table.versions tbody tr')].map(r => !!r.querySelector('.badge.state-LIVE'))"
    )
    assert served == [True] + [False] * (len(rows) - 1)  # the highest version is the one served
    assert "blessed" in rows[0]
    assert ui_store.complete_run in "".join(rows) and ui_store.failed_run in "".join(rows)
    check_screenshot(browser, "models")


def test_models_page_shows_aliases_and_their_history(browser, ui_store, tmp_path):
    """On a copy of the store: the champion and challenger set (a reason that is a script payload), then
    the models page marks their versions and lists each change."""
    import sqlite3

    from conftest import UIServer

    from headrace.components.serving import aliases

    db = tmp_path / "copy.sqlite"
    with sqlite3.connect(ui_store.db) as source, sqlite3.connect(db) as copy:
        source.backup(copy)
    aliases.set_alias(str(db), "ui-model", "champion", 1, reason="first")
    aliases.set_alias(str(db), "ui-model", "challenger", 2, reason=PAYLOAD)
    server = UIServer(db)
    try:
        open_page(browser, server, "/models")
        badges = browser.eval(
            "[...document.querySelectorAll('table.versions tbody tr')].map(r => "
            "[r.cells[0].innerText.split(' ')[0], [...r.querySelectorAll('.badge.alias')].map(b => b.textContent)])"
        )
        assert ["1", ["champion"]] in badges and ["2", ["challenger"]] in badges, badges
        changes = browser.eval("[...document.querySelectorAll('table.aliases tbody tr')].map(r => r.innerText)")
        assert changes[0].split("\t")[1:3] == ["challenger", "→ version 2"] and PAYLOAD in changes[0], changes
        assert changes[1].split("\t")[1:3] == ["champion", "→ version 1"], changes
        assert browser.eval("document.querySelectorAll('img').length") == 0  # the payload stayed text
        check_screenshot(browser, "models-aliases")
    finally:
        server.stop()


def test_compare_two_runs_ticked_on_the_runs_page(browser, ui_server, ui_store):
    open_page(browser, ui_server, "/runs?pipeline=ui-test")
    for run_id in (ui_store.failed_run, ui_store.complete_run):
        browser.eval(f"document.querySelector('input[name=run][value=\"{run_id}\"]').click()")
    browser.eval("document.querySelector('button[form=compare-form]').click()")
    browser.wait_for("location.pathname == '/compare' && document.readyState == 'complete'")
    browser._drain(0.3)
    assert browser.console_errors() == []
    rows = browser.eval(
        "Object.fromEntries([...document.querySelectorAll('table.compare tbody tr:not(.section)')]"
        ".map(r => [r.cells[0].innerText.replace('≠', '').trim(), r.classList.contains('differs')]))"
    )
    assert rows["Make.note"] is True and rows["Check.fail"] is True  # the payload run failed on purpose
    assert rows["Train.sleep"] is False
    assert rows["Check"] is True  # its state: FAILED in one, COMPLETE in the other
    # Each output number both runs recorded, plotted over them, each point linked to its run.
    points = browser.eval(
        "[...[...document.querySelectorAll('figure.chart')].find(f => f.querySelector('figcaption').textContent == "
        "'Train.model.metric:accuracy').querySelectorAll('a')].map(a => a.getAttribute('href'))"
    )
    assert points == [f"/runs/{ui_store.failed_run}", f"/runs/{ui_store.complete_run}"]  # oldest first
    assert browser.eval(
        "[...document.querySelectorAll('a')].some(a => a.getAttribute('href') == '/metrics?pipeline=ui-test')"
    )
    check_screenshot(browser, "compare")
    browser.open(browser.eval("[...document.querySelectorAll('a')].find(a => a.textContent.includes('differ')).href"))
    shown = browser.eval("[...document.querySelectorAll('table.compare tbody tr:not(.section)')].length")
    assert 0 < shown < len(rows) and browser.eval("document.querySelectorAll('tr.differs').length") == shown


def test_metrics_over_runs(browser, ui_server, ui_store):
    open_page(browser, ui_server, "/metrics?pipeline=ui-test")
    titles = browser.eval("[...document.querySelectorAll('figure.chart figcaption')].map(f => f.textContent)")
    assert "Train.model.metric:accuracy" in titles and "Train.model.metric:loss" in titles
    chart = browser.eval(
        "[...document.querySelectorAll('figure.chart')].find(f => f.querySelector('figcaption').textContent == "
        "'Train.model.metric:accuracy').querySelectorAll('circle').length"
    )
    assert chart >= 2  # one point a run
    check_screenshot(browser, "metrics")


def test_names_that_are_script_payloads_show_as_text(browser, ui_server, ui_store):
    open_page(browser, ui_server, "/runs/" + quote(ui_store.payload_run, safe=""))
    assert browser.eval("document.querySelectorAll('img').length") == 0
    labels = browser.eval("[...document.querySelectorAll('svg.dag g.node text')].map(t => t.textContent)")
    assert f"{PAYLOAD}Make" in labels
    assert f"{PAYLOAD}pipeline" in browser.eval("document.body.innerText")
    open_page(browser, ui_server, "/runs")
    assert browser.eval("document.querySelectorAll('img').length") == 0
    assert f"{PAYLOAD}pipeline" in browser.eval("document.body.innerText")
    check_screenshot(browser, "payload-names")


def test_run_page_follows_a_run_in_progress_to_its_end(browser, ui_server, ui_store):
    env = headrace_env(HEADRACE_HOME=str(ui_store.home), UI_TEST_SLEEP="4")
    proc = subprocess.Popen(
        [sys.executable, "-m", "headrace.cli.main", "run", str(PIPELINE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        # The new run appears on the runs page as RUNNING.
        deadline = time.monotonic() + 60
        run_id = None
        while run_id is None and time.monotonic() < deadline:
            browser.open(ui_server.base + "/runs?state=RUNNING")
            found = browser.eval("[...document.querySelectorAll('table.runs tbody a')].map(a => a.textContent)")
            run_id = next((r for r in found if re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", r)), None)
        assert run_id, "the run never showed as RUNNING"
        open_page(browser, ui_server, f"/runs/{run_id}")
        assert browser.eval("document.getElementById('run-state').textContent") == "RUNNING"
        browser.eval("window.stillThisPage = true")
        # Train finishes and Check starts: the graph changes in place (the same page: no reload).
        browser.wait_for(
            "window.stillThisPage && document.getElementById('node_1').classList.contains('state-COMPLETE') "
            "&& document.getElementById('node_2').classList.contains('state-RUNNING')",
            timeout_s=60,
        )
        check_screenshot(browser, "run-in-progress")
        # The run ends: the page shows it COMPLETE.
        browser.wait_for(
            "document.getElementById('run-state') && document.getElementById('run-state').textContent == 'COMPLETE'",
            timeout_s=60,
        )
        browser.wait_for("document.readyState == 'complete'")
        # Make was cached (the complete run made the same examples); the rest ran.
        assert browser.eval("document.getElementById('node_0').classList.contains('state-CACHED')")
        assert browser.eval("document.querySelectorAll('svg.dag g.node.state-COMPLETE').length") == 4
        assert browser.console_errors() == []
        png = check_screenshot(browser, "run-complete")
        assert pixels_near(png, GREEN) > 3000
    finally:
        output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 0, output
    assert f"run {run_id} COMPLETE" in output


@pytest.fixture(autouse=True)
def _screenshots_folder() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)


def test_lineage_page(browser, ui_server, ui_store):
    open_page(browser, ui_server, f"/runs/{ui_store.complete_run}")
    browser.open(
        browser.eval("[...document.querySelectorAll('table.nodes a')].find(a => a.textContent == 'Train').href")
    )
    model = browser.eval(
        "[...document.querySelectorAll('table.artifacts tbody tr')].find(r => r.cells[2].innerText == 'Model')"
        ".cells[1].querySelector('a').href"
    )
    browser.open(model)
    browser.open(browser.eval("[...document.querySelectorAll('a')].find(a => a.textContent == 'lineage graph').href"))
    assert browser.console_errors() == []
    # Upstream Make -> Examples -> Train -> Model (the focus); downstream Check, Bless -> ModelBlessing and
    # the Pusher -> PushedModel: five executions and four artifacts, each linked to its page.
    labels = browser.eval("[...document.querySelectorAll('svg.dag g.node')].map(g => g.textContent.trim())")
    assert len(labels) == 9, labels
    for name in ("Make", "Train", "Check", "Bless", "Pusher", "ModelBlessing", "PushedModel"):
        assert any(name in t for t in labels), (name, labels)
    assert browser.eval("document.querySelectorAll('svg.dag g.node.focus').length") == 1
    links = browser.eval("[...document.querySelectorAll('svg.dag a')].map(a => a.href.baseVal)")
    assert sum(1 for h in links if h.startswith("/executions/")) == 5
    assert sum(1 for h in links if h.startswith("/artifacts/")) == 4
    check_screenshot(browser, "lineage")
