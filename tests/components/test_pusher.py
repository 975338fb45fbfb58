"""Pusher and rollback on fake SavedModels (a saved_model.pb-named file and a variables/ folder: the
Pusher copies directories and never loads a model), run by LocalDagRunner on ML Metadata in SQLite."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from headrace import Importer, LocalDagRunner, Pipeline
from headrace.components import proto
from headrace.components.serving import model_registry
from headrace.components.serving.aliases import OWN_FILES
from headrace.components.serving.pusher import Executor as PusherExecutor
from headrace.components.serving.pusher import Pusher, rollback
from headrace.dsl.executor import ExecutorClassSpec
from headrace.errors import DefinitionError
from headrace.metadata import ArtifactInfo, Metadata, MetadataReader, sqlite_metadata_connection_config
from headrace.orchestrators import RunResult
from headrace.types.standard_artifacts import InfraBlessing, Model, ModelBlessing


def fake_model(path: Path, tag: str = "a", serving_subdir: bool = False) -> Path:
    """A directory shaped like a SavedModel; `tag` makes its content distinguishable."""
    top = path / "Format-Serving" if serving_subdir else path
    (top / "variables").mkdir(parents=True, exist_ok=True)
    (top / "saved_model.pb").write_text(f"graph {tag}")
    (top / "variables" / "variables.data-00000-of-00001").write_text(f"weights {tag}" * 100)
    (top / "variables" / "variables.index").write_text(f"index {tag}")
    (top / "assets").mkdir(exist_ok=True)
    return path


def tree(path: Path | str) -> dict[str, str]:
    """Relative path -> content of every file under `path`."""
    out = {}
    for root, _, files in os.walk(path):
        for f in files:
            full = os.path.join(root, f)
            out[os.path.relpath(full, path)] = Path(full).read_text()
    return out


def blessing(tmp: Path, name: str, value: int, kind: Any = ModelBlessing, **props: Any) -> Importer:
    uri = tmp / "blessings" / name
    uri.mkdir(parents=True, exist_ok=True)
    return Importer(source_uri=str(uri), artifact_type=kind, custom_properties={"blessed": value, **props}).with_id(
        name
    )


def run(tmp: Path, *components: Any, mode: str = "process", name: str = "penguin") -> RunResult:
    pipeline = Pipeline(pipeline_name=name, pipeline_root=str(tmp / "root"), components=list(components))
    runner = LocalDagRunner(raise_on_failure=False, quiet=True, executor_mode=mode)
    return runner.run(pipeline, enable_cache=False)


def push(
    tmp: Path,
    model: Path,
    *blessings: tuple[str, int, Any],
    destination: Any = None,
    custom_config: dict[str, Any] | None = None,
    mode: str = "process",
) -> RunResult:
    """One run: Importer(model) [+ Importer(blessing)...] -> Pusher."""
    m = Importer(source_uri=str(model), artifact_type=Model).with_id("model")
    imported = {key: blessing(tmp, f"{key}_{value}", value, kind) for key, value, kind in blessings}
    pusher = Pusher(
        model=m.outputs["result"],
        **{key: node.outputs["result"] for key, node in imported.items()},
        push_destination=destination or {"filesystem": {"base_directory": str(tmp / "serving" / "penguin")}},
        custom_config=custom_config,
    )
    return run(tmp, m, *imported.values(), pusher, mode=mode)


def pushed_model(tmp: Path, result: RunResult) -> ArtifactInfo:
    assert result.state == "COMPLETE", {n: o.error for n, o in result.nodes.items()}
    reader = MetadataReader(store(tmp))
    [ex] = [e for e in reader.executions(result.run_id) if e.node_id == "Pusher"]
    return ex.outputs["pushed_model"][0]


def store(tmp: Path) -> Metadata:
    return Metadata(sqlite_metadata_connection_config(str(tmp / "root" / "metadata.sqlite")))


BLESSED = ("model_blessing", 1, ModelBlessing)
NOT_BLESSED = ("model_blessing", 0, ModelBlessing)


# -- pushing -------------------------------------------------------------------------------------------


def test_blessed_model_is_pushed_as_version_1_then_2(tmp_path: Path) -> None:
    model_dir = tmp_path / "serving" / "penguin"
    first = pushed_model(tmp_path, push(tmp_path, fake_model(tmp_path / "m1", "one"), BLESSED))
    assert first.type_name == "PushedModel"
    props = first.custom_properties
    assert props["pushed"] == 1
    assert props["pushed_version"] == "1"
    assert props["pushed_destination"] == str(model_dir / "1")
    assert props["model_name"] == "penguin"  # the destination's last segment (TFX's layout)
    assert props["model_base_path"] == str(model_dir)
    assert tree(model_dir / "1") == tree(tmp_path / "m1")

    second = pushed_model(tmp_path, push(tmp_path, fake_model(tmp_path / "m2", "two"), BLESSED))
    assert second.custom_properties["pushed_version"] == "2"
    assert sorted(set(os.listdir(model_dir)) - OWN_FILES) == ["1", "2"]  # no temporary directory left beside them
    assert tree(model_dir / "2") == tree(tmp_path / "m2")
    assert tree(model_dir / "1") == tree(tmp_path / "m1")  # an earlier version is never touched


def test_a_cached_rerun_pushes_nothing_new(tmp_path: Path) -> None:
    model = fake_model(tmp_path / "m")
    m = Importer(source_uri=str(model), artifact_type=Model).with_id("model")
    b = blessing(tmp_path, "b", 1)
    pusher = Pusher(
        model=m.outputs["result"],
        model_blessing=b.outputs["result"],
        push_destination={"filesystem": {"base_directory": str(tmp_path / "serving" / "penguin")}},
    )
    pipeline = Pipeline(pipeline_name="penguin", pipeline_root=str(tmp_path / "root"), components=[m, b, pusher])
    runner = LocalDagRunner(raise_on_failure=False, quiet=True)
    assert runner.run(pipeline).node_states["Pusher"] == "COMPLETE"
    assert runner.run(pipeline).node_states["Pusher"] == "CACHED"  # same model, same blessing: already pushed
    assert sorted(set(os.listdir(tmp_path / "serving" / "penguin")) - OWN_FILES) == ["1"]


def test_a_relative_base_directory_is_taken_from_where_the_pipeline_is_defined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    pusher = Pusher(
        model=Importer(source_uri="/m", artifact_type=Model).outputs["result"],
        push_destination={"filesystem": {"base_directory": "serving_model/penguin-simple"}},
    )
    fs = pusher.exec_properties["push_destination"]["filesystem"]
    assert fs == {"base_directory": str(tmp_path / "serving_model" / "penguin-simple"), "versioning": 0}


def test_versions_continue_after_the_highest_present(tmp_path: Path) -> None:
    model_dir = tmp_path / "serving" / "penguin"
    (model_dir / "1582798459").mkdir(parents=True)  # a TFX timestamp version
    (model_dir / "notes").mkdir()  # not a version: ignored, as TF Serving ignores it
    art = pushed_model(tmp_path, push(tmp_path, fake_model(tmp_path / "m"), BLESSED))
    assert art.custom_properties["pushed_version"] == "1582798460"


def test_model_name_in_custom_config_nests_the_model_under_the_base_directory(tmp_path: Path) -> None:
    root = tmp_path / "models"
    result = push(
        tmp_path,
        fake_model(tmp_path / "m"),
        BLESSED,
        destination={"filesystem": {"base_directory": str(root)}},
        custom_config={"model_name": "penguin-clf"},
    )
    art = pushed_model(tmp_path, result)
    assert art.custom_properties["pushed_destination"] == str(root / "penguin-clf" / "1")
    assert art.custom_properties["model_name"] == "penguin-clf"
    assert os.listdir(root) == ["penguin-clf"]


def test_the_serving_folder_of_a_trainer_model_is_what_is_pushed(tmp_path: Path) -> None:
    model = fake_model(tmp_path / "m", "served", serving_subdir=True)
    (model / "Format-TFMA").mkdir()
    (model / "Format-TFMA" / "saved_model.pb").write_text("eval graph")
    pushed_model(tmp_path, push(tmp_path, model, BLESSED))
    assert tree(tmp_path / "serving" / "penguin" / "1") == tree(model / "Format-Serving")


def test_unblessed_model_is_not_pushed_and_the_step_succeeds(tmp_path: Path) -> None:
    result = push(tmp_path, fake_model(tmp_path / "m"), NOT_BLESSED)
    art = pushed_model(tmp_path, result)
    assert art.custom_properties["pushed"] == 0
    assert "not blessed" in art.custom_properties["pushed_reason"]
    assert "pushed_version" not in art.custom_properties
    assert not (tmp_path / "serving").exists()
    assert model_registry.pushed_versions(store(tmp_path)) == []


def test_without_a_blessing_the_model_is_pushed(tmp_path: Path) -> None:
    art = pushed_model(tmp_path, push(tmp_path, fake_model(tmp_path / "m")))
    assert art.custom_properties["pushed"] == 1
    [recorded] = model_registry.pushed_versions(store(tmp_path))
    assert recorded.blessed is None and recorded.serving and recorded.version == 1


def test_infra_blessing_must_say_blessed_too(tmp_path: Path) -> None:
    refused = pushed_model(
        tmp_path, push(tmp_path, fake_model(tmp_path / "m"), BLESSED, ("infra_blessing", 0, InfraBlessing))
    )
    assert refused.custom_properties["pushed"] == 0
    assert "InfraValidator" in refused.custom_properties["pushed_reason"]
    assert not (tmp_path / "serving").exists()

    accepted = pushed_model(
        tmp_path, push(tmp_path, fake_model(tmp_path / "m"), BLESSED, ("infra_blessing", 1, InfraBlessing))
    )
    assert accepted.custom_properties["pushed"] == 1
    [recorded] = model_registry.pushed_versions(store(tmp_path))
    assert recorded.blessed is True and recorded.version == 1 and recorded.run_id


def test_infra_blessing_with_a_warmed_up_model_stands_for_the_model(tmp_path: Path) -> None:
    infra = blessing(tmp_path, "infra", 1, InfraBlessing, has_model=1)
    fake_model(Path(tmp_path / "blessings" / "infra" / "stamped_model"), "stamped")
    pusher = Pusher(
        infra_blessing=infra.outputs["result"],
        push_destination={"filesystem": {"base_directory": str(tmp_path / "serving" / "penguin")}},
    )
    pushed_model(tmp_path, run(tmp_path, infra, pusher))
    assert tree(tmp_path / "serving" / "penguin" / "1") == tree(tmp_path / "blessings" / "infra" / "stamped_model")


def test_unix_timestamp_versioning_keeps_tfx_versions(tmp_path: Path) -> None:
    before = int(time.time())
    destination = {"filesystem": {"base_directory": str(tmp_path / "serving" / "p"), "versioning": "UNIX_TIMESTAMP"}}
    art = pushed_model(tmp_path, push(tmp_path, fake_model(tmp_path / "m"), BLESSED, destination=destination))
    assert before <= int(art.custom_properties["pushed_version"]) <= int(time.time())


def test_tfx_push_destination_proto_is_accepted(tmp_path: Path) -> None:
    destination = proto.PushDestination(
        filesystem=proto.PushDestination.Filesystem(base_directory=str(tmp_path / "serving" / "penguin"))
    )
    art = pushed_model(tmp_path, push(tmp_path, fake_model(tmp_path / "m"), BLESSED, destination=destination))
    assert art.custom_properties["pushed_destination"] == str(tmp_path / "serving" / "penguin" / "1")


class _CloudPusher(PusherExecutor):
    """A TFX-style custom executor: TFX's CheckBlessing / _MarkPushed / _MarkNotPushed."""

    def Do(self, input_dict: Any, output_dict: Any, exec_properties: Any) -> None:
        out = output_dict["pushed_model"][0]
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(out)
            return
        self._MarkPushed(out, pushed_destination=f"cloud://{exec_properties['custom_config']['project']}/m")


@pytest.mark.parametrize("blessed", [1, 0])
def test_a_custom_executor_in_tfx_style_needs_no_destination(tmp_path: Path, blessed: int) -> None:
    model = Importer(source_uri=str(fake_model(tmp_path / "m")), artifact_type=Model).with_id("model")
    bless = blessing(tmp_path, "b", blessed)
    pusher = Pusher(
        model=model.outputs["result"],
        model_blessing=bless.outputs["result"],
        custom_config={"project": "p1"},
        custom_executor_spec=ExecutorClassSpec(_CloudPusher),
    )
    art = pushed_model(tmp_path, run(tmp_path, model, bless, pusher, mode="inprocess"))
    assert art.custom_properties["pushed"] == blessed
    assert art.custom_properties.get("pushed_destination") == ("cloud://p1/m" if blessed else None)


# -- atomicity and concurrency ----------------------------------------------------------------------------


def test_a_crash_mid_copy_leaves_no_partial_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pushed_model(tmp_path, push(tmp_path, fake_model(tmp_path / "m1", "one"), BLESSED, mode="inprocess"))
    real_copy = shutil.copy2
    copied: list[str] = []

    def failing_copy(src: str, dst: str, **kwargs: Any) -> Any:
        if len(copied) == 2:
            raise OSError(28, "No space left on device")
        copied.append(src)
        return real_copy(src, dst, **kwargs)

    real_copytree = shutil.copytree

    def copytree(src: str, dst: str, *args: Any, **kwargs: Any) -> Any:  # copytree recurses through this name
        return real_copytree(src, dst, copy_function=failing_copy)

    monkeypatch.setattr(shutil, "copytree", copytree)
    result = push(tmp_path, fake_model(tmp_path / "m2", "two"), BLESSED, mode="inprocess")
    assert result.state == "FAILED"
    assert "No space left on device" in str(result.nodes["Pusher"].error)
    model_dir = tmp_path / "serving" / "penguin"
    assert sorted(set(os.listdir(model_dir)) - OWN_FILES) == ["1"]  # no half-written version 2, no temporary directory
    assert tree(model_dir / "1") == tree(tmp_path / "m1")


def test_a_version_taken_by_a_concurrent_push_moves_to_the_next_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = tmp_path / "serving" / "m"
    other = fake_model(tmp_path / "other", "other")
    real_rename = os.rename

    def racing_rename(src: str, dst: str) -> None:
        if os.path.basename(dst) == "1" and not os.path.exists(dst):
            shutil.copytree(other, dst)  # another pusher finished version 1 between our check and rename
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", racing_rename)
    version, dest = model_registry.push_version(str(fake_model(tmp_path / "mine", "mine")), str(model_dir))
    assert (version, dest) == (2, str(model_dir / "2"))
    assert tree(model_dir / "1") == tree(other)
    assert tree(model_dir / "2") == tree(tmp_path / "mine")
    assert sorted(os.listdir(model_dir)) == ["1", "2"]


def test_a_copy_left_by_a_killed_push_is_removed_by_the_next(tmp_path: Path) -> None:
    import subprocess
    import sys

    model_dir = tmp_path / "serving" / "m"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = model_registry._HOST
    abandoned = model_dir / f"{model_registry.TMP_PREFIX}{host}-{int(dead.stdout)}-0a1b2c3d"
    running = model_dir / f"{model_registry.TMP_PREFIX}{host}-{os.getpid()}-0a1b2c3d"  # a push still copying
    for d in (abandoned, running):
        (d / "variables").mkdir(parents=True)
    version, _ = model_registry.push_version(str(fake_model(tmp_path / "m")), str(model_dir))
    assert version == 1  # the hidden copies never count as versions
    assert sorted(os.listdir(model_dir)) == sorted(["1", running.name])


def _push_in_process(args: tuple[str, str]) -> int:
    return model_registry.push_version(*args)[0]


def test_concurrent_pushes_get_distinct_complete_versions(tmp_path: Path) -> None:
    sources = [str(fake_model(tmp_path / f"m{i}", f"model {i}")) for i in range(8)]
    model_dir = str(tmp_path / "serving" / "m")
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        got = pool.map(_push_in_process, [(s, model_dir) for s in sources])
    assert sorted(got) == list(range(1, 9))
    assert sorted(os.listdir(model_dir), key=int) == [str(v) for v in range(1, 9)]
    for source, version in zip(sources, got, strict=True):
        assert tree(os.path.join(model_dir, str(version))) == tree(source)


# -- definition errors ------------------------------------------------------------------------------------


def _model() -> Importer:
    return Importer(source_uri="/nowhere", artifact_type=Model)


def test_push_destination_is_required() -> None:
    with pytest.raises(DefinitionError, match="push_destination is required"):
        Pusher(model=_model().outputs["result"])
    with pytest.raises(DefinitionError, match="base_directory is required"):
        Pusher(model=_model().outputs["result"], push_destination={"filesystem": {}})
    with pytest.raises(DefinitionError, match="filesystem"):
        Pusher(model=_model().outputs["result"], push_destination={"base_directory": "/x"})


def test_inputs_are_type_checked() -> None:
    model = _model().outputs["result"]
    with pytest.raises(DefinitionError, match="model_blessing' expects a channel of ModelBlessing"):
        Pusher(model=model, model_blessing=model, push_destination={"filesystem": {"base_directory": "/x"}})
    blessing_channel = Importer(source_uri="/b", artifact_type=ModelBlessing).outputs["result"]
    with pytest.raises(DefinitionError, match="'model' expects a channel of Model"):
        Pusher(model=blessing_channel, push_destination={"filesystem": {"base_directory": "/x"}})
    with pytest.raises(DefinitionError, match="give model="):
        Pusher(model_blessing=blessing_channel, push_destination={"filesystem": {"base_directory": "/x"}})


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", "", "."])
def test_a_model_name_must_stay_inside_the_base_directory(name: str) -> None:
    with pytest.raises(DefinitionError, match="cannot be a directory name"):
        Pusher(
            model=_model().outputs["result"],
            push_destination={"filesystem": {"base_directory": "/x"}},
            custom_config={"model_name": name},
        )


def test_only_local_destinations() -> None:
    with pytest.raises(model_registry.ModelRegistryError, match="local"):
        Pusher(model=_model().outputs["result"], push_destination={"filesystem": {"base_directory": "gs://b/m"}})


# -- rollback ---------------------------------------------------------------------------------------------


def test_rollback_serves_the_earlier_version_again_and_is_recorded(tmp_path: Path) -> None:
    model_dir = tmp_path / "serving" / "penguin"
    pushed_model(tmp_path, push(tmp_path, fake_model(tmp_path / "m1", "one"), BLESSED))
    pushed_model(tmp_path, push(tmp_path, fake_model(tmp_path / "m2", "two"), BLESSED))
    md = store(tmp_path)

    done = rollback(str(tmp_path / "serving"), "penguin", 1, metadata=md, reason="v2 misbehaves")
    assert (done.version, done.rollback_of, done.previous_version) == (3, 1, 2)
    assert model_registry.serving_version(str(model_dir)) == 3  # TF Serving's default policy serves the highest
    assert tree(model_dir / "3") == tree(tmp_path / "m1")
    assert tree(model_dir / "2") == tree(tmp_path / "m2")

    listed = model_registry.pushed_versions(md, "penguin")
    assert [(p.version, p.rollback_of, p.serving) for p in listed] == [(1, None, False), (2, None, False), (3, 1, True)]
    reader = MetadataReader(md)
    [execution] = reader._execution_infos(md.call(md.store.get_executions_by_id, [done.execution_id]))
    assert execution.type_name == "headrace.ModelRollback"
    assert execution.state == "COMPLETE"
    assert execution.properties["reason"] == "v2 misbehaves"
    assert execution.properties["rollback_of_version"] == 1 and execution.properties["previous_version"] == 2
    [source] = execution.inputs["pushed_model"]
    assert source.custom_properties["pushed_version"] == "1" and source.id == listed[0].artifact_id
    [target] = execution.outputs["pushed_model"]
    assert target.id == done.artifact_id
    assert target.custom_properties["rollback_of_version"] == 1
    assert target.uri == str(model_dir / "3")


def test_rollback_finds_the_model_directory_from_the_store(tmp_path: Path) -> None:
    model_dir = tmp_path / "serving" / "penguin"
    pushed_model(tmp_path, push(tmp_path, fake_model(tmp_path / "m1", "one"), BLESSED))
    pushed_model(tmp_path, push(tmp_path, fake_model(tmp_path / "m2", "two"), BLESSED))
    db = str(tmp_path / "root" / "metadata.sqlite")
    done = rollback(None, "penguin", 1, metadata=db)  # a path works as well as a Metadata handle
    assert done.destination == str(model_dir / "3")
    # The flat layout (base_directory is the model's own directory) is found as well.
    assert rollback(str(model_dir), "penguin", 2).version == 4


def test_rollback_errors_say_what_exists(tmp_path: Path) -> None:
    pushed_model(tmp_path, push(tmp_path, fake_model(tmp_path / "m1"), BLESSED))
    md = store(tmp_path)
    with pytest.raises(model_registry.ModelRegistryError, match=r"no version 7 .*versions: 1"):
        rollback(str(tmp_path / "serving"), "penguin", 7, metadata=md)
    with pytest.raises(model_registry.ModelRegistryError, match="already the one served"):
        rollback(str(tmp_path / "serving"), "penguin", 1, metadata=md)
    with pytest.raises(model_registry.ModelRegistryError, match="Models pushed: penguin"):
        rollback(None, "other", 1, metadata=md)
    with pytest.raises(DefinitionError):
        rollback(str(tmp_path / "serving"), "../penguin", 1, metadata=md)
