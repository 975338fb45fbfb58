"""The main job's continuous-training form (pipelines/penguin/ct_pipeline.py) over the three shipped
spans: a first model is trained and promoted; a span without drift leaves the champion in service
(Trainer, Evaluator and Pusher SKIPPED, the decision says why); a drifted span retrains, pushes the
challenger, evaluates it against the champion and promotes it (TF Serving config and KServe manifest
follow, the alias history recorded); a rollback restores both. No model server runs here."""

from __future__ import annotations

import re
import runpy
import shutil
from pathlib import Path

import pytest
import yaml
from kserve_crd import validate_inference_service

from headrace import LocalDagRunner
from headrace.components.serving.model_registry import rollback
from headrace.metadata import Metadata, sqlite_metadata_connection_config
from headrace.metadata.model_aliases import alias_history, current_aliases

pytestmark = pytest.mark.slow("trains the penguin model on spans (TensorFlow)")

PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "penguin" / "ct_pipeline.py"


def _served(model_dir: Path) -> tuple[dict[str, int], str]:
    """The TF Serving config's labels (parsed by its protos) and the KServe manifest's storage URI."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = text_format.Parse(
        (model_dir / "model_server.config").read_text(), model_server_config_pb2.ModelServerConfig()
    )
    manifest = yaml.safe_load((model_dir / "inferenceservice.yaml").read_text())
    validate_inference_service(manifest)
    return dict(config.model_config_list.config[0].version_labels), manifest["spec"]["predictor"]["model"]["storageUri"]


def test_drift_gated_retraining_over_three_spans_no_model_server_here(tmp_path: Path) -> None:
    ct = runpy.run_path(str(PIPELINE))
    landing, root = tmp_path / "landing", tmp_path / "root"
    db = str(root / "metadata.sqlite")
    model_dir = root / "serving_model" / "penguin"

    def arrive(span: str) -> tuple[object, str]:
        shutil.copytree(Path(ct["SPANS"]) / span, landing / span)
        result = LocalDagRunner(quiet=True).run(ct["create_pipeline"](str(landing), str(root)))
        assert result.state == "COMPLETE", {n: o.error for n, o in result.nodes.items()}
        [why] = result.nodes["RetrainDecision"].outputs["why"]
        return result, Path(why).read_text()

    first, why = arrive("span-1")
    assert why == "retrain: no model in service yet"
    assert {n: first.nodes[n].state for n in ("Trainer", "Evaluator", "Pusher")} == dict.fromkeys(
        ("Trainer", "Evaluator", "Pusher"), "COMPLETE"
    )
    assert _served(model_dir) == ({"stable": 1}, f"{model_dir}/1")

    quiet, why = arrive("span-2")  # the same population: nothing moved
    assert {n: quiet.nodes[n].state for n in ("Trainer", "Evaluator", "Pusher")} == dict.fromkeys(
        ("Trainer", "Evaluator", "Pusher"), "SKIPPED"
    )
    assert why.startswith("no retrain: no feature drifted (lowest p=") and "days old (<= 30)" in why
    assert re.search(r"\(lowest p=[0-9.e-]+: \w+\)", why), why  # the feature nearest to drifting is named
    assert quiet.nodes["RetrainDecision"].summary == why  # the run summary says it too
    assert _served(model_dir) == ({"stable": 1}, f"{model_dir}/1")

    drifted, why = arrive("span-3")  # measured on a new scale
    assert why.startswith("retrain: the data drifted from the champion's training data: ")
    assert "body_mass_g (p=" in why and "flipper_length_mm (p=" in why
    assert drifted.nodes["Trainer"].state == "COMPLETE"
    evaluated = drifted.nodes["Evaluator"].summary  # against the champion, its baseline
    assert evaluated.startswith("blessed") and "(no baseline)" not in evaluated, evaluated
    assert "as challenger, promoted to champion" in drifted.nodes["Pusher"].summary
    assert _served(model_dir) == ({"stable": 2}, f"{model_dir}/2")
    md = Metadata(sqlite_metadata_connection_config(db))
    changes = [(c.alias, c.version) for c in alias_history(md, "penguin")]
    assert changes == [
        ("challenger", 1),
        ("champion", 1),
        ("challenger", None),
        ("challenger", 2),
        ("champion", 2),
        ("challenger", None),
    ]

    # A rollback restores the first model: version 3 is its copy, the champion and both files follow.
    done = rollback(None, "penguin", 1, metadata=db, reason="span 3's model misbehaves")
    assert done.version == 3
    assert {a: c.version for a, c in current_aliases(md, "penguin").items()} == {"champion": 3}
    assert _served(model_dir) == ({"stable": 3}, f"{model_dir}/3")
    assert (model_dir / "3" / "saved_model.pb").read_bytes() == (model_dir / "1" / "saved_model.pb").read_bytes()
