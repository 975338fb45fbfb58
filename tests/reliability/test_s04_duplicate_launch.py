"""Scenario 4 (issue 11): duplicate launches of the same node in the same run (a zombie and a retry).

- Races: two long-lived processes launch the same node of the same run with
  `headrace.launcher.single.launch_node`, released together by a barrier (half the trials also race
  to start the run on a brand-new store). Exactly one COMPLETE execution; the loser gets
  DuplicateLaunchError naming the node and the run (or REUSED, if it came after the winner ended).
- A zombie that registered and is still running when the retry starts: the retry is refused, the
  zombie's attempt completes, a later launch reuses it.
- A zombie SIGKILLed while running, and one killed between claiming the attempt and registering its
  execution: the retry runs the node once more, and exactly one execution is COMPLETE.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

from _kill_helpers import COMPLETE, FAILED, LIVE, RUNNING, executions, listing, outputs_by_state
from _reliability import record, trials

from headrace import Pipeline
from headrace.compiler import compile_pipeline
from headrace.compiler.ir import load
from headrace.launcher.single import ATTEMPT, DuplicateLaunchError, ensure_run, launch_node
from headrace.metadata import Metadata, sqlite_metadata_connection_config
from headrace.metadata.values import set_value

NODE = """
import os, time
from headrace import component, OutputArtifact, OutputDict, Parameter
from headrace.types import standard_artifacts

@component
def Produce(examples: OutputArtifact[standard_artifacts.Examples], pause: Parameter[float] = 0.0) -> OutputDict(n=int):
    with open(os.path.join(examples.uri, 'data.txt'), 'w') as f:
        f.write('first half,')
        f.flush()
        time.sleep(pause)
        f.write('second half')
    return {'n': os.getpid()}
"""
WHOLE = {"data.txt": b"first half,second half"}


def _md(root: str | Path) -> Metadata:
    return Metadata(sqlite_metadata_connection_config(os.path.join(root, "metadata.sqlite")))


def _ir(mod: Any, root: Path, pause: float):
    return compile_pipeline(Pipeline("s04", str(root), [mod.Produce(pause=pause)], enable_cache=False))


def _racer(index: int, barrier: Any, tasks: Any, results: Any) -> None:
    """Runs trials until told to stop: each one is (run id, root, IR, whether to race ensure_run too)."""
    rng = random.Random(index)
    while True:
        spec = tasks.get()
        if spec is None:
            return
        run_id, root, ir_json, race_start = spec
        ir = load(ir_json)
        try:
            md = _md(root)
            if race_start:
                barrier.wait()
                handle = ensure_run(md, ir, run_id)
            else:
                handle = ensure_run(md, ir, run_id)
                barrier.wait()
            time.sleep(rng.uniform(0, 0.002))
            outcome = launch_node(md, handle, "Produce")
            results.put((index, outcome.state))
        except DuplicateLaunchError as e:
            results.put((index, f"duplicate: {e}"))
        except Exception as e:  # noqa: BLE001 - reported to the test as this racer's outcome
            results.put((index, f"error: {type(e).__name__}: {e}"))


def _launch_in_process(root: str, ir_json: str, run_id: str, results: Any) -> None:
    """A launcher process: one launch of Produce, its outcome on `results`."""
    try:
        md = _md(root)
        results.put(launch_node(md, ensure_run(md, load(ir_json), run_id), "Produce").state)
    except DuplicateLaunchError as e:
        results.put(f"duplicate: {e}")


def _produce_states(db: Path) -> list[int]:
    return [state for _id, node, state in executions(db) if node == "Produce"]


def _whole_outputs(db: Path) -> list[str]:
    """Problems with Produce's LIVE outputs: there must be exactly one `examples`, whole."""
    live = [uri for node, uri in outputs_by_state(db, LIVE) if node == "Produce" and "/examples/" in uri]
    if len(live) != 1:
        return [f"{len(live)} LIVE examples artifacts"]
    return [] if listing(live[0]) == WHOLE else [f"LIVE examples hold {listing(live[0])}"]


def test_duplicate_launches(write_module, tmp_path):
    mod = write_module(NODE, "s04_pipeline")
    violations: list[str] = []
    counts = {"complete+duplicate": 0, "complete+reused": 0}
    n = trials(full=60, short=6)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    queues = [ctx.Queue(), ctx.Queue()]
    racers = [ctx.Process(target=_racer, args=(i, barrier, queues[i], results)) for i in range(2)]
    for p in racers:
        p.start()
    try:
        for trial in range(n):
            root = tmp_path / f"race{trial}"
            ir_json = _ir(mod, root, pause=0.3).dump()
            for q in queues:
                q.put((f"run-{trial}", str(root), ir_json, trial % 2 == 0))
            outcomes = sorted(results.get(timeout=120)[1] for _ in racers)
            where = f"race {trial}"
            db = root / "metadata.sqlite"
            if outcomes[0] != "COMPLETE":
                violations.append(f"{where}: no launch completed: {outcomes}")
            elif outcomes[1] == "REUSED":
                counts["complete+reused"] += 1
            elif (
                outcomes[1].startswith("duplicate:") and "'Produce'" in outcomes[1] and f"'run-{trial}'" in outcomes[1]
            ):
                counts["complete+duplicate"] += 1
            else:
                violations.append(f"{where}: the loser got {outcomes[1]!r}")
            if _produce_states(db) != [COMPLETE]:
                violations.append(f"{where}: executions of Produce {_produce_states(db)}, expected one COMPLETE")
            violations += [f"{where}: {v}" for v in _whole_outputs(db)]
    finally:
        for q in queues:
            q.put(None)
        for p in racers:
            p.join(30)
    zombies = trials(full=6, short=1)
    zombie_faults = 0
    for trial in range(zombies):
        violations += _zombie_still_running(ctx, mod, tmp_path / f"alive{trial}", f"live zombie {trial}")
        violations += _zombie_killed_while_running(ctx, mod, tmp_path / f"dead{trial}", f"dead zombie {trial}")
        violations += _zombie_died_after_claiming(mod, tmp_path / f"claim{trial}", f"claim-only zombie {trial}")
        zombie_faults += 3
    record(
        4,
        "Duplicate launch of the same node in the same run",
        n + zombies * 3,
        f"{n} races of two processes launching one node through a barrier (half also racing to start the run "
        f"on a new store); {zombie_faults} zombies: still running, SIGKILLed while running, dead after claiming",
        len(violations),
        f"exactly one COMPLETE execution in each of {n} races ({counts['complete+duplicate']} losers refused with "
        f"DuplicateLaunchError, {counts['complete+reused']} came after the winner and reused it); "
        f"{len(violations)} violations",
        {**counts, "zombie_trials": zombies * 3, "violations": violations[:20]},
    )
    assert not violations, "duplicate launch:\n" + "\n".join(violations[:20])


def _wait_running(db: Path, timeout_s: float = 60) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if db.exists() and RUNNING in _produce_states(db):
                return True
        except sqlite3.OperationalError:
            pass  # the store is still being created
        time.sleep(0.01)
    return False


def _zombie_still_running(ctx: Any, mod: Any, root: Path, where: str) -> list[str]:
    """The zombie registered and still runs when the retry starts: the retry is refused."""
    ir_json = _ir(mod, root, pause=0.6).dump()
    results = ctx.Queue()
    zombie = ctx.Process(target=_launch_in_process, args=(str(root), ir_json, "run", results))
    zombie.start()
    db = root / "metadata.sqlite"
    found = []
    if not _wait_running(db):
        zombie.kill()
        return [f"{where}: the zombie never registered"]
    md = _md(root)
    try:
        retry = launch_node(md, ensure_run(md, load(ir_json), "run"), "Produce").state
    except DuplicateLaunchError as e:
        retry = f"duplicate: {e}"
    if not (retry.startswith("duplicate:") and "already running" in retry):
        found.append(f"{where}: the retry got {retry!r} while the zombie ran")
    zombie.join(60)
    if results.get(timeout=10) != "COMPLETE":
        found.append(f"{where}: the zombie did not complete")
    again = launch_node(md, ensure_run(md, load(ir_json), "run"), "Produce").state
    if again != "REUSED":
        found.append(f"{where}: a launch after the zombie completed got {again}")
    if _produce_states(db) != [COMPLETE]:
        found.append(f"{where}: executions of Produce {_produce_states(db)}, expected one COMPLETE")
    return found + [f"{where}: {v}" for v in _whole_outputs(db)]


def _zombie_killed_while_running(ctx: Any, mod: Any, root: Path, where: str) -> list[str]:
    """The zombie is SIGKILLed halfway through its write: the retry abandons its attempt and runs."""
    ir_json = _ir(mod, root, pause=0.6).dump()
    results = ctx.Queue()  # held here: a spawned child unpickles it after start() returns
    zombie = ctx.Process(target=_launch_in_process, args=(str(root), ir_json, "run", results))
    zombie.start()
    db = root / "metadata.sqlite"
    if not _wait_running(db):
        zombie.kill()
        return [f"{where}: the zombie never registered"]
    time.sleep(random.uniform(0.05, 0.3))  # mid-write: 'first half,' is on disk
    os.kill(zombie.pid, signal.SIGKILL)
    zombie.join(30)
    md = _md(root)
    fast = load(_ir(mod, root, pause=0.0).dump())
    retry = launch_node(md, ensure_run(md, fast, "run"), "Produce").state
    found = [] if retry == "COMPLETE" else [f"{where}: the retry got {retry}"]
    if _produce_states(db) != [FAILED, COMPLETE]:
        found.append(f"{where}: executions of Produce {_produce_states(db)}, expected the zombie FAILED, one COMPLETE")
    return found + [f"{where}: {v}" for v in _whole_outputs(db)]


def _zombie_died_after_claiming(mod: Any, root: Path, where: str) -> list[str]:
    """A launcher claimed attempt 0 and died before registering its execution (a SIGKILL between
    two store writes): the claim must not block the node for ever."""
    ir = _ir(mod, root, pause=0.0)
    md = _md(root)
    handle = ensure_run(md, ir, "run")
    dead = multiprocessing.get_context("fork").Process(target=os.getpid)
    dead.start()
    dead.join()
    claim = md.pb.Context(type_id=md.context_type_id(ATTEMPT), name="run/Produce/0")
    set_value(claim.custom_properties["launcher"], f"{os.uname().nodename}:{dead.pid}")
    md.call(md.store.put_contexts, [claim])
    try:
        retry = launch_node(md, handle, "Produce").state
    except DuplicateLaunchError as e:
        retry = f"duplicate: {e}"
    db = root / "metadata.sqlite"
    found = [] if retry == "COMPLETE" else [f"{where}: the retry got {retry!r}"]
    if _produce_states(db) != [COMPLETE]:
        found.append(f"{where}: executions of Produce {_produce_states(db)}, expected one COMPLETE")
    return found + [f"{where}: {v}" for v in _whole_outputs(db)]
