"""`headrace ui` on the main job's store: the penguin pipeline run by `headrace run` (TensorFlow, in its
own processes), then its pages in headless Chromium: the ten-node run, the data components' reports
inline, the Trainer's metrics, the registry's pushed version, the Evaluator's lineage."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import REPO, RUN_ID, UIServer, headrace_env
from test_pages import GREEN, check_screenshot, open_page, pixels_near

pytestmark = pytest.mark.slow("runs the main job (the penguin pipeline trains a TensorFlow model)")

PENGUIN = REPO / "pipelines" / "penguin" / "pipeline.py"


@pytest.fixture(scope="module")
def penguin_ui(tmp_path_factory):
    root = tmp_path_factory.mktemp("penguin") / "root"
    run = subprocess.run(
        [sys.executable, "-m", "headrace.cli.main", "run", str(PENGUIN)],
        capture_output=True,
        text=True,
        env=headrace_env(HEADRACE_ROOT=str(root)),
        cwd=REPO,
        timeout=900,
    )
    found = re.search(rf"^run ({RUN_ID}) COMPLETE", run.stderr, re.M)
    assert found, run.stdout[-3000:] + run.stderr[-5000:]
    server = UIServer(root / "metadata.sqlite")
    yield server, found.group(1)
    server.stop()


def test_the_main_jobs_run_and_its_artifacts(browser, penguin_ui):
    server, run_id = penguin_ui
    open_page(browser, server, f"/runs/{run_id}")
    assert browser.eval("document.querySelectorAll('svg.dag g.node.state-COMPLETE').length") == 10
    png = check_screenshot(browser, "main-job-run")
    assert pixels_near(png, GREEN) > 10000, "the ten nodes are not drawn"
    executions = browser.eval(
        "Object.fromEntries([...document.querySelectorAll('table.nodes a')].map(a => [a.textContent, a.href]))"
    )
    # Each data component's artifact shows its report inline; the Trainer's Model its training metrics.
    for node, output_type in (
        ("StatisticsGen", "ExampleStatistics"),
        ("SchemaGen", "Schema"),
        ("ExampleValidator", "ExampleAnomalies"),
        ("Evaluator", "ModelEvaluation"),
    ):
        browser.open(executions[node])
        href = browser.eval(
            f"[...document.querySelectorAll('table.artifacts tbody tr')].find(r => r.cells[2].innerText == "
            f"'{output_type}').cells[1].querySelector('a').href"
        )
        open_page(browser, server, href.split(server.base, 1)[1])
        assert browser.eval("document.querySelector('iframe.report[sandbox]') !== null"), node
        if node == "StatisticsGen":
            check_screenshot(browser, "main-job-statistics")
    browser.open(executions["Trainer"])
    model = browser.eval(
        "[...document.querySelectorAll('table.artifacts tbody tr')].find(r => r.cells[2].innerText == 'Model')"
        ".cells[1].querySelector('a').href"
    )
    open_page(browser, server, model.split(server.base, 1)[1])
    text = browser.eval("document.body.innerText")
    assert "Training metrics" in text and "sparse_categorical_accuracy" in text
    # Its serving signature, read from the SavedModel without TensorFlow: the trainer's four features in.
    rows = browser.eval("[...document.querySelectorAll('table.signature tbody tr')].map(r => r.innerText)")
    assert browser.eval("document.querySelector('h3.mono').textContent").startswith("serving_default")
    for feature in ("body_mass_g", "culmen_depth_mm", "culmen_length_mm", "flipper_length_mm"):
        assert f"input\t{feature}\tfloat32\t(-1, 1)" in rows, rows
    assert "output\toutput_0\tfloat32\t(-1, 3)" in rows, rows
    check_screenshot(browser, "main-job-model")


def test_the_main_jobs_model_in_the_registry(browser, penguin_ui):
    server, run_id = penguin_ui
    open_page(browser, server, "/models")
    rows = browser.eval("[...document.querySelectorAll('table.versions tbody tr')].map(r => r.innerText)")
    assert len(rows) == 1 and run_id in rows[0] and "blessed" in rows[0]
    browser.open(browser.eval("[...document.querySelectorAll('a')].find(a => a.textContent == 'model and data').href"))
    assert browser.console_errors() == []
    labels = browser.eval("[...document.querySelectorAll('svg.dag g.node')].map(g => g.textContent)")
    for name in ("Pusher", "Trainer", "Evaluator", "CsvExampleGen"):
        assert any(name in t for t in labels), (name, labels)
    check_screenshot(browser, "main-job-lineage")
