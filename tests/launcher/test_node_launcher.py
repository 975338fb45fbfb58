"""The node launcher on its own: one node per call (as Airflow/Kubeflow tasks run it), system nodes."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from headrace import Channel, Importer, LatestArtifactStrategy, LatestBlessedModelStrategy, Pipeline, Resolver
from headrace.compiler import compile_pipeline
from headrace.errors import MetadataError
from headrace.launcher import NodeLauncher, attach_run, start_run
from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config
from headrace.orchestrators import LocalDagRunner
from headrace.types import standard_artifacts

CHAIN = """
import os
from headrace import component, InputArtifact, OutputArtifact, OutputDict, Parameter, Pipeline
from headrace.types import standard_artifacts

@component
def Produce(examples: OutputArtifact[standard_artifacts.Examples], rows: Parameter[int] = 3) -> OutputDict(count=int):
    with open(os.path.join(examples.uri, 'data.txt'), 'w') as f:
        f.write('x' * rows)
    return {'count': rows}

@component
def Consume(examples: InputArtifact[standard_artifacts.Examples], count: int,
            model: OutputArtifact[standard_artifacts.Model]) -> OutputDict(ok=bool):
    with open(os.path.join(examples.uri, 'data.txt')) as f:
        data = f.read()
    with open(os.path.join(model.uri, 'model.txt'), 'w') as f:
        f.write(str(len(data)))
    return {'ok': len(data) == count}

@component
def Bless(model: InputArtifact[standard_artifacts.Model], blessing: OutputArtifact[standard_artifacts.ModelBlessing],
          bless: Parameter[bool] = True):
    blessing.set_custom_property('blessed', 1 if bless else 0)
    blessing.set_custom_property('current_model_id', model.id)
"""


def _md(tmp_path: Path) -> Metadata:
    return Metadata(sqlite_metadata_connection_config(tmp_path / "root" / "metadata.sqlite"))


def test_each_node_launched_from_a_fresh_handle_resolves_inputs_from_the_store(write_module, tmp_path):
    mod = write_module(CHAIN)
    produce = mod.Produce(rows=4)
    consume = mod.Consume(examples=produce.outputs["examples"], count=produce.outputs["count"])
    ir = compile_pipeline(Pipeline("perproc", str(tmp_path / "root"), [consume]))
    handle = start_run(_md(tmp_path), ir)
    outcomes = {}
    for node in ir.nodes:
        # A new store connection and handle per node: nothing is shared in memory between steps.
        md = _md(tmp_path)
        outcomes[node.id] = NodeLauncher(md, attach_run(md, handle.run_id)).launch(node.id)
    assert {k: o.state for k, o in outcomes.items()} == {"Produce": "COMPLETE", "Consume": "COMPLETE"}
    reader = MetadataReader(_md(tmp_path))
    [consume_exec] = [e for e in reader.executions(handle.run_id) if e.node_id == "Consume"]
    assert consume_exec.outputs["ok"][0].custom_properties["value"] is True
    assert consume_exec.inputs["examples"][0].uri == outcomes["Produce"].outputs["examples"][0]


def test_a_generated_run_id_never_collides_with_a_run_in_the_store(tmp_path, monkeypatch):
    """Two runs started in the same second can draw the same 4-hex suffix (1 in 65,536): the second
    draws again rather than failing with "a run with id ... already exists"."""
    import secrets

    from headrace.launcher import runs

    ir = compile_pipeline(
        Pipeline(
            "ids",
            str(tmp_path / "root"),
            [Importer(source_uri=str(tmp_path), artifact_type=standard_artifacts.ExternalArtifact)],
        )
    )
    md = _md(tmp_path)
    drawn = iter(["beef", "beef", "beef", "cafe"])
    monkeypatch.setattr(secrets, "token_hex", lambda n: next(drawn))
    monkeypatch.setattr(runs.datetime, "datetime", _FrozenNow)
    first, second = start_run(md, ir), start_run(md, ir)
    assert first.run_id == "20261205-120000-beef" and second.run_id == "20261205-120000-cafe"
    with pytest.raises(MetadataError, match="A run with id '20261205-120000-beef' already exists"):
        start_run(md, ir, run_id=first.run_id)  # an id the caller gave is never replaced


class _FrozenNow(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime.datetime(2026, 12, 5, 12, 0, 0)


def test_importer_reuses_an_identical_artifact_unless_reimport(tmp_path):
    data = tmp_path / "external"
    data.mkdir()
    (data / "labels.json").write_text(json.dumps(["a", "b"]))

    def run(reimport: bool) -> int:
        imp = Importer(
            source_uri=str(data),
            artifact_type=standard_artifacts.Examples,
            reimport=reimport,
            properties={"span": 3},
            custom_properties={"source": "test"},
        ).with_id("imp")
        result = LocalDagRunner(quiet=True).run(Pipeline("imports", str(tmp_path / "root"), [imp]))
        assert result.succeeded
        [uri] = result.nodes["imp"].outputs["result"]
        assert uri == str(data)
        [e] = MetadataReader(_md(tmp_path)).executions(result.run_id)
        art = e.outputs["result"][0]
        assert art.properties["span"] == 3 and art.custom_properties["source"] == "test" and art.state == "LIVE"
        return art.id

    first = run(False)
    assert run(False) == first
    assert run(True) != first
    assert data.exists()  # an imported directory is never removed


def test_latest_artifact_resolver_picks_the_newest_live_artifact_of_the_pipeline(write_module, tmp_path):
    mod = write_module(CHAIN)
    root = str(tmp_path / "root")
    ids = []
    for rows in (2, 5):
        result = LocalDagRunner(quiet=True).run(Pipeline("resolving", root, [mod.Produce(rows=rows)]))
        [e] = [x for x in MetadataReader(_md(tmp_path)).executions(result.run_id) if x.node_id == "Produce"]
        ids.append(e.outputs["examples"][0].id)
    latest = Resolver(strategy_class=LatestArtifactStrategy, examples=Channel(type=standard_artifacts.Examples))
    latest = latest.with_id("latest")
    consume = mod.Consume(examples=latest.outputs["examples"], count=mod.Produce(rows=5).outputs["count"])
    result = LocalDagRunner(quiet=True).run(Pipeline("resolving", root, [consume]))
    assert result.succeeded, result.errors
    execs = {e.node_id: e for e in MetadataReader(_md(tmp_path)).executions(result.run_id)}
    # The run's own Produce runs before or after the resolver; the resolver sees LIVE artifacts at its time.
    assert execs["latest"].outputs["examples"][0].id >= ids[-1]
    assert execs["Consume"].inputs["examples"][0].id == execs["latest"].outputs["examples"][0].id


def test_latest_blessed_model_resolver_skips_unblessed_models(write_module, tmp_path):
    mod = write_module(CHAIN)
    root = str(tmp_path / "root")
    models = {}
    for bless in (True, False):
        produce = mod.Produce(rows=3)
        consume = mod.Consume(examples=produce.outputs["examples"], count=produce.outputs["count"])
        blessing = mod.Bless(model=consume.outputs["model"], bless=bless)
        result = LocalDagRunner(quiet=True).run(Pipeline("blessing", root, [blessing]))
        assert result.succeeded, result.errors
        [e] = [x for x in MetadataReader(_md(tmp_path)).executions(result.run_id) if x.node_id == "Consume"]
        models[bless] = e.outputs["model"][0].id
    resolver = Resolver(
        strategy_class=LatestBlessedModelStrategy,
        model=Channel(type=standard_artifacts.Model),
        model_blessing=Channel(type=standard_artifacts.ModelBlessing),
    ).with_id("baseline")
    result = LocalDagRunner(quiet=True).run(Pipeline("blessing", root, [resolver]))
    assert result.succeeded
    [e] = MetadataReader(_md(tmp_path)).executions(result.run_id)
    assert [a.id for a in e.outputs["model"]] == [models[True]]  # the newer model was not blessed
    assert e.outputs["model_blessing"][0].custom_properties["current_model_id"] == models[True]


def test_a_run_whose_runner_is_alive_is_not_resumed(write_module, tmp_path):
    import socket
    import subprocess

    import pytest

    from headrace.errors import MetadataError
    from headrace.launcher import resume_run
    from headrace.metadata.values import set_value

    mod = write_module(CHAIN)
    ir = compile_pipeline(Pipeline("busy", str(tmp_path / "root"), [mod.Produce()]))
    md = _md(tmp_path)
    handle = start_run(md, ir)
    other = subprocess.Popen(["sleep", "30"])
    try:
        set_value(handle.run_context.custom_properties["runner"], f"{socket.gethostname()}:{other.pid}")
        md.store.put_contexts([handle.run_context])
        with pytest.raises(MetadataError, match="still running"):
            resume_run(_md(tmp_path), handle.run_id)
    finally:
        other.kill()
        other.wait()
    resumed, done = resume_run(_md(tmp_path), handle.run_id)  # that runner is gone now
    assert resumed.run_id == handle.run_id and done == set()


def test_a_node_that_fails_before_running_still_leaves_a_failed_execution(write_module, tmp_path):
    mod = write_module(CHAIN)
    produce = mod.Produce()
    consume = mod.Consume(examples=produce.outputs["examples"], count=produce.outputs["count"])
    ir = compile_pipeline(Pipeline("early", str(tmp_path / "root"), [consume]))
    md = _md(tmp_path)
    handle = start_run(md, ir)
    # Consume launched before its producer ran: its inputs cannot be resolved.
    outcome = NodeLauncher(md, handle).launch("Consume")
    assert outcome.state == "FAILED" and outcome.error is not None
    assert "has no successful execution" in outcome.error.message
    [e] = MetadataReader(_md(tmp_path)).executions(handle.run_id)
    assert e.id == outcome.execution_id and e.node_id == "Consume" and e.state == "FAILED"
    assert "has no successful execution" in e.error
