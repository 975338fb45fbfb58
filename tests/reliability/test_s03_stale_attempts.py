"""Scenario 3 (issue 11): junk left by a killed attempt never appears in a later attempt's artifact.

The step stages its output through its tmp_dir (as TFX executors do) and publishes everything
staged. A faulty attempt leaves junk in its output and tmp directories and then dies: its worker
SIGKILLed, its runner SIGKILLed, or it raises. The next attempt (a resume, or a launch_node retry)
must publish exactly what a clean attempt writes. Output URIs are per attempt
(`{root}/{node}/{key}/{random attempt id}`); the test also plants junk where the next attempt
would write if its paths could be predicted: the output directory with a known attempt id (the
random id patched), and the tmp_dir of the next execution id (a store recreated over an old root).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from _kill_helpers import LIVE, listing, outputs_by_state
from _reliability import record, trials

from headrace.cli.loader import load_file_as_module
from headrace.compiler import compile_pipeline
from headrace.launcher import driver
from headrace.launcher.single import ensure_run, launch_node
from headrace.metadata import Metadata, sqlite_metadata_connection_config
from headrace.orchestrators import LocalDagRunner

PIPELINE = """
import os, shutil, signal, sys
from headrace import (BaseComponent, BaseExecutor, ChannelParameter, ComponentSpec, ExecutionParameter,
                      ExecutorClassSpec, Pipeline)
from headrace.types import standard_artifacts

class StageSpec(ComponentSpec):
    INPUTS = {}
    OUTPUTS = {'out': ChannelParameter(type=standard_artifacts.Examples)}
    PARAMETERS = {'fault': ExecutionParameter(type=str)}

class StageExecutor(BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties):
        out, tmp = output_dict['out'][0].uri, self.context.tmp_dir
        os.makedirs(tmp, exist_ok=True)
        mode, _, marker = exec_properties['fault'].partition(':')
        if marker and os.path.exists(marker):  # this attempt is the faulty one, once
            os.remove(marker)
            for folder in (out, tmp):
                with open(os.path.join(folder, 'junk'), 'w') as f:
                    f.write('left by a dying attempt')
            if mode == 'kill-worker':
                os.kill(os.getpid(), signal.SIGKILL)
            if mode == 'kill-runner':
                os.kill(os.getppid(), signal.SIGKILL)
                signal.pause()
            raise RuntimeError('the faulty attempt fails')
        with open(os.path.join(tmp, 'data.txt'), 'w') as f:
            f.write('good')
        for name in os.listdir(tmp):  # publish what was staged
            shutil.copy(os.path.join(tmp, name), os.path.join(out, name))

class Stage(BaseComponent):
    SPEC_CLASS = StageSpec
    EXECUTOR_SPEC = ExecutorClassSpec(StageExecutor)

    def __init__(self, fault=''):
        super().__init__(spec=StageSpec(fault=fault))

def create_pipeline(root, fault=''):
    return Pipeline('s03', root, [Stage(fault=fault)], enable_cache=False)

if __name__ == '__main__':
    from headrace.orchestrators import LocalDagRunner
    LocalDagRunner(quiet=True).run(create_pipeline(sys.argv[1], sys.argv[2]), run_id='victim')
"""
CLEAN = {"data.txt": b"good"}


def _published(root: Path) -> list[str]:
    return [uri for node, uri in outputs_by_state(root / "metadata.sqlite", LIVE) if node == "Stage"]


def _md(root: Path) -> Metadata:
    return Metadata(sqlite_metadata_connection_config(root / "metadata.sqlite"))


def _check(root: Path, where: str, dead_uris: list[str]) -> list[str]:
    """Exactly one LIVE output holding exactly what a clean attempt writes, at none of the dead
    attempts' URIs, whose directories are gone."""
    published = _published(root)
    if len(published) != 1:
        return [f"{where}: {len(published)} LIVE outputs of Stage"]
    found = []
    if listing(published[0]) != CLEAN:
        found.append(f"{where}: the published artifact holds {listing(published[0])}")
    if published[0] in dead_uris:
        found.append(f"{where}: the new attempt published into a dead attempt's directory {published[0]}")
    found += [f"{where}: a dead attempt's directory is left: {u}" for u in dead_uris if os.path.exists(u)]
    return found


def _stage_dirs(root: Path) -> list[str]:
    base = root / "Stage" / "out"
    return sorted(str(p) for p in base.iterdir()) if base.exists() else []


def test_stale_attempts_never_leak(tmp_path, monkeypatch):
    path = tmp_path / "s03_pipeline.py"
    path.write_text(textwrap.dedent(PIPELINE))
    mod = load_file_as_module(str(path))
    runner = LocalDagRunner(quiet=True, raise_on_failure=False)
    n = trials(full=5, short=1)
    violations: list[str] = []
    cases: dict[str, int] = {}

    def case(name: str, found: list[str]) -> None:
        cases[name] = cases.get(name, 0) + 1
        violations.extend(found)

    for t in range(n):
        # 1. The worker is SIGKILLed after writing junk; the run is resumed.
        root, marker = tmp_path / f"worker{t}", tmp_path / f"worker{t}.fault"
        marker.touch()
        first = runner.run(mod.create_pipeline(str(root), f"kill-worker:{marker}"), run_id="victim")
        dead = _stage_dirs(root)
        where = f"worker killed {t}"
        if first.node_states != {"Stage": "FAILED"}:
            violations.append(f"{where}: the faulty attempt ended {first.node_states}")
        runner.run(mod.create_pipeline(str(root), f"kill-worker:{marker}"), resume="victim")
        case("worker SIGKILLed, resume", _check(root, where, dead))

        # 2. The runner is SIGKILLed while the attempt runs; the run is resumed.
        root, marker = tmp_path / f"runner{t}", tmp_path / f"runner{t}.fault"
        marker.touch()
        proc = subprocess.run(
            [sys.executable, str(path), str(root), f"kill-runner:{marker}"], capture_output=True, timeout=120
        )
        where = f"runner killed {t}"
        if proc.returncode != -9:
            violations.append(f"{where}: the runner exited with {proc.returncode}: {proc.stderr[-500:]!r}")
        dead = _stage_dirs(root)
        runner.run(mod.create_pipeline(str(root), f"kill-runner:{marker}"), resume="victim")
        case("runner SIGKILLed, resume", _check(root, where, dead))

        # 3. The attempt raises after writing junk; launch_node retries, as Airflow would.
        root, marker = tmp_path / f"retry{t}", tmp_path / f"retry{t}.fault"
        marker.touch()
        ir = compile_pipeline(mod.create_pipeline(str(root), f"raise:{marker}"))
        md = _md(root)
        handle = ensure_run(md, ir, "run")
        states = [launch_node(md, handle, "Stage").state]
        dead = _stage_dirs(root)
        states.append(launch_node(md, handle, "Stage").state)
        where = f"launch_node retry {t}"
        if states != ["FAILED", "COMPLETE"]:
            violations.append(f"{where}: the attempts ended {states}")
        case("raised, launch_node retry", _check(root, where, dead))

        # 4. Junk planted in the output directory the next attempt would use, its attempt id predicted.
        root = tmp_path / f"predicted{t}"
        token = f"{t:04d}feedface"
        planted = root / "Stage" / "out" / token
        planted.mkdir(parents=True)
        (planted / "junk").write_text("planted where the next attempt writes")
        with monkeypatch.context() as m:
            m.setattr(driver.secrets, "token_hex", lambda _n=6: token)
            result = runner.run(mod.create_pipeline(str(root)), run_id="victim")
        where = f"predicted output dir {t}"
        if not result.succeeded:
            violations.append(f"{where}: the run ended {result.state}: {result.errors}")
        case("junk in the predicted output dir", _check(root, where, []))

        # 5. Junk in the tmp_dir of the next execution id: a store recreated over a root a killed
        # attempt left its tmp_dir in (execution ids start again at 1).
        root = tmp_path / f"tmpdir{t}"
        stale_tmp = root / "Stage" / ".system" / "tmp" / "1"
        stale_tmp.mkdir(parents=True)
        (stale_tmp / "junk").write_text("staged by an attempt of an earlier store")
        result = runner.run(mod.create_pipeline(str(root)), run_id="victim")
        where = f"predicted tmp dir {t}"
        if not result.succeeded:
            violations.append(f"{where}: the run ended {result.state}: {result.errors}")
        case("junk in the predicted tmp_dir", _check(root, where, []))

    total = sum(cases.values())
    record(
        3,
        "Stale attempt isolation",
        total,
        f"{total} attempts after junk was left or planted: "
        + ", ".join(f"{name} ({count})" for name, count in cases.items()),
        len(violations),
        f"{len(violations)} published artifacts holding junk, or published into a dead attempt's directory, "
        f"in {total} trials",
        {"cases": cases, "violations": violations[:20]},
    )
    assert not violations, "stale attempts:\n" + "\n".join(violations[:20])
