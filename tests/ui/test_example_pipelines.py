"""`headrace ui` on stores written by the example pipelines in pipelines/, by each runner: the hello
pipeline under `headrace run` (LocalDagRunner) and again under BeamDagRunner (its nodes cached), the
three-styles pipeline with its container step, the data-validation pipeline (TFDV's reports), all into
one store; and the hello pipeline under Airflow 3's `dags test`, into its own. Headless Chromium then
walks every page a user reaches from the runs page: each run, each node's execution, each artifact and
a lineage graph, with no console error, and the run pages' screenshots checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, RUN_ID, UIServer, headrace_env
from test_pages import GREEN, check_screenshot, open_page, pixels_near

pytestmark = pytest.mark.slow("runs the example pipelines: TFDV, Beam, a container step and Airflow 3")

EXAMPLES = REPO / "pipelines"
# (pipeline file, `headrace run` options, its pipeline name, what the runs page says started it)
RUNS = (
    ("hello_pipeline.py", (), "hello", "LocalDagRunner"),
    ("hello_pipeline.py", ("--runner", "beam"), "hello", "BeamDagRunner"),
    ("three_styles_pipeline.py", (), "three-styles", "LocalDagRunner"),
    ("data_validation_pipeline.py", (), "penguin_data", "LocalDagRunner"),
)


@pytest.fixture(scope="module")
def examples_ui(tmp_path_factory, runtime_image):
    home = tmp_path_factory.mktemp("examples")
    db = home / "metadata.sqlite"
    run_ids = []
    for file, options, _, _ in RUNS:
        done = subprocess.run(
            [sys.executable, "-m", "headrace.cli.main", "run", str(EXAMPLES / file), "--metadata", str(db), *options],
            capture_output=True,
            text=True,
            env=headrace_env(HEADRACE_HOME=str(home), HEADRACE_IMAGE=runtime_image),
            cwd=REPO,
            timeout=900,
        )
        found = re.search(rf"^run ({RUN_ID}) COMPLETE", done.stderr, re.M)
        assert found, f"{file} {options}: {done.stdout[-2000:]}{done.stderr[-4000:]}"
        run_ids.append(found.group(1))
    server = UIServer(db)
    yield server, run_ids
    server.stop()


def walk_run(browser, server: UIServer, run_id: str, shot: str) -> dict[str, str]:
    """Opens the run's page and every execution and artifact page it links to; returns
    {artifact type: artifact page path} of what it saw."""
    open_page(browser, server, f"/runs/{run_id}")
    assert browser.eval("document.getElementById('run-state').textContent") == "COMPLETE"
    nodes = browser.eval("[...document.querySelectorAll('table.nodes tbody tr')].map(r => r.cells[0].innerText)")
    drawn = browser.eval("[...document.querySelectorAll('svg.dag g.node')].map(g => g.textContent)")
    assert len(drawn) == len(nodes) > 0, (nodes, drawn)
    for node in nodes:
        assert any(node in label for label in drawn), (node, drawn)
    finished = browser.eval(
        "document.querySelectorAll('svg.dag g.node.state-COMPLETE, svg.dag g.node.state-CACHED').length"
    )
    assert finished == len(nodes), f"{run_id}: {finished} of {len(nodes)} nodes drawn COMPLETE or CACHED"
    check_screenshot(browser, shot)
    executions = browser.eval("[...document.querySelectorAll('table.nodes a')].map(a => a.getAttribute('href'))")
    executions = [h for h in executions if h.startswith("/executions/")]
    assert len(executions) == len(nodes), executions
    artifacts: dict[str, str] = {}
    for execution in executions:
        open_page(browser, server, execution)
        rows = browser.eval(
            "[...document.querySelectorAll('table.artifacts tbody tr')].map(r => "
            "[r.cells[2].innerText, r.cells[1].querySelector('a').getAttribute('href')])"
        )
        artifacts.update(dict(rows))
    for type_name, path in artifacts.items():
        open_page(browser, server, path)
        assert type_name in browser.eval("document.body.innerText"), (type_name, path)
    return artifacts


def test_every_page_of_each_example_pipelines_run(browser, examples_ui):
    server, run_ids = examples_ui
    open_page(browser, server, "/runs")
    rows = browser.eval("[...document.querySelectorAll('table.runs tbody tr')].map(r => r.innerText)")
    assert len(rows) == len(RUNS), rows
    for run_id, (file, _, pipeline, started_by) in zip(run_ids, RUNS, strict=True):
        [row] = [r for r in rows if run_id in r]
        assert pipeline in row and "COMPLETE" in row and started_by in row, (file, row)
    check_screenshot(browser, "examples-runs")

    hello = walk_run(browser, server, run_ids[0], "examples-hello")
    assert {"Examples", "Model", "ExternalArtifact"} <= set(hello), hello
    # The Beam run of the same pipeline reused every result: its nodes are drawn cached.
    walk_run(browser, server, run_ids[1], "examples-hello-beam")
    open_page(browser, server, f"/runs/{run_ids[1]}")
    nodes = browser.eval("document.querySelectorAll('table.nodes tbody tr').length")
    assert browser.eval("document.querySelectorAll('svg.dag g.node.state-CACHED').length") == nodes > 0

    three = walk_run(browser, server, run_ids[2], "examples-three-styles")
    assert "Examples" in three
    open_page(browser, server, f"/runs/{run_ids[2]}")
    assert pixels_near(check_screenshot(browser, "examples-three-styles"), GREEN) > 3000

    data = walk_run(browser, server, run_ids[3], "examples-data-validation")
    for report in ("ExampleStatistics", "Schema", "ExampleAnomalies"):
        open_page(browser, server, data[report])
        assert browser.eval("document.querySelector('iframe.report[sandbox]') !== null"), report
    # The anomalies' lineage: back through ExampleValidator to the statistics, the schema and the data.
    open_page(browser, server, data["ExampleAnomalies"].replace("/artifacts/", "/lineage/"))
    labels = browser.eval("[...document.querySelectorAll('svg.dag g.node')].map(g => g.textContent)")
    for name in ("ExampleValidator", "StatisticsGen", "SchemaGen", "CsvExampleGen"):
        assert any(name in t for t in labels), (name, labels)
    check_screenshot(browser, "examples-data-validation-lineage")


def test_a_store_written_under_airflow_3(browser, tmp_path):
    from airflow_env import airflow_home, airflow_venv, dags_test, only_run

    from headrace.cli.loader import load_file_as_module
    from headrace.orchestrators.airflow_dag_runner import write_dag

    venv = airflow_venv("3")
    env = airflow_home(tmp_path / "airflow_home", venv)
    root = tmp_path / "root"
    pipeline = load_file_as_module(str(EXAMPLES / "hello_pipeline.py")).create_pipeline(str(root))
    write_dag(pipeline, str(tmp_path / "dags"))
    done = dags_test(env, venv, tmp_path / "dags", "hello")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run = only_run(root)
    server = UIServer(Path(root) / "metadata.sqlite")
    try:
        open_page(browser, server, "/runs")
        [row] = browser.eval("[...document.querySelectorAll('table.runs tbody tr')].map(r => r.innerText)")
        assert run.run_id in row and "COMPLETE" in row and f"Airflow run {run.run_id}" in row, row
        artifacts = walk_run(browser, server, run.run_id, "examples-hello-airflow")
        assert {"Examples", "Model"} <= set(artifacts), artifacts
        open_page(browser, server, f"/runs/{run.run_id}")
        assert pixels_near(check_screenshot(browser, "examples-hello-airflow"), GREEN) > 3000
    finally:
        server.stop()
