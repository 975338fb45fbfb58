"""`headrace show ARTIFACT`: what an artifact is, where it is, and its HTML report, driven as a user
drives it (a fresh process per command) on a store written by a real `headrace run`."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PIPELINE = """
import os

from headrace import OutputArtifact, OutputDict, Pipeline, component
from headrace.types import standard_artifacts as sa

HERE = os.path.dirname(os.path.abspath(__file__))


@component
def Stats(statistics: OutputArtifact[sa.ExampleStatistics]) -> OutputDict(rows=int):
    from tensorflow_metadata.proto.v0 import statistics_pb2

    from headrace.components.reports import statistics_html, write_report

    statistics.split_names = '["train", "eval"]'
    statistics.set_custom_property("note", "made <here>")
    by_split = {}
    for split in ("train", "eval"):
        os.makedirs(os.path.join(statistics.uri, f"Split-{split}"))
        by_split[split] = statistics_pb2.DatasetFeatureStatisticsList()
        with open(os.path.join(statistics.uri, f"Split-{split}", "FeatureStats.pb"), "wb") as f:
            f.write(by_split[split].SerializeToString())
    write_report(statistics.uri, statistics_html(by_split, "Statistics"))
    return {"rows": 42}


@component
def Data(examples: OutputArtifact[sa.Examples]):
    os.makedirs(os.path.join(examples.uri, "Split-train"))
    with open(os.path.join(examples.uri, "Split-train", "data.csv"), "w") as f:
        f.write("a\\n1\\n")


pipeline = Pipeline("show", os.path.join(HERE, "root"), [Stats(), Data()])
"""


def headrace(*args, env=None) -> subprocess.CompletedProcess:
    """Runs `headrace ARGS` in a new process; HEADRACE_* variables come only from `env`."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HEADRACE_") and k != "BROWSER"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "headrace.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=REPO,
        timeout=120,
    )


def output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    text = output(result)
    assert result.returncode == 1, text
    assert "Traceback" not in text and "Error: " in result.stderr, text
    for fragment in fragments:
        assert fragment in text, text


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A run of the pipeline above; the ids of its artifacts as `runs show` prints them."""
    home = tmp_path_factory.mktemp("show")
    (home / "show_pipeline.py").write_text(PIPELINE)
    ran = headrace("run", home / "show_pipeline.py")
    assert ran.returncode == 0, output(ran)
    run_id = re.search(r"^run (\S+) COMPLETE in ", ran.stderr, re.M).group(1)
    db = home / "root" / "metadata.sqlite"
    shown = headrace("runs", "show", run_id, "--metadata", db)
    ids = dict(re.findall(r"out (\w+): \w+ #(\d+)", shown.stdout))
    assert set(ids) == {"statistics", "rows", "examples"}, shown.stdout
    return {"home": home, "db": db, **ids}


def test_show_prints_the_artifact_and_the_url_of_its_report(store):
    result = headrace("show", "#" + store["statistics"], "--metadata", store["db"])
    assert result.returncode == 0, output(result)
    lines = result.stdout.splitlines()
    assert lines[0] == f"ExampleStatistics #{store['statistics']} [LIVE]"
    uri = re.search(r"^  uri: (.*)$", result.stdout, re.M).group(1)
    assert Path(uri).is_dir()
    assert '    split_names: ["train", "eval"]' in lines
    assert "    note: made <here>" in lines
    url = re.search(r"^  report: (file://\S+)$", result.stdout, re.M).group(1)
    assert url == (Path(uri) / "report.html").as_uri()
    assert "<h1>Statistics</h1>" in (Path(uri) / "report.html").read_text()
    bare = headrace("show", store["statistics"], "--metadata", store["db"])
    assert bare.stdout == result.stdout  # '12' and '#12' are the same artifact


def test_show_rebuilds_the_report_of_a_data_artifact_written_without_one(store):
    """A statistics artifact whose folder has TFX's files but no report.html (written by TFX, or the page
    removed): the page is rebuilt from its files into a temporary folder; the artifact's folder is left alone."""
    first = headrace("show", store["statistics"], "--metadata", store["db"])
    uri = Path(re.search(r"^  uri: (.*)$", first.stdout, re.M).group(1))
    page = uri / "report.html"
    saved = page.read_text()
    page.unlink()
    try:
        result = headrace("show", store["statistics"], "--metadata", store["db"])
        assert result.returncode == 0, output(result)
        assert "rebuilt from its files" in result.stdout
        url = re.search(r"^  report: file://(\S+)$", result.stdout, re.M).group(1)
        assert not url.startswith(str(uri)) and "headrace-reports" in url
        assert "train" in Path(url).read_text() and not page.exists()
    finally:
        page.write_text(saved)


def test_show_says_there_is_no_report_and_lists_the_files(store):
    result = headrace("show", store["examples"], "--metadata", store["db"])
    assert result.returncode == 0, output(result)
    assert result.stdout.startswith(f"Examples #{store['examples']} [LIVE]")
    assert "no report (report.html) in its directory; its files:" in result.stdout
    assert "    Split-train/data.csv" in result.stdout.splitlines()
    value = headrace("show", store["rows"], "--metadata", store["db"])
    assert value.returncode == 0 and "    value: 42" in value.stdout.splitlines(), output(value)
    assert "  file: 2 bytes (the value's file; no report)" in value.stdout.splitlines(), value.stdout


def test_open_starts_a_browser_on_the_report(store, tmp_path):
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "fake-browser"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    result = headrace("show", store["statistics"], "--open", "--metadata", store["db"], env={"BROWSER": str(browser)})
    assert result.returncode == 0, output(result)
    url = re.search(r"^  report: (\S+)$", result.stdout, re.M).group(1)
    assert opened.read_text().strip() == url
    no_report = headrace("show", store["examples"], "--open", "--metadata", store["db"], env={"BROWSER": str(browser)})
    assert_user_error(no_report, f"Artifact #{store['examples']} has no report to open")
    assert "Split-train/data.csv" in no_report.stdout  # what is there is still listed


def test_unknown_and_malformed_ids_are_messages_not_tracebacks(store, tmp_path):
    assert_user_error(headrace("show", "98765", "--metadata", store["db"]), "No artifact with id 98765")
    result = headrace("show", "#abc", "--metadata", store["db"])
    assert result.returncode != 0 and "is not an artifact id" in result.stderr and "Traceback" not in output(result)
    assert_user_error(headrace("show", "1", "--metadata", tmp_path / "nothing.sqlite"), "No metadata store at")


def test_the_store_comes_from_the_environment_or_the_pipeline_file(store):
    by_env = headrace("show", store["statistics"], env={"HEADRACE_METADATA": str(store["db"])})
    assert by_env.returncode == 0 and "report: file://" in by_env.stdout, output(by_env)
    by_file = headrace("show", store["statistics"], "--pipeline", store["home"] / "show_pipeline.py")
    assert by_file.returncode == 0 and by_file.stdout == by_env.stdout, output(by_file)
