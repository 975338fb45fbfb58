"""The HTML data reports, on real TFDV statistics, schema and anomalies, checked as text and, as a person
sees them, rendered by headless Chromium into a screenshot."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from headrace import OutputArtifact, Parameter, component
from headrace.components import reports as report
from headrace.components.reports.html import num
from headrace.types import standard_artifacts

pytestmark = pytest.mark.heavy_imports  # TFDV computes the statistics the pages show, in this process

SCRIPT = "<script>alert(1)</script>"
N_TRAIN, N_EVAL = 400, 200


def _batch(columns: dict[str, list]) -> object:
    """A RecordBatch of list arrays, TFDV's input: None is a missing value."""
    import pyarrow as pa

    arrays, names = [], []
    for name, values in columns.items():
        sample = next(v for v in values if v is not None)
        kind = {int: pa.int64(), float: pa.float32()}.get(type(sample[0]), pa.binary())
        encoded = [None if v is None else [x.encode() if isinstance(x, str) else x for x in v] for v in values]
        arrays.append(pa.array(encoded, type=pa.list_(kind)))
        names.append(name)
    return pa.RecordBatch.from_arrays(arrays, names)


@pytest.fixture(scope="module")
def data():
    """Statistics of a train split and of an eval split that breaks the train schema: a new category
    ('purple' in color), a missing column (city) and missing values in a column always present in
    train (age). TFDV is imported once, here."""
    import numpy as np
    import tensorflow_data_validation as tfdv
    from tensorflow_data_validation.statistics import stats_impl, stats_options

    rng = np.random.default_rng(7)

    def column(n, draw, missing=0.0):
        return [None if rng.random() < missing else [draw()] for _ in range(n)]

    train = {
        "age": column(N_TRAIN, lambda: int(rng.normal(40, 10))),
        "income": column(N_TRAIN, lambda: float(rng.lognormal(10, 0.6)), missing=0.1),
        "color": column(N_TRAIN, lambda: str(rng.choice(["red", "green", "blue"], p=[0.5, 0.3, 0.2]))),
        SCRIPT: column(N_TRAIN, lambda: str(rng.choice(["a", "b"]))),
        "city": column(N_TRAIN, lambda: str(rng.choice(["Paris", "Lyon", "Nice", "Lille"]))),
        "tags": [[str(t) for t in rng.choice(["x", "y", "z"], size=rng.integers(1, 4))] for _ in range(N_TRAIN)],
        "label": column(N_TRAIN, lambda: int(rng.random() < 0.6)),
    }
    bad_eval = {
        "age": column(N_EVAL, lambda: int(rng.normal(48, 12)), missing=0.05),
        "income": column(N_EVAL, lambda: float(rng.lognormal(10.2, 0.6))),
        "color": column(N_EVAL, lambda: str(rng.choice(["red", "green", "purple"]))),
        SCRIPT: column(N_EVAL, lambda: str(rng.choice(["a", "b"]))),
        "tags": [[str(t) for t in rng.choice(["x", "y", "z"], size=rng.integers(1, 4))] for _ in range(N_EVAL)],
        "label": column(N_EVAL, lambda: int(rng.random() < 0.4)),
    }
    options = stats_options.StatsOptions()
    stats = {
        "train": stats_impl.generate_statistics_in_memory(_batch(train), options),
        "eval": stats_impl.generate_statistics_in_memory(_batch(bad_eval), options),
    }
    schema = tfdv.infer_schema(stats["train"])
    anomalies = {split: tfdv.validate_statistics(s, schema) for split, s in stats.items()}
    assert not anomalies["train"].anomaly_info, anomalies["train"]
    assert set(anomalies["eval"].anomaly_info) == {"age", "color", "city"}, anomalies["eval"]
    return {"stats": stats, "schema": schema, "anomalies": anomalies}


@pytest.fixture(scope="module")
def pages(data):
    drift = [
        {"feature": "age", "split": "eval", "test": "ks", "statistic": 0.31, "p_value": 1e-9, "threshold": 0.05,
         "drifted": True},
        {"feature": "color", "split": "eval", "test": "l_infinity", "statistic": 0.02, "p_value": None,
         "threshold": 0.1, "drifted": False},
        {"feature": SCRIPT, "split": "eval", "test": "chi2", "statistic": 0.8, "p_value": 0.6, "threshold": 0.05,
         "drifted": False},
        {"feature": "income", "split": "eval", "test": "jensen_shannon", "statistic": 0.2, "p_value": None,
         "threshold": 0.1, "drifted": True},
    ]  # fmt: skip
    return {
        "statistics": report.statistics_html(data["stats"], "Statistics <of> penguins", data["anomalies"]),
        "schema": report.schema_html(data["schema"], "Schema"),
        "anomalies": report.anomalies_html(data["anomalies"], "Anomalies"),
        "drift": report.drift_html(drift, "Drift"),
    }


def _feature_block(html: str, name: str) -> str:
    """The rows of one feature in the statistics page: from its cell to the next feature's."""
    from html import escape

    start = html.index(f'<div class="fname">{escape(name)}</div>')
    following = html.find('<div class="fname">', start + 1)
    end = html.rfind("<tr", 0, following) if following > 0 else len(html)
    return html[html.rfind("<tr", 0, start) : end]


# -- content ---------------------------------------------------------------------------------------


def test_statistics_page_compares_the_splits_feature_by_feature(pages, data):
    html = pages["statistics"]
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert f"{N_TRAIN} examples" in html and f"{N_EVAL} examples" in html
    for name in ("age", "income", "color", "city", "tags", "label"):
        assert f'<div class="fname">{name}</div>' in html
    age = _feature_block(html, "age")
    assert age.count('class="split"') == 2 and "train" in age and "eval" in age
    assert age.count("<svg") == 2 and age.count("<rect") >= 10  # a histogram per split
    train_age = next(f for f in data["stats"]["train"].datasets[0].features if f.path.step == ["age"]).num_stats
    assert num(train_age.mean) in age and num(train_age.max) in age
    # The median comes from the quantiles (TFDV leaves the median field at 0) and lies between min and max.
    median = r'<td class="n">([\d.,]+)</td><td class="n">[\d.,]+</td><td><svg'  # the cell before max
    medians = re.findall(median, age)
    assert len(medians) == 2 and all(train_age.min < float(m.replace(",", "")) < 80 for m in medians), medians
    # A 0/1 feature: the median is 1 with 60% ones and 0 with 40%, never a value between.
    assert re.findall(median, _feature_block(html, "label")) == ["1", "0"]
    income = _feature_block(html, "income")
    assert re.search(r"\d+ \(\d+\.\d%\)", income)  # missing: count and share
    color = _feature_block(html, "color")
    assert ">purple<" in color and ">red<" in color  # top values, as bar labels
    assert "1 to 3 values per example" in _feature_block(html, "tags")


def test_anomalous_features_are_highlighted_with_their_description(pages):
    html = pages["statistics"]
    color = _feature_block(html, "color")
    assert 'class="feature flagged"' in color
    assert '<tr class="err">' in color  # the eval row
    assert "eval: Unexpected string values" in color and "purple" in color
    city = _feature_block(html, "city")
    assert "eval: Column dropped" in city and "not in this split" in city
    age = _feature_block(html, "age")  # missing values in eval: TFDV reports two reasons
    assert "eval: Feature shape dropped; Column dropped" in age and "Multiple errors" not in age
    assert "fewer examples than expected" in age
    assert "flagged" not in _feature_block(html, "income") and '<tr class="err">' not in _feature_block(html, "income")
    summary = html[html.index('<div class="summary') : html.index("<h2>")]
    assert "Anomalies: 3" in summary
    assert '<a href="#' in summary and ">color</a>" in summary and ">city</a>" in summary
    assert "no anomalies" in summary  # train


def test_every_user_string_is_escaped_and_pages_are_self_contained(pages):
    for name, html in pages.items():
        assert "<script" not in html.lower(), name
        assert "http://" not in html and "https://" not in html and "src=" not in html, name
    for name in ("statistics", "schema", "drift"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[name], name
    assert "Statistics &lt;of&gt; penguins" in pages["statistics"]


def test_schema_page(pages, data):
    html = pages["schema"]
    for f in data["schema"].feature:
        assert f">{f.name}</td>" in html or f.name == SCRIPT
    assert "required" in html
    assert "3 values:</span> blue, green, red" in html
    row = re.search(r'<tr><td class="fname">tags</td>.*?</tr>', html).group(0)
    assert "BYTES" in row and "values" in row


def test_schema_page_truncates_long_domains_and_shows_ranges():
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    schema = text_format.Parse(
        """
        feature { name: "zip" type: BYTES domain: "zip" presence { min_fraction: 0.5 min_count: 3 }
                  value_count { min: 1 max: 1 } }
        feature { name: "rooms" type: INT int_domain { min: 1 max: 12 } shape { dim { size: 1 } } }
        feature { name: "price" type: FLOAT float_domain { min: 0.5 } value_count { min: 1 max: 4 } }
        string_domain { name: "zip" """
        + " ".join(f'value: "{n:05d}"' for n in range(30))
        + " }",
        schema_pb2.Schema(),
    )
    html = report.schema_html(schema, "Schema")
    assert "30 values:</span> 00000, 00001" in html and "00011" in html and "00012" not in html
    assert "and 18 more" in html
    assert "optional (≥ 50% of examples), min count 3" in html and "single value" in html
    assert "[1, 12]" in html and "[0.5, ∞]" in html and "1 to 4 values" in html and "shape [1]" in html


def test_anomalies_page(pages):
    html = pages["anomalies"]
    train, evaluated = html.split("<h2>eval</h2>")
    assert "<h2>train</h2>" in train and "No anomalies" in train and "<table>" not in train
    assert "3 anomalies" in evaluated
    color = re.search(r'<tr class="err"><td class="fname">color</td>.*?</tr>', evaluated).group(0)
    assert "error" in color and "Unexpected string values" in color and "purple" in color
    assert re.search(r'<tr class="err"><td class="fname">city</td>.*Column dropped', evaluated)


def test_drift_page_lists_drifted_tests_first(pages):
    html = pages["drift"]
    assert "2 of 4 tests drifted" in html
    order = re.findall(r'<tr class="(err|)"><td class="fname">(.*?)</td>', html)
    assert order == [("err", "age"), ("err", "income"), ("", "&lt;script&gt;alert(1)&lt;/script&gt;"), ("", "color")]
    assert "Kolmogorov-Smirnov" in html and "p &lt; threshold" in html and "statistic &gt; threshold" in html


def test_empty_inputs_still_make_a_page():
    from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

    assert "No features" in report.statistics_html({"train": statistics_pb2.DatasetFeatureStatisticsList()}, "S")
    assert "No anomalies" in report.anomalies_html({"train": anomalies_pb2.Anomalies()}, "A")
    assert "0 of 0 tests drifted" in report.drift_html([], "D")


# -- files -----------------------------------------------------------------------------------------


def test_write_report_replaces_the_file_atomically(tmp_path):
    uri = tmp_path / "artifact"
    uri.mkdir()
    path = report.write_report(str(uri), "<p>one</p>")
    assert path == str(uri / "report.html") and Path(path).read_text() == "<p>one</p>"
    assert report.write_report(str(uri), "<p>two</p>") == path and Path(path).read_text() == "<p>two</p>"
    assert os.listdir(uri) == ["report.html"]  # no temporary file left behind
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert report.write_report(str(uri), "x", name="other.html").endswith("other.html")


def test_rebuild_reads_tfx_file_layout(tmp_path, data):
    from google.protobuf import text_format

    stats_uri, schema_uri, anomalies_uri = (tmp_path / n for n in ("stats", "schema", "anomalies"))
    for split in ("train", "eval"):
        (stats_uri / f"Split-{split}").mkdir(parents=True)
        (stats_uri / f"Split-{split}" / "FeatureStats.pb").write_bytes(data["stats"][split].SerializeToString())
        (anomalies_uri / f"Split-{split}").mkdir(parents=True)
        (anomalies_uri / f"Split-{split}" / "SchemaDiff.pb").write_bytes(data["anomalies"][split].SerializeToString())
    schema_uri.mkdir()
    (schema_uri / "schema.pbtxt").write_text(text_format.MessageToString(data["schema"]))

    stats_html = report.rebuild("ExampleStatistics", str(stats_uri))
    assert stats_html and f"{N_TRAIN} examples" in stats_html and f"{N_EVAL} examples" in stats_html
    assert stats_html.index(">train<") < stats_html.index(">eval<")  # train first, whatever the listing order
    schema_html = report.rebuild("Schema", str(schema_uri))
    assert schema_html and "blue, green, red" in schema_html
    anomalies_html = report.rebuild("ExampleAnomalies", str(anomalies_uri))
    assert anomalies_html and "Column dropped" in anomalies_html
    assert report.rebuild("Model", str(tmp_path)) is None
    with pytest.raises(FileNotFoundError, match="Split-"):
        report.rebuild("ExampleStatistics", str(schema_uri))


def test_importing_the_module_imports_no_tensorflow():
    code = (
        "import json, sys, headrace.components.reports\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'tensorflow_data_validation', 'tensorflow_metadata', 'apache_beam'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


# -- what a person sees ----------------------------------------------------------------------------


def _screenshot(chromium: str, html_path: Path, png: Path, *flags: str) -> None:
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--screenshot={png}",
         "--window-size=1280,2000", f"--user-data-dir={png.parent / 'chromium-profile'}", *flags,
         html_path.as_uri()],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(png.parent)},
    )  # fmt: skip
    assert png.is_file(), f"no screenshot (exit {result.returncode}):\n{result.stderr[-3000:]}"


def _colors(png: Path) -> dict[tuple[int, int, int], int]:
    from PIL import Image

    with Image.open(png) as image:
        rgb = image.convert("RGB")
        assert rgb.size == (1280, 2000)
        return {color: count for count, color in rgb.getcolors(maxcolors=1 << 20)}


def _has(colors: dict[tuple[int, int, int], int], hex_color: str, at_least: int) -> bool:
    """Whether the screenshot has at least `at_least` pixels of this color (give or take antialiasing)."""
    want = tuple(int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    near = sum(n for c, n in colors.items() if all(abs(a - b) <= 6 for a, b in zip(c, want, strict=True)))
    return near >= at_least


@pytest.mark.parametrize("page", ["statistics", "schema", "anomalies", "drift"])
def test_chromium_renders_the_report(page, pages, tmp_path, chromium):
    uri = tmp_path / "artifact"
    html_path = Path(report.write_report(str(uri), pages[page]))
    png = tmp_path / f"{page}.png"
    _screenshot(chromium, html_path, png)
    assert png.stat().st_size > 15_000, "a nearly empty screenshot"
    colors = _colors(png)
    assert len(colors) > 50, "the page rendered as (nearly) one color"
    white = colors.get((255, 255, 255), 0)
    assert white < 0.985 * 1280 * 2000, "the page is blank"
    assert _has(colors, "#222222", 500), "no text rendered"
    if page == "statistics":
        assert _has(colors, "#4e79a7", 3000) and _has(colors, "#f28e2b", 3000), "histograms of train and eval"
        assert _has(colors, "#fdecea", 10_000), "the anomalous features' rows are not highlighted"
        assert _has(colors, "#d93025", 500), "no anomaly badges"
    if page in ("anomalies", "drift"):
        assert _has(colors, "#fdecea", 5_000) and _has(colors, "#d93025", 200)
    if page == "anomalies":
        assert _has(colors, "#e6f4ea", 5_000), "no green 'no anomalies' box for train"


# -- InteractiveContext.show -----------------------------------------------------------------------


@component
def WriteReport(statistics: OutputArtifact[standard_artifacts.ExampleStatistics], html: Parameter[str]):
    report.write_report(statistics.uri, html)


@component
def NoReport(examples: OutputArtifact[standard_artifacts.Examples]):
    Path(examples.uri, "data.csv").write_text("a\n1\n")


@pytest.fixture
def context_run(tmp_path, pages):
    from headrace import InteractiveContext

    context = InteractiveContext(pipeline_root=tmp_path / "root")
    with_report, without = WriteReport(html=pages["statistics"]), NoReport()
    result = context.run(with_report)
    context.run(without)
    return context, result, with_report.outputs["statistics"], without.outputs["examples"]


@pytest.fixture
def notebook(monkeypatch):
    """IPython as a notebook kernel has it: a shell, and display() collecting what the cell shows."""
    import IPython
    import IPython.display

    shown: list[str] = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    return shown


def test_context_show_puts_the_report_inline_in_a_notebook(context_run, notebook, pages, tmp_path, chromium):
    from html import unescape

    context, result, statistics, examples = context_run
    context.show(statistics)
    assert len(notebook) == 2 and "ExampleStatistics" in notebook[0]  # the artifact, then its report
    frame = notebook[1]
    frame_re = r'<div[^>]*><iframe srcdoc="([^"]*)" sandbox="" style="[^"]*height:(\d+)px.*</iframe></div>'
    match = re.fullmatch(frame_re, frame)
    assert match, frame[:300]
    assert unescape(match.group(1)) == pages["statistics"] and int(match.group(2)) >= 400
    assert "<script" not in frame.lower()

    notebook.clear()
    context.show(examples)  # no report: as before, the artifact alone
    assert len(notebook) == 1 and "Examples" in notebook[0] and "iframe" not in notebook[0]

    notebook.clear()
    context.show(result)  # a run's result: its summary, then the reports of its outputs
    assert len(notebook) == 2 and "WriteReport" in notebook[0] and notebook[1] == frame

    notebook.clear()
    context.show(statistics.get()[0])
    assert notebook[1] == frame
    # the frame shows the report, as a person sees it in the notebook
    page = tmp_path / "notebook.html"
    page.write_text(f"<!DOCTYPE html><html><body><h1>cell output</h1>{frame}</body></html>")
    png = tmp_path / "notebook.png"
    # Chromium renders a sandboxed frame in its own process, and a headless screenshot is taken
    # before that process paints about half the time; in one process it is painted every time.
    _screenshot(chromium, page, png, "--disable-features=IsolateSandboxedIframes")
    assert _has(_colors(png), "#4e79a7", 1000), "no histogram inside the frame"


def test_context_show_prints_the_report_url_outside_a_notebook(context_run, capsys):
    context, _, statistics, examples = context_run
    context.show(statistics)
    [artifact] = statistics.get()
    out = capsys.readouterr().out
    assert f"report: {Path(artifact.uri, 'report.html').resolve().as_uri()}" in out
    assert "ExampleStatistics" in out
    context.show(examples)
    assert "report:" not in capsys.readouterr().out
