"""launch_node: one node of a run launched on its own, idempotently (repeated, retried, raced)."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from pathlib import Path

import pytest

from headrace import Pipeline
from headrace.compiler import compile_pipeline
from headrace.launcher.single import DuplicateLaunchError, ensure_run, launch_node
from headrace.metadata import Metadata, sqlite_metadata_connection_config

CHAIN = """
import os, time
from headrace import component, InputArtifact, OutputArtifact, OutputDict, Parameter
from headrace.types import standard_artifacts

@component
def Produce(examples: OutputArtifact[standard_artifacts.Examples], pause: Parameter[float] = 0.0) -> OutputDict(n=int):
    time.sleep(pause)
    with open(os.path.join(examples.uri, 'data.txt'), 'w') as f:
        f.write('rows')
    if os.path.exists(os.environ.get('HEADRACE_TEST_FAIL_ONCE', '/nonexistent')):
        os.remove(os.environ['HEADRACE_TEST_FAIL_ONCE'])
        raise RuntimeError('failing once, as a flaky step does')
    return {'n': 4}

@component
def Consume(examples: InputArtifact[standard_artifacts.Examples], n: int) -> OutputDict(ok=bool):
    with open(os.path.join(examples.uri, 'data.txt')) as f:
        return {'ok': len(f.read()) == n}
"""


def _md(root: Path) -> Metadata:
    return Metadata(sqlite_metadata_connection_config(root / "metadata.sqlite"))


def _ir(write_module, root: Path, pause: float = 0.0):
    mod = write_module(CHAIN)
    produce = mod.Produce(pause=pause)
    consume = mod.Consume(examples=produce.outputs["examples"], n=produce.outputs["n"])
    return compile_pipeline(Pipeline("single", str(root), [consume], enable_cache=False))


def _states(root: Path, node_id: str) -> list[int]:
    with sqlite3.connect(root / "metadata.sqlite") as db:
        rows = db.execute(
            "SELECT e.last_known_state FROM Execution e JOIN ExecutionProperty p ON p.execution_id = e.id "
            "WHERE p.name = 'node_id' AND p.string_value = ? ORDER BY e.id",
            (node_id,),
        ).fetchall()
    return [r[0] for r in rows]


def _live_outputs(root: Path) -> int:
    with sqlite3.connect(root / "metadata.sqlite") as db:
        return db.execute("SELECT COUNT(*) FROM Artifact WHERE state = 2").fetchone()[0]


def test_a_repeated_launch_reuses_the_completed_node(write_module, tmp_path):
    root = tmp_path / "root"
    ir = _ir(write_module, root)
    handle = ensure_run(_md(root), ir, "run-1")
    first = {n.id: launch_node(_md(root), ensure_run(_md(root), ir, "run-1"), n.id) for n in ir.nodes}
    assert {k: o.state for k, o in first.items()} == {"Produce": "COMPLETE", "Consume": "COMPLETE"}
    again = launch_node(_md(root), handle, "Produce")  # Beam running a bundle twice, say
    assert again.state == "REUSED" and again.execution_id == first["Produce"].execution_id
    assert again.outputs == first["Produce"].outputs
    assert _states(root, "Produce") == [3]  # one COMPLETE execution
    assert _live_outputs(root) == 3  # examples, n, ok: nothing twice


def test_a_retry_after_a_failure_runs_a_new_attempt(write_module, tmp_path, monkeypatch):
    root = tmp_path / "root"
    flag = tmp_path / "fail-once"
    flag.write_text("")
    monkeypatch.setenv("HEADRACE_TEST_FAIL_ONCE", str(flag))
    ir = _ir(write_module, root)
    handle = ensure_run(_md(root), ir, "run-1")
    assert launch_node(_md(root), handle, "Produce").state == "FAILED"
    assert launch_node(_md(root), handle, "Produce").state == "COMPLETE"  # Airflow's retry
    assert _states(root, "Produce") == [4, 3]  # FAILED, then COMPLETE
    assert launch_node(_md(root), handle, "Consume").state == "COMPLETE"


def _race(root: str, ir_json: str, barrier, results) -> None:
    from headrace.compiler.ir import load

    ir = load(ir_json)
    md = Metadata(sqlite_metadata_connection_config(os.path.join(root, "metadata.sqlite")))
    handle = ensure_run(md, ir, "race")
    barrier.wait()
    try:
        results.put(launch_node(md, handle, "Produce").state)
    except DuplicateLaunchError as e:
        results.put(f"duplicate: {e}")


@pytest.mark.parametrize("trial", range(3))
def test_racing_launches_of_one_node_run_it_exactly_once(write_module, tmp_path, trial):
    root = tmp_path / "root"
    ir = _ir(write_module, root, pause=0.5)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_race, args=(str(root), ir.dump(), barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    outcomes = sorted(results.get(timeout=5) for _ in procs)
    assert outcomes[0] == "COMPLETE", outcomes
    assert outcomes[1].startswith("duplicate:") or outcomes[1] == "REUSED", outcomes
    assert "Produce" in outcomes[1] or outcomes[1] == "REUSED"
    assert _states(root, "Produce") == [3]  # exactly one execution, COMPLETE


def test_an_attempt_left_running_by_a_dead_launcher_is_abandoned_and_rerun(write_module, tmp_path):
    root = tmp_path / "root"
    ir = _ir(write_module, root)
    md = _md(root)
    handle = ensure_run(md, ir, "run-1")
    # A launcher that registered the execution and died (its pid no longer exists).
    from headrace.launcher import NodeLauncher

    dead = multiprocessing.get_context("spawn").Process(target=os.getpid)
    dead.start()
    dead.join()
    stale = NodeLauncher(md, handle, owner=f"{os.uname().nodename}:{dead.pid}").prepare(ir.node("Produce"))
    assert _states(root, "Produce") == [2]  # RUNNING
    outcome = launch_node(_md(root), handle, "Produce")
    assert outcome.state == "COMPLETE"
    assert _states(root, "Produce") == [4, 3]  # the dead attempt FAILED, the new one COMPLETE
    assert not any(Path(uri).exists() for uris in stale.outputs.values() for uri in [a.uri for a in uris])
