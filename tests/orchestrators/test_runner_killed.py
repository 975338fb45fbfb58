"""A runner killed with SIGKILL mid-step leaves a run that can be resumed cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from conftest import sql

from headrace.cli.loader import load_file_as_module
from headrace.orchestrators import LocalDagRunner

PIPELINE = """
import os, signal
from headrace import component, OutputArtifact, OutputDict, Pipeline
from headrace.types import standard_artifacts

KILL_MARKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'kill_runner')

@component
def First() -> OutputDict(n=int):
    return {'n': 1}

@component
def Second(
    n: int, out: OutputArtifact[standard_artifacts.Examples], count: OutputArtifact[standard_artifacts.Integer]
) -> OutputDict(m=int):
    with open(os.path.join(out.uri, 'partial'), 'w') as f:
        f.write('x')
    with open(count.uri, 'w') as f:  # a value written at its URI, as TFX code writes it
        f.write(str(n + 41) if os.path.exists(KILL_MARKER) else str(n + 1))
    if os.path.exists(KILL_MARKER):
        os.kill(os.getppid(), signal.SIGKILL)  # the runner dies with this step RUNNING
        signal.pause()
    return {'m': n + 1}

def create_pipeline(root):
    first = First()
    return Pipeline('killed', root, [Second(n=first.outputs['n'])])

if __name__ == '__main__':
    import sys
    from headrace.orchestrators import LocalDagRunner
    print(LocalDagRunner(quiet=True).run(create_pipeline(sys.argv[1]), run_id='victim').state)
"""


def test_resume_after_the_runner_was_killed(tmp_path):
    path = tmp_path / "killed_pipeline.py"
    path.write_text(textwrap.dedent(PIPELINE))
    (tmp_path / "kill_runner").touch()
    root = tmp_path / "root"
    proc = subprocess.run([sys.executable, str(path), str(root)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9, proc.stderr
    db = root / "metadata.sqlite"
    # The step was left RUNNING with PENDING outputs on disk: a folder, the value file it wrote (count), and
    # the folder of the value it never returned (m).
    pending = {
        uri.split(os.sep)[-3] if uri.endswith("/value") else uri.split(os.sep)[-2]: uri
        for (uri,) in sql(db, "SELECT uri FROM Artifact WHERE state = 1")
    }
    assert sorted(pending) == ["count", "m", "out"]
    assert os.path.isdir(pending["out"]) and open(pending["count"]).read() == "42"
    assert not os.path.exists(pending["m"]) and os.path.isdir(os.path.dirname(pending["m"]))
    os.remove(tmp_path / "kill_runner")
    mod = load_file_as_module(str(path))
    result = LocalDagRunner(quiet=True).run(mod.create_pipeline(str(root)), resume="victim")
    assert result.succeeded, result.errors
    assert result.node_states == {"First": "REUSED", "Second": "COMPLETE"}
    # The dead attempt is FAILED, its output ABANDONED and removed; nothing is left PENDING.
    assert sql(db, "SELECT COUNT(*) FROM Artifact WHERE state = 1")[0][0] == 0
    assert not any(os.path.exists(uri) for uri in pending.values())
    assert not any(os.path.exists(os.path.dirname(pending[k])) for k in ("count", "m"))  # their attempt folders
    # The value published is the resumed attempt's, never the file the dead attempt left.
    [live] = [uri for (uri,) in sql(db, "SELECT uri FROM Artifact WHERE state = 2") if "/count/" in uri]
    assert live != pending["count"] and open(live).read() == "2"
    states = sorted(s for (s,) in sql(db, "SELECT last_known_state FROM Execution"))
    assert states == [3, 3, 4]  # First COMPLETE, Second FAILED (killed) then COMPLETE
