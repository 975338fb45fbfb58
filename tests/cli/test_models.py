"""`headrace models list` and `headrace models rollback`, in a fresh process per command, on a store
that a real Pusher run filled (fake SavedModels: the Pusher copies directories, it never loads one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pushes import push_model

from headrace import Importer, InputArtifact, LocalDagRunner, OutputArtifact, Parameter, Pipeline, component
from headrace.components.serving.aliases import OWN_FILES
from headrace.components.serving.model_registry import versions
from headrace.components.serving.pusher import Pusher
from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config
from headrace.types.standard_artifacts import Examples, Model, ModelBlessing

REPO = Path(__file__).resolve().parents[2]


def headrace(*args: Any, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Runs `headrace ARGS` in a new process; HEADRACE_* variables come only from `env`."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HEADRACE_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "headrace.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=REPO,
        timeout=120,
    )


@pytest.fixture
def pushed(tmp_path: Path) -> dict[str, Any]:
    """Two pushed versions of 'penguin' (1 and 2), and one unblessed run that pushed nothing."""
    runs = [push_model(tmp_path, "one", 1), push_model(tmp_path, "two", 1), push_model(tmp_path, "three", 0)]
    return {"tmp": tmp_path, "db": str(tmp_path / "root" / "metadata.sqlite"), "runs": runs}


def test_models_list_shows_each_pushed_version_and_the_served_one(pushed: dict[str, Any]) -> None:
    proc = headrace("models", "list", "--metadata", pushed["db"])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["MODEL", "VERSION", "PUSHED", "AT", "BLESSED", "RUN", "DESTINATION"]
    rows = [line.split() for line in lines[1:]]
    assert len(rows) == 2  # the unblessed run pushed nothing
    first, second = rows
    assert first[:2] == ["penguin", "1"] and "blessed" in first and pushed["runs"][0] in first
    assert second[:3] == ["*", "penguin", "2"] and pushed["runs"][1] in second  # '*': what TF Serving serves
    assert second[-1] == str(pushed["tmp"] / "serving" / "penguin" / "2")


def test_models_list_json_and_a_name_filter(pushed: dict[str, Any]) -> None:
    proc = headrace("models", "list", "penguin", "--json", env={"HEADRACE_METADATA": pushed["db"]})
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert [(p["version"], p["blessed"], p["serving"], p["run_id"]) for p in found] == [
        (1, True, False, pushed["runs"][0]),
        (2, True, True, pushed["runs"][1]),
    ]
    other = headrace("models", "list", "other", "--metadata", pushed["db"])
    assert other.returncode == 0 and "no pushes of model 'other'" in other.stdout


def test_models_rollback_re_points_serving_and_is_recorded(pushed: dict[str, Any]) -> None:
    serving = pushed["tmp"] / "serving"
    proc = headrace("models", "rollback", "penguin", "1", "--base-directory", serving, "--metadata", pushed["db"])
    assert proc.returncode == 0, proc.stderr
    assert "version 3 is a copy of version 1" in proc.stdout
    model_dir = serving / "penguin"
    assert versions(model_dir) == [1, 2, 3]
    assert (model_dir / "3" / "saved_model.pb").read_text() == "graph one"
    assert (model_dir / "3" / "variables" / "variables.index").read_text() == "weights one"

    # Without --base-directory the store says where the model lives.
    again = headrace("models", "rollback", "penguin", "2", "--reason", "one is worse", "--metadata", pushed["db"])
    assert again.returncode == 0, again.stderr
    assert (model_dir / "4" / "saved_model.pb").read_text() == "graph two"

    listed = json.loads(headrace("models", "list", "--json", "--metadata", pushed["db"]).stdout)
    assert [(p["version"], p["rollback_of"], p["serving"]) for p in listed] == [
        (1, None, False),
        (2, None, False),
        (3, 1, False),
        (4, 2, True),
    ]
    md = Metadata(sqlite_metadata_connection_config(pushed["db"]))
    executions = md.call(md.store.get_executions_by_type, "headrace.ModelRollback")
    infos = MetadataReader(md)._execution_infos(executions)
    assert [(e.properties["rollback_of_version"], e.properties["new_version"]) for e in infos] == [(1, 3), (2, 4)]
    assert infos[1].properties["reason"] == "one is worse"
    assert [a.custom_properties["pushed_version"] for a in infos[0].inputs["pushed_model"]] == ["1"]


def test_models_rollback_errors_are_messages(pushed: dict[str, Any]) -> None:
    missing = headrace("models", "rollback", "penguin", "9", "--metadata", pushed["db"])
    assert missing.returncode != 0
    assert "no version 9" in missing.stderr and "versions: 1, 2" in missing.stderr
    assert "Traceback" not in missing.stderr
    current = headrace("models", "rollback", "penguin", "2", "--metadata", pushed["db"])
    assert current.returncode != 0 and "already the one served" in current.stderr
    unknown = headrace("models", "rollback", "nope", "1", "--metadata", pushed["db"])
    assert unknown.returncode != 0 and "Models pushed: penguin" in unknown.stderr
    no_store = headrace("models", "rollback", "penguin", "1")
    assert no_store.returncode != 0 and "Which metadata store?" in no_store.stderr
    assert sorted(set(os.listdir(pushed["tmp"] / "serving" / "penguin")) - OWN_FILES) == [
        "1",
        "2",
    ]  # nothing was written


@component
def FakeTrainer(examples: InputArtifact[Examples], model: OutputArtifact[Model], epochs: Parameter[int] = 3) -> None:
    """Writes a SavedModel-shaped folder where TFX's Trainer puts the serving model."""
    serving = os.path.join(model.uri, "Format-Serving")
    os.makedirs(os.path.join(serving, "variables"))
    with open(os.path.join(serving, "saved_model.pb"), "w") as f:
        f.write(f"trained {epochs} epochs on {examples.uri}")


def test_models_show_gives_each_version_its_blessing_run_and_data(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "blessing").mkdir()
    examples = Importer(source_uri=str(tmp_path / "data"), artifact_type=Examples).with_id("examples")
    trainer = FakeTrainer(examples=examples.outputs["result"], epochs=7)
    blessing = Importer(
        source_uri=str(tmp_path / "blessing"), artifact_type=ModelBlessing, custom_properties={"blessed": 1}
    ).with_id("blessing")
    pusher = Pusher(
        model=trainer.outputs["model"],
        model_blessing=blessing.outputs["result"],
        push_destination={"filesystem": {"base_directory": str(tmp_path / "serving" / "penguin")}},
    )
    pipeline = Pipeline("penguin", str(tmp_path / "root"), [examples, trainer, blessing, pusher])
    runner = LocalDagRunner(quiet=True, raise_on_failure=False)
    run_ids = [runner.run(pipeline, enable_cache=False).run_id for _ in range(2)]
    db = str(tmp_path / "root" / "metadata.sqlite")
    assert headrace("models", "rollback", "penguin", "1", "--reason", "drift", "--metadata", db).returncode == 0

    proc = headrace("models", "show", "penguin", "--metadata", db)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert f"in {tmp_path / 'serving' / 'penguin'}: TensorFlow Serving serves version 3" in text
    v1 = text[text.index("  version 1:") : text.index("  version 2:")]
    assert f"run {run_ids[0]}, blessed" in v1
    assert "model: Model #" in v1 and "<- FakeTrainer (execution #" in v1
    assert f"examples: Examples #1 {tmp_path / 'data'}" in v1  # the data the model was trained on
    assert "model_blessing: ModelBlessing #" in v1 and "blessed=1" in v1
    assert "* version 3:" in text and "rollback to version 1 by " in text and ": drift" in text

    found = json.loads(headrace("models", "show", "penguin", "--json", "--metadata", db).stdout)
    assert [v["version"] for v in found] == [1, 2, 3]
    [model_input] = [n for n in found[0]["lineage"]["inputs"] if n["artifact"]["type_name"] == "Model"]
    assert model_input["producer"]["node_id"] == "FakeTrainer"
    assert model_input["inputs"][0]["artifact"]["uri"] == str(tmp_path / "data")

    missing = headrace("models", "show", "other", "--metadata", db)
    assert missing.returncode != 0 and "Models pushed: penguin" in missing.stderr


def test_models_list_on_a_store_without_pushes(tmp_path: Path) -> None:
    db = str(tmp_path / "metadata.sqlite")
    Metadata(sqlite_metadata_connection_config(db))  # an empty store
    proc = headrace("models", "list", "--metadata", db)
    assert proc.returncode == 0 and proc.stdout.strip() == "no pushed models"
