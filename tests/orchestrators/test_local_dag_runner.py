"""LocalDagRunner end to end on the real ML Metadata (SQLite): lineage, cache, failure, resume."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import sql
from pipelines_src import BRANCHY, HEADER, HELLO

from headrace.orchestrators import LocalDagRunner


def _run(pipeline, **kw):
    return LocalDagRunner(quiet=True, raise_on_failure=False, **kw).run(pipeline)


def test_hello_and_validate_shapes_record_executions_artifacts_events_contexts(write_module, tmp_path):
    mod = write_module(HELLO)
    result = _run(mod.create_pipeline(str(tmp_path / "root")))
    assert result.succeeded, result.errors
    assert result.node_states == {n: "COMPLETE" for n in ("MakeExamples", "HelloComponent", "Train", "Validate")}
    db = tmp_path / "root" / "metadata.sqlite"
    contexts = dict(sql(db, "SELECT c.name, t.name FROM Context c JOIN Type t ON c.type_id = t.id"))
    assert contexts["hello"] == "pipeline"
    assert contexts[result.run_id] == "pipeline_run"
    assert contexts["hello.Validate"] == "node"
    states = sql(db, "SELECT last_known_state FROM Execution")
    assert len(states) == 4 and {s for (s,) in states} == {3}  # COMPLETE
    # Every execution is associated with the pipeline, run and its node context.
    assoc = sql(db, "SELECT COUNT(*) FROM Association")[0][0]
    assert assoc >= 12
    events = sql(db, "SELECT type, COUNT(*) FROM Event GROUP BY type")
    assert dict(events) == {3: 3, 4: 5}  # 3 INPUT events, 5 OUTPUT events (Validate has two outputs)
    arts = sql(db, "SELECT a.uri, a.state, t.name FROM Artifact a JOIN Type t ON a.type_id = t.id")
    assert {s for _, s, _ in arts} == {2}  # LIVE
    by_type = {t: uri for uri, _, t in arts}
    # The custom executor appended its `name` parameter: 'abc' + 'xyz' reached Train as 6 chars.
    assert Path(by_type["Model"], "model.txt").read_text() == "6"
    assert all(uri.startswith(str(tmp_path / "root")) for uri, _, _ in arts)
    # The value artifact's value is in the file AND in ML Metadata.
    [(value,)] = sql(
        db,
        "SELECT p.double_value FROM ArtifactProperty p JOIN Artifact a ON a.id = p.artifact_id "
        "JOIN Type t ON a.type_id = t.id WHERE t.name = 'Float' AND p.name = 'value'",
    )
    float_uri = by_type["Float"]
    assert float(Path(float_uri).read_text()) == value
    # Properties set by the executor are recorded.
    [(split_names,)] = sql(
        db, "SELECT string_value FROM ArtifactProperty WHERE name = 'split_names' AND is_custom_property = 0"
    )
    assert split_names == '["train"]'


def test_second_run_is_cached_and_reuses_the_same_artifacts(write_module, tmp_path):
    mod = write_module(HELLO)
    first = _run(mod.create_pipeline(str(tmp_path / "root")))
    second = _run(mod.create_pipeline(str(tmp_path / "root")))
    assert first.succeeded and second.succeeded
    assert set(second.node_states.values()) == {"CACHED"}
    assert second.nodes["Train"].outputs == first.nodes["Train"].outputs
    db = tmp_path / "root" / "metadata.sqlite"
    assert sql(db, "SELECT COUNT(*) FROM Execution WHERE last_known_state = 5")[0][0] == 4  # CACHED
    assert sql(db, "SELECT COUNT(*) FROM Artifact")[0][0] == 5  # no new artifacts


def test_editing_a_function_body_misses_the_cache_for_it_and_its_descendants(write_module, tmp_path):
    mod = write_module(BRANCHY)
    assert _run(mod.create_pipeline(str(tmp_path / "root"), enable_cache=True)).succeeded
    source = (tmp_path / "user_pipeline.py").read_text().replace("return {'m': n + 1}", "return {'m': n + 2}")
    mod = write_module(source)
    result = _run(mod.create_pipeline(str(tmp_path / "root"), enable_cache=True))
    assert result.node_states == {
        "A": "CACHED",
        "B": "COMPLETE",  # its body changed
        "C": "COMPLETE",  # its input changed
        "D": "CACHED",
    }
    from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config

    reader = MetadataReader(Metadata(sqlite_metadata_connection_config(tmp_path / "root" / "metadata.sqlite")))
    [c_exec] = [e for e in reader.executions(result.run_id) if e.node_id == "C"]
    assert c_exec.outputs["k"][0].custom_properties["value"] == 30  # (1 + 2) * 10: the new code ran


def test_editing_an_executor_module_misses_the_cache(write_module, tmp_path):
    mod = write_module(HELLO)
    assert _run(mod.create_pipeline(str(tmp_path / "root"))).succeeded
    source = (
        (tmp_path / "user_pipeline.py")
        .read_text()
        .replace("f.write(rows + exec_properties", "f.write(rows + '!' + exec_properties")
    )
    mod = write_module(source)
    result = _run(mod.create_pipeline(str(tmp_path / "root")))
    # A class executor is keyed on its whole module; function components only on their own source.
    assert result.node_states["HelloComponent"] == "COMPLETE"
    assert result.node_states["MakeExamples"] == "CACHED"


def test_deleted_cached_output_is_a_miss_not_a_broken_run(write_module, tmp_path):
    import shutil

    mod = write_module(HELLO)
    first = _run(mod.create_pipeline(str(tmp_path / "root")))
    shutil.rmtree(first.nodes["Train"].outputs["model"][0])
    second = _run(mod.create_pipeline(str(tmp_path / "root")))
    assert second.succeeded
    assert second.node_states["HelloComponent"] == "CACHED"
    assert second.node_states["Train"] == "COMPLETE"
    assert second.nodes["Train"].outputs["model"] != first.nodes["Train"].outputs["model"]


def test_cache_switches_per_run_pipeline_and_component(write_module, tmp_path):
    mod = write_module(HELLO)
    root = str(tmp_path / "root")
    assert _run(mod.create_pipeline(root)).succeeded
    # per run
    assert set(LocalDagRunner(quiet=True).run(mod.create_pipeline(root), enable_cache=False).node_states.values()) == {
        "COMPLETE"
    }
    # per pipeline
    assert set(_run(mod.create_pipeline(root, enable_cache=False)).node_states.values()) == {"COMPLETE"}
    # per component: Train opts out
    pipeline = mod.create_pipeline(root)
    [train] = [c for c in pipeline.components if c.id == "Train"]
    train.with_enable_cache(False)
    states = _run(pipeline).node_states
    assert states["MakeExamples"] == "CACHED" and states["Train"] == "COMPLETE"


def test_failing_node_leaves_no_live_artifact_and_stops_only_its_descendants(write_module, tmp_path):
    mod = write_module(BRANCHY)
    Path(mod.FAIL_MARKER).touch()
    result = _run(mod.create_pipeline(str(tmp_path / "root")))
    assert result.state == "FAILED"
    assert result.node_states == {"A": "COMPLETE", "B": "FAILED", "C": "SKIPPED", "D": "COMPLETE"}
    [error] = result.errors
    assert error.node_id == "B" and error.error_type == "ValueError"
    assert "B was told to fail" in str(error) and "raise ValueError" in error.traceback_text
    db = tmp_path / "root" / "metadata.sqlite"
    b_state, b_error = sql(
        db,
        "SELECT e.last_known_state, p.string_value FROM Execution e JOIN ExecutionProperty p ON p.execution_id = e.id "
        "WHERE p.name = 'error'",
    )[0]
    assert b_state == 4 and "B was told to fail" in b_error  # FAILED
    # B's outputs were registered PENDING, then ABANDONED; none is LIVE, and the partial files are gone.
    b_outputs = sql(
        db,
        "SELECT a.state, a.uri FROM Artifact a JOIN Event ev ON ev.artifact_id = a.id JOIN Execution e "
        "ON e.id = ev.execution_id WHERE e.last_known_state = 4 AND ev.type = 4",
    )
    assert b_outputs and all(state == 5 for state, _ in b_outputs)  # ABANDONED
    assert not any(os.path.exists(uri) for _, uri in b_outputs)


def test_executor_crash_does_not_take_the_runner_down(write_module, tmp_path):
    mod = write_module(
        HEADER
        + """
@component
def Crash() -> OutputDict(x=int):
    os._exit(7)

@component
def Fine() -> OutputDict(y=int):
    return {'y': 1}

def create_pipeline(root):
    return Pipeline('crashy', root, [Crash(), Fine()])
"""
    )
    result = _run(mod.create_pipeline(str(tmp_path / "root")))
    assert result.node_states == {"Crash": "FAILED", "Fine": "COMPLETE"}
    [error] = result.errors
    assert error.error_type == "ExecutorProcessDied" and "exited with code 7" in error.message


def test_resume_reruns_only_the_failed_node_and_its_descendants(write_module, tmp_path):
    mod = write_module(BRANCHY)
    Path(mod.FAIL_MARKER).touch()
    root = str(tmp_path / "root")
    failed = _run(mod.create_pipeline(root))
    assert failed.node_states["B"] == "FAILED"
    os.remove(mod.FAIL_MARKER)
    resumed = LocalDagRunner(quiet=True).run(mod.create_pipeline(root), resume=failed.run_id)
    assert resumed.run_id == failed.run_id and resumed.succeeded
    assert resumed.node_states == {"A": "REUSED", "B": "COMPLETE", "C": "COMPLETE", "D": "REUSED"}
    db = tmp_path / "root" / "metadata.sqlite"
    per_node = dict(
        sql(db, "SELECT string_value, COUNT(*) FROM ExecutionProperty WHERE name = 'node_id' GROUP BY string_value")
    )
    assert per_node == {"A": 1, "B": 2, "C": 1, "D": 1}
    # The retry wrote to a fresh directory, never into the failed attempt's.
    b_uris = [uri for (uri,) in sql(db, "SELECT uri FROM Artifact WHERE uri LIKE '%/B/out/%'")]
    assert len(set(b_uris)) == 2
    [(run_state,)] = sql(db, "SELECT string_value FROM ContextProperty WHERE name = 'state'")
    assert run_state == "COMPLETE"


def test_two_independent_one_second_nodes_overlap(write_module, tmp_path):
    mod = write_module(
        HEADER
        + """
@component
def Sleep1() -> OutputDict(x=int):
    time.sleep(1)
    return {'x': 1}

@component
def Sleep2() -> OutputDict(x=int):
    time.sleep(1)
    return {'x': 2}

def create_pipeline(root):
    return Pipeline('sleepy', root, [Sleep1(), Sleep2()])
"""
    )
    start = time.perf_counter()
    result = LocalDagRunner(quiet=True, max_workers=2).run(mod.create_pipeline(str(tmp_path / "root")))
    wall = time.perf_counter() - start
    assert result.succeeded
    assert wall < 1.6, f"two independent 1 s nodes took {wall:.2f} s"


def test_in_process_mode_runs_the_same_pipeline(write_module, tmp_path):
    mod = write_module(HELLO)
    result = LocalDagRunner(quiet=True, executor_mode="inprocess").run(mod.create_pipeline(str(tmp_path / "root")))
    assert result.succeeded
    assert Path(result.nodes["Train"].outputs["model"][0], "model.txt").read_text() == "6"


def test_progress_and_summary_name_nodes_and_failures(write_module, tmp_path, capsys):
    mod = write_module(BRANCHY)
    Path(mod.FAIL_MARKER).touch()
    result = LocalDagRunner(raise_on_failure=False).run(mod.create_pipeline(str(tmp_path / "root")))
    err = capsys.readouterr().err
    assert f"run {result.run_id}" in err
    assert "B" in err and "FAILED" in err and "ValueError: B was told to fail" in err
    assert "skipped" in err
    assert f"runs show {result.run_id}" in err
    assert f"--resume {result.run_id}" in err  # how to rerun what failed
    quiet = LocalDagRunner(quiet=True, raise_on_failure=False).run(mod.create_pipeline(str(tmp_path / "root2")))
    assert quiet.state == "FAILED" and capsys.readouterr().err == ""


def test_a_failed_run_raises_naming_the_node_and_carrying_the_result(write_module, tmp_path):
    from headrace.errors import ExecutorError, PipelineRunError

    mod = write_module(BRANCHY)
    Path(mod.FAIL_MARKER).touch()
    with pytest.raises(PipelineRunError) as err:
        LocalDagRunner(quiet=True).run(mod.create_pipeline(str(tmp_path / "root")))
    assert err.value.node_id == "B"
    assert isinstance(err.value.error, ExecutorError) and err.value.error.error_type == "ValueError"
    assert "node 'B' failed: ValueError: B was told to fail" in str(err.value)
    assert err.value.result.state == "FAILED" and err.value.result.node_states["B"] == "FAILED"
    # per run, the switch can be turned off
    result = LocalDagRunner(quiet=True).run(mod.create_pipeline(str(tmp_path / "root")), raise_on_failure=False)
    assert result.state == "FAILED"


@pytest.mark.parametrize("bad", [{"max_workers": 0}, {"executor_mode": "threads"}])
def test_runner_rejects_bad_settings(bad):
    from headrace import DefinitionError

    with pytest.raises(DefinitionError):
        LocalDagRunner(**bad)


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_user_defined_artifact_type_reaches_the_executor_as_its_class(write_module, tmp_path, monkeypatch, start):
    # spawn: each worker unpickles the class by value from two payloads (Embed's, then Use's)
    monkeypatch.setenv("HEADRACE_WORKER_START", start)
    mod = write_module(
        HEADER
        + """
from headrace.types.artifact import Artifact, Property, PropertyType

class Embeddings(Artifact):
    TYPE_NAME = 'Embeddings'
    PROPERTIES = {'dim': Property(PropertyType.INT)}

@component
def Embed(out: OutputArtifact[Embeddings]):
    assert type(out).__name__ == 'Embeddings', type(out)
    out.dim = 64

@component
def Use(emb: InputArtifact[Embeddings]) -> OutputDict(dim=int):
    return {'dim': emb.dim}

def create_pipeline(root):
    embed = Embed()
    return Pipeline('custom_types', root, [Use(emb=embed.outputs['out'])])
"""
    )
    result = _run(mod.create_pipeline(str(tmp_path / "root")))
    assert result.succeeded, result.errors
    db = tmp_path / "root" / "metadata.sqlite"
    [(dim,)] = sql(db, "SELECT int_value FROM ArtifactProperty WHERE name = 'dim'")
    assert dim == 64
    [(value,)] = sql(db, "SELECT int_value FROM ArtifactProperty WHERE name = 'value'")
    assert value == 64


def test_stored_run_ir_has_no_database_password(tmp_path):
    from headrace import Pipeline
    from headrace.compiler import compile_pipeline
    from headrace.launcher.runs import _pack_ir, _unpack_ir
    from headrace.metadata import mysql_metadata_connection_config

    ir = compile_pipeline(
        Pipeline(
            "secret",
            str(tmp_path),
            [],
            metadata_connection_config=mysql_metadata_connection_config("db", 3306, "mlmd", "u", "hunter2"),
        )
    )
    assert "password" not in ir.metadata_connection["mysql"]  # the compiled IR never holds it (issue 11)
    stored = _unpack_ir(_pack_ir(ir))
    assert not stored.metadata_connection["mysql"].get("password")
    assert stored.metadata_connection["mysql"]["user"] == "u"


def test_what_a_step_prints_is_kept_in_a_log_linked_from_its_execution(write_module, tmp_path, capfd):
    mod = write_module(
        HEADER
        + """
@component
def Chatty() -> OutputDict(x=int):
    print('chatty says hello')
    raise RuntimeError('chatty gave up')

@component
def Quiet() -> OutputDict(y=int):
    return {'y': 1}

def create_pipeline(root):
    return Pipeline('logs', root, [Chatty(), Quiet()])
"""
    )
    result = _run(mod.create_pipeline(str(tmp_path / "root")))
    assert result.node_states == {"Chatty": "FAILED", "Quiet": "COMPLETE"}
    log = Path(result.nodes["Chatty"].log)
    text = log.read_text()
    assert "chatty says hello" in text and "RuntimeError: chatty gave up" in text
    assert result.nodes["Quiet"].log == ""  # nothing printed, no file
    assert "chatty says hello" not in capfd.readouterr().out  # the terminal keeps headrace's lines only
    db = tmp_path / "root" / "metadata.sqlite"
    assert sql(db, "SELECT string_value FROM ExecutionProperty WHERE name = 'log'") == [(str(log),)]


def test_spawned_workers_run_the_same_pipeline(write_module, tmp_path, monkeypatch):
    import headrace.launcher.worker as worker

    monkeypatch.setenv("HEADRACE_WORKER_START", "spawn")
    assert not worker._can_fork()
    mod = write_module(HELLO)
    result = _run(mod.create_pipeline(str(tmp_path / "root")))
    assert result.succeeded, result.errors
    assert Path(result.nodes["Train"].outputs["model"][0], "model.txt").read_text() == "6"
