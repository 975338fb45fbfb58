"""headrace runs compare: two runs' parameters, code and recorded metrics side by side."""

from __future__ import annotations

import json
import subprocess
import sys

from headrace import LocalDagRunner

SOURCE = """
from headrace import OutputArtifact, Parameter, Pipeline, component
from headrace.types import standard_artifacts as sa


@component
def Train(model: OutputArtifact[sa.Model], model_run: OutputArtifact[sa.ModelRun], steps: Parameter[int] = 10):
    for artifact in (model, model_run):  # as headrace's Trainer does: the same numbers on both
        artifact.set_custom_property('metric:accuracy', 0.5 + steps / 1000)
        artifact.set_custom_property('train_steps', steps)
    if steps != 200:
        model.set_custom_property('metric:loss', 1 - steps / 1000)


def create_pipeline(root, steps):
    return Pipeline('cmp', root, [Train(steps=steps)])
"""


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "headrace", *args], capture_output=True, text=True, timeout=120)


def test_two_runs_side_by_side_with_the_differences_marked(write_module, tmp_path):
    mod = write_module(SOURCE, name="cmp_pipeline")
    root = str(tmp_path / "root")
    a = LocalDagRunner(quiet=True).run(mod.create_pipeline(root, 100))
    b = LocalDagRunner(quiet=True).run(mod.create_pipeline(root, 300))
    store = f"{root}/metadata.sqlite"
    text = _cli("runs", "compare", a.run_id, b.run_id, "--metadata", store)
    assert text.returncode == 0, text.stderr
    lines = {
        line[2:].split()[0]: line for line in text.stdout.splitlines() if line[:2] in ("* ", "  ") and line[2:].strip()
    }
    assert lines["Train.steps"].startswith("*") and "100" in lines["Train.steps"] and "300" in lines["Train.steps"]
    assert lines["Train.model.metric:accuracy"].startswith("*")
    assert "0.6" in lines["Train.model.metric:accuracy"] and "0.8" in lines["Train.model.metric:accuracy"]
    assert lines["Train"].startswith(" ")  # the code did not change (the code section)
    data = json.loads(_cli("runs", "compare", a.run_id, b.run_id, "--metadata", store, "--format", "json").stdout)
    assert data["runs"] == [a.run_id, b.run_id]
    rows = {(r["section"], r["name"]): r for r in data["rows"]}
    assert rows[("outputs", "Train.model.train_steps")]["values"] == [100, 300]
    assert rows[("code", "Train")]["differs"] is False
    one = _cli("runs", "compare", a.run_id, "--metadata", store)
    assert one.returncode == 1 and "at least two run ids" in one.stderr + one.stdout


def test_a_pipelines_latest_runs_plotted_in_the_terminal(write_module, tmp_path):
    mod = write_module(SOURCE, name="cmp_plot_pipeline")
    root = str(tmp_path / "root")
    ids = [LocalDagRunner(quiet=True).run(mod.create_pipeline(root, steps)).run_id for steps in (100, 400, 200, 300)]
    store = f"{root}/metadata.sqlite"
    text = _cli("runs", "compare", "--name", "cmp", "--last", "3", "--plot", "--metadata", store)
    assert text.returncode == 0, text.stderr
    assert ids[0] not in text.stdout and all(i in text.stdout for i in ids[1:])  # the latest three
    plot = text.stdout[text.stdout.index("3 runs, oldest on the left") :]
    [line] = [x for x in plot.splitlines() if "metric:accuracy" in x]  # once: model_run's copy is not repeated
    assert "Train.model.metric:accuracy" in line
    assert "█▁▅" in line and "first 0.9  min 0.7  max 0.9  last 0.8" in line, line  # 0.9, 0.7, 0.8
    [loss] = [x for x in plot.splitlines() if "metric:loss" in x]
    assert "▁ █" in loss and "first 0.6  min 0.6  max 0.7  last 0.7" in loss, loss  # the run of 200 steps: a gap
    assert "train_steps" not in plot  # a setting, not a result
    # Run ids in any order are plotted oldest first.
    shuffled = _cli("runs", "compare", ids[3], ids[1], "--plot", "--metadata", store)
    assert "first 0.9  min 0.8  max 0.9  last 0.8" in shuffled.stdout, shuffled.stdout
    few = _cli("runs", "compare", "--name", "nope", "--metadata", store)
    assert few.returncode == 1 and "has 0 run(s)" in few.stderr + few.stdout
