"""The main job end to end: the penguin pipeline trains, evaluates, validates serving, pushes a
version and predicts; a re-run is cached; a threshold the model cannot meet pushes nothing."""

from __future__ import annotations

import copy
import json
import runpy
import shutil
from pathlib import Path

import pytest

from headrace import LocalDagRunner

pytestmark = pytest.mark.slow("trains and serves the penguin model (TensorFlow)")

PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "penguin" / "pipeline.py"


@pytest.fixture(scope="module")
def penguin() -> dict:
    return runpy.run_path(str(PIPELINE))


def test_trains_blesses_pushes_and_predicts_then_a_rerun_is_cached(penguin: dict, tmp_path: Path) -> None:
    root = tmp_path / "root"
    module = tmp_path / "penguin_trainer.py"
    shutil.copy(PIPELINE.parent / "penguin_trainer.py", module)
    first = LocalDagRunner(quiet=True).run(penguin["create_pipeline"](root=str(root), module_file=str(module)))
    assert first.state == "COMPLETE"
    metrics = json.loads((Path(first.nodes["Evaluator"].outputs["evaluation"][0]) / "evaluation.json").read_text())
    assert metrics["candidate"]["Overall"]["sparse_categorical_accuracy"] >= 0.9
    assert first.nodes["Evaluator"].summary.startswith("blessed")
    assert sorted(p.name for p in (root / "serving_model" / "penguin").iterdir()) == ["1"]
    assert (root / "serving_model" / "penguin" / "1" / "saved_model.pb").exists()
    predictions = Path(first.nodes["BulkInferrer"].outputs["inference_result"][0])
    assert sorted(p.name for p in predictions.iterdir()) == ["Split-eval", "Split-train"]
    assert "predictions: train" in first.nodes["BulkInferrer"].summary

    again = LocalDagRunner(quiet=True).run(penguin["create_pipeline"](root=str(root), module_file=str(module)))
    states = {n: o.state for n, o in again.nodes.items() if n != "latest_blessed_model_resolver"}
    assert set(states.values()) == {"CACHED"}, states  # the baseline is never the cached candidate itself
    assert sorted(p.name for p in (root / "serving_model" / "penguin").iterdir()) == ["1"]

    # Editing only the trainer module file retrains from Trainer down; nothing upstream runs again.
    module.write_text(module.read_text() + "\n# an edit: a comment is enough to change the code\n")
    edited = LocalDagRunner(quiet=True).run(penguin["create_pipeline"](root=str(root), module_file=str(module)))
    states = {n: o.state for n, o in edited.nodes.items() if n != "latest_blessed_model_resolver"}
    upstream = {"CsvExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator"}
    assert {n for n, s in states.items() if s == "CACHED"} == upstream, states
    assert {n for n, s in states.items() if s == "COMPLETE"} >= {
        "Trainer",
        "Evaluator",
        "InfraValidator",
        "BulkInferrer",
    }


def test_a_threshold_the_model_cannot_meet_pushes_nothing(penguin: dict, tmp_path: Path) -> None:
    config = copy.deepcopy(penguin["EVAL_CONFIG"])
    config["metrics_specs"][0]["metrics"][1]["threshold"]["value_threshold"]["lower_bound"]["value"] = 1.01
    root = tmp_path / "root"
    result = LocalDagRunner(quiet=True).run(penguin["create_pipeline"](root=str(root), eval_config=config))
    assert result.state == "COMPLETE"
    assert result.nodes["Evaluator"].summary.startswith("NOT blessed")
    assert result.nodes["Pusher"].state == "SKIPPED" and result.nodes["Pusher"].by_condition
    assert not (root / "serving_model").exists()
    assert not any(Path(result.nodes["BulkInferrer"].outputs["inference_result"][0]).iterdir())
