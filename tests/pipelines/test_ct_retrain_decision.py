"""The continuous-training pipeline's RetrainDecision by age: the champion's age is when its Trainer
trained it (the Model's `trained_at_ms`), not its folder's time, which a copy or a restore changes."""

from __future__ import annotations

import json
import os
import runpy
import time
from pathlib import Path

import pytest

from headrace import Importer, LocalDagRunner, Pipeline
from headrace.types.standard_artifacts import ExampleAnomalies, Model

PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "penguin" / "ct_pipeline.py"
DAY_MS = 86400 * 1000


@pytest.mark.parametrize("trained_days_ago, retrain", [(40, True), (2, False)])
def test_the_champions_age_is_its_training_time_not_its_folders(tmp_path, trained_days_ago, retrain):
    decide = runpy.run_path(str(PIPELINE))["RetrainDecision"]
    drift = tmp_path / "drift"
    drift.mkdir()
    rows = [{"feature": "bill_length_mm", "drifted": False, "p_value": 0.4}]
    (drift / "drift.json").write_text(json.dumps({"rows": rows}))
    model = tmp_path / "model"
    model.mkdir()
    (model / "saved_model.pb").write_text("graph")
    os.utime(model, (time.time(), time.time()))  # the folder looks new: copied or restored today
    trained_at = int(time.time() * 1000) - trained_days_ago * DAY_MS
    anomalies = Importer(source_uri=str(drift), artifact_type=ExampleAnomalies).with_id("drift")
    champion = Importer(
        source_uri=str(model), artifact_type=Model, custom_properties={"trained_at_ms": trained_at}
    ).with_id("champion")
    decision = decide(drift=anomalies.outputs["result"], champion=champion.outputs["result"], max_age_days=30.0)
    result = LocalDagRunner(quiet=True).run(Pipeline("age", str(tmp_path / "root"), [anomalies, champion, decision]))
    [why] = result.nodes["RetrainDecision"].outputs["why"]
    [decided] = result.nodes["RetrainDecision"].outputs["retrain"]
    text, value = Path(why).read_text(), Path(decided).read_text()
    assert f"{trained_days_ago - 0.1:.1f}" <= text.split(" days old")[0].split()[-1] <= f"{trained_days_ago:.1f}"
    assert text.startswith("retrain: the champion is" if retrain else "no retrain: no feature drifted"), text
    assert value in (("1", "true", "True") if retrain else ("0", "false", "False")), value
