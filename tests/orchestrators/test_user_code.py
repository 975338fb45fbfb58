"""User code runs where it is written, exactly once: scripts with and without a main guard,
stdin and `python -c`, in every executor mode (forked worker, spawned worker, in-process).

Each case runs a real Python process and then counts, in the ML Metadata store, the runs and the
executions per node; the script also counts how often its own top level ran.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import sql

PIPELINE = """
import os, sys
from headrace import InputArtifact, OutputArtifact, OutputDict, Pipeline, component
from headrace.orchestrators import LocalDagRunner
from headrace.types import standard_artifacts

ROOT = {root!r}
with open(os.path.join(ROOT, "toplevel.txt"), "a") as f:  # counts executions of this top level
    f.write(f"{{os.getpid()}}\\n")

FACTOR = 2

def scale(n):
    return n * FACTOR

@component
def Producer() -> OutputDict(n=int):
    return {{"n": 21}}

@component
def Doubler(n: int) -> OutputDict(doubled=int):
    return {{"doubled": scale(n)}}

@component
def Consumer(doubled: int, report: OutputArtifact[standard_artifacts.ExternalArtifact]):
    with open(os.path.join(report.uri, "answer.txt"), "w") as f:
        f.write(str(doubled))

producer = Producer()
doubler = Doubler(n=producer.outputs["n"])
consumer = Consumer(doubled=doubler.outputs["doubled"])
pipeline = Pipeline("chain", ROOT, [consumer])
"""

UNGUARDED = (
    PIPELINE
    + """
result = LocalDagRunner(executor_mode={mode!r}, quiet=True).run(pipeline)
print("RESULT", result.state)
"""
)

GUARDED = (
    PIPELINE
    + """
if __name__ == "__main__":
    result = LocalDagRunner(executor_mode={mode!r}, quiet=True).run(pipeline)
    print("RESULT", result.state)
"""
)

# executor mode and worker start: forked workers, spawned workers, threads in this process
MODES = {"fork": ("process", "auto"), "spawn": ("process", "spawn"), "inprocess": ("inprocess", "auto")}


def _run(how: str, source: str, tmp_path: Path, start: str) -> subprocess.CompletedProcess[str]:
    env = {"HEADRACE_WORKER_START": start, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[2])}
    script = tmp_path / "user_script.py"
    script.write_text(source)
    if how == "file":
        cmd, stdin = [sys.executable, str(script)], None
    elif how == "stdin":
        cmd, stdin = [sys.executable, "-"], source
    else:
        cmd, stdin = [sys.executable, "-c", source], None
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def _counts(root: Path) -> tuple[int, dict[str, int]]:
    db = root / "metadata.sqlite"
    runs = sql(db, "SELECT COUNT(*) FROM Context c JOIN Type t ON c.type_id = t.id WHERE t.name = 'pipeline_run'")
    rows = sql(
        db,
        "SELECT p.string_value, COUNT(*) FROM Execution e JOIN ExecutionProperty p ON p.execution_id = e.id "
        "WHERE p.name = 'node_id' AND p.is_custom_property = 1 GROUP BY p.string_value",
    )
    return runs[0][0], dict(rows)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize(
    ("how", "template"), [("file", UNGUARDED), ("file", GUARDED), ("stdin", UNGUARDED), ("command", UNGUARDED)]
)
def test_a_script_runs_once_per_node(how, template, mode, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    executor_mode, start = MODES[mode]
    result = _run(how, textwrap.dedent(template.format(root=str(root), mode=executor_mode)), tmp_path, start)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("RESULT COMPLETE") == 1, result.stdout
    assert len((root / "toplevel.txt").read_text().splitlines()) == 1  # the script ran once, never again
    runs, executions = _counts(root)
    assert runs == 1
    assert executions == {"Producer": 1, "Doubler": 1, "Consumer": 1}
    [answer] = root.glob("Consumer/report/*/answer.txt")
    assert answer.read_text() == "42"


def test_an_unchanged_script_hits_the_cache_in_a_fresh_process_and_a_helper_edit_misses(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    source = textwrap.dedent(UNGUARDED.format(root=str(root), mode="process"))
    for _ in range(2):
        assert _run("file", source, tmp_path, "auto").returncode == 0
    edited = source.replace("FACTOR = 2", "FACTOR = 3")
    result = _run("file", edited, tmp_path, "auto")
    assert result.returncode == 0, result.stderr
    states = sql(
        root / "metadata.sqlite",
        "SELECT p.string_value, e.last_known_state FROM Execution e JOIN ExecutionProperty p "
        "ON p.execution_id = e.id WHERE p.name = 'node_id' ORDER BY e.id",
    )
    # run 1 executes all three (state 3 = COMPLETE), run 2 hits the cache for all (5 = CACHED),
    # run 3: the helper's constant changed, so Doubler and its descendant run again; Producer does not.
    assert [s for _, s in states[:3]] == [3, 3, 3]
    assert [s for _, s in states[3:6]] == [5, 5, 5]
    assert dict(states[6:]) == {"Producer": 5, "Doubler": 3, "Consumer": 3}
    assert sorted(p.read_text() for p in root.glob("Consumer/report/*/answer.txt")) == ["42", "63"]
