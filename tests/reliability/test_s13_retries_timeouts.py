"""Scenario 13 (issue 17): retry policies and timeouts under faults, runs with runtime parameters
contending for one store, and hostile runtime parameter values.

- Crash: a step with `with_retry(2)` has its worker SIGKILLed at a random point of its write; the run
  completes by itself (no resume): the killed attempt is FAILED with its output ABANDONED, the retry
  is COMPLETE, and the LIVE output holds exactly the clean run's bytes.
- Timeout: a step that writes longer than its `with_timeout` is stopped mid-write on every attempt:
  every attempt FAILED with StepTimeout, nothing of it LIVE, nothing left PENDING or RUNNING.
- Contention: runs with different runtime parameter values in one store at once each record their
  own values and produce their own outputs (no value leaks into another run or its cache key).
- Hostile input: random text and values as runtime parameters are refused with a DefinitionError
  naming the parameter, never another exception.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import random

from _kill_helpers import (
    CHUNKED_WRITER,
    COMPLETE,
    FAILED,
    PENDING,
    RUNNING,
    executions,
    live_contents,
    outputs_by_state,
    start_killer,
)
from _reliability import record, trials

from headrace import DefinitionError, Pipeline, RuntimeParameter
from headrace.compiler import compile_pipeline
from headrace.launcher.parameters import resolve
from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config
from headrace.orchestrators import LocalDagRunner

PIPELINE = (
    CHUNKED_WRITER
    + """
@component
def Write(data: OutputArtifact[standard_artifacts.Examples], seed: Parameter[int] = 7,
          pidfile: Parameter[str] = '', pause: Parameter[float] = 0.01) -> None:
    write_chunks(data.uri, seed, pidfile, pause)
"""
)


def _db(root) -> str:
    return str(root / "metadata.sqlite")


def _node_states(db) -> list[int]:
    return [state for _id, node, state in executions(db) if node == "Write"]


def test_retries_timeouts_and_parameters_under_faults(write_module, tmp_path):
    mod = write_module(PIPELINE, "s13_pipeline")
    runner = LocalDagRunner(quiet=True, raise_on_failure=False)
    violations: list[str] = []

    # -- a retried step whose worker is killed --------------------------------------------------------
    n = trials(full=60, short=4)
    rng = random.Random(13)
    landed = 0
    for trial in range(n):
        root = tmp_path / f"crash{trial}"
        pidfile = tmp_path / f"crash{trial}.pid"
        killer = start_killer(pidfile, rng.uniform(0, 0.2))
        try:
            node = mod.Write(pidfile=str(pidfile)).with_retry(2, backoff_seconds=0.05)
            result = runner.run(Pipeline("s13", str(root), [node], enable_cache=False))
        finally:
            killer.wait(30)
        where = f"crash trial {trial}"
        states = _node_states(root / "metadata.sqlite")
        landed += states[:1] == [FAILED]
        if not result.succeeded or states[-1] != COMPLETE or states not in ([COMPLETE], [FAILED, COMPLETE]):
            violations.append(f"{where}: run {result.state}, Write executions {states}")
        live = live_contents(root / "metadata.sqlite")
        if live.get("Write/data") != [{"data.bin": mod.content(7)}]:
            violations.append(f"{where}: LIVE outputs {sorted(live)} are not exactly the clean write")
        if outputs_by_state(root / "metadata.sqlite", PENDING):
            violations.append(f"{where}: outputs left PENDING")

    # -- a step that outlives its timeout on every attempt ------------------------------------------
    timeouts = trials(full=10, short=2)
    for trial in range(timeouts):
        root = tmp_path / f"timeout{trial}"
        node = mod.Write(pause=0.2).with_timeout(rng.uniform(0.3, 1.5)).with_retry(1)
        result = runner.run(Pipeline("s13t", str(root), [node], enable_cache=False))
        where = f"timeout trial {trial}"
        states = _node_states(root / "metadata.sqlite")
        error = result.nodes["Write"].error
        if result.succeeded or states != [FAILED, FAILED] or error is None or error.error_type != "StepTimeout":
            violations.append(f"{where}: run {result.state}, executions {states}, error {error}")
        if live_contents(root / "metadata.sqlite") or outputs_by_state(root / "metadata.sqlite", PENDING):
            violations.append(f"{where}: a timed-out attempt left a LIVE or PENDING output")
        if any(s == RUNNING for s in states):
            violations.append(f"{where}: an execution is still RUNNING")

    # -- runs with different runtime parameter values, at once, in one store ------------------------
    writers = trials(full=8, short=4)
    root = tmp_path / "contention"

    def run_with(seed: int):
        node = mod.Write(seed=RuntimeParameter("seed", int, default=0), pause=0.0)
        return seed, LocalDagRunner(quiet=True, raise_on_failure=False, max_workers=1).run(
            Pipeline("s13c", str(root), [node]), parameters={"seed": seed}
        )

    with cf.ThreadPoolExecutor(writers) as pool:
        results = list(pool.map(run_with, range(1, writers + 1)))
    reader = MetadataReader(Metadata(sqlite_metadata_connection_config(_db(root))))
    for seed, result in results:
        uri = (result.nodes["Write"].outputs.get("data") or [""])[0]
        body = open(os.path.join(uri, "data.bin"), "rb").read() if uri else b""
        if not result.succeeded or body != mod.content(seed):
            error = result.nodes["Write"].error
            violations.append(
                f"contention: the run with seed={seed} ended {result.state} with other bytes"
                + (f" ({error.error_type}: {error.message[:300]})" if error is not None else "")
            )
        if reader.run(result.run_id).parameters != {"seed": seed}:
            violations.append(f"contention: run {result.run_id} recorded {reader.run(result.run_id).parameters}")

    # -- hostile runtime parameter values ------------------------------------------------------------
    declared = mod.Write(
        seed=RuntimeParameter("seed", int), pause=RuntimeParameter("pause", float, default=0.0)
    ).with_id("W")
    ir = compile_pipeline(Pipeline("s13h", str(tmp_path / "h"), [declared]))
    hostile = trials(full=3000, short=300)
    pool_of_values = [
        "",
        " ",
        "1e999",
        "nan",
        "inf",
        "0x10",
        "\uff11\uff12",
        "\x00",
        "9" * 5000,
        "-0",
        "true",
        "[]",
        "{}",
    ]
    refused = 0
    for i in range(hostile):
        value = rng.choice([*pool_of_values, rng.random(), rng.randint(-(2**70), 2**70), None, [], {}, True, b"1"])
        name = rng.choice(["seed", "pause", "seed ", "SEED", "pause\x00", "other"])
        try:
            resolved = resolve(ir, {"seed": 1, name: value})
        except DefinitionError as e:
            refused += 1
            if name.strip() and name.strip("\x00") and name not in str(e) and repr(name) not in str(e):
                violations.append(f"hostile {i}: the error for {name!r}={value!r} does not name it: {e}")
        except Exception as e:  # noqa: BLE001 - what the scenario counts
            violations.append(f"hostile {i}: {name!r}={value!r} raised {type(e).__name__}: {e}")
        else:
            if type(resolved["seed"]) is not int or type(resolved["pause"]) is not float:
                violations.append(f"hostile {i}: {name!r}={value!r} resolved to {resolved!r}")

    record(
        13,
        "Retries, timeouts and runtime parameters under faults",
        n + timeouts + writers + hostile,
        f"{landed} SIGKILLs of a retried step's worker mid-write ({n} trials); {timeouts} steps stopped at their "
        f"timeout on every attempt; {writers} concurrent runs with different parameter values in one store; "
        f"{hostile} hostile runtime parameter values ({refused} refused)",
        len(violations),
        f"{len(violations)} runs that did not complete by retry with the clean bytes, timed-out attempts with a LIVE "
        "or PENDING output, parameter values crossing runs, or untyped errors",
        {"kills_landed": landed, "refused": refused, "violations": violations[:20]},
    )
    assert landed >= 1, "no kill landed while the retried step ran"
    assert not violations, "retries/timeouts/parameters:\n" + "\n".join(violations[:20])
