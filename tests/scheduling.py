"""A light pipeline for `headrace schedule` tests and scenarios: CsvExampleGen over a landing folder of
spans, then a step that pauses; spans that land; the runs in its store; the command as a process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config

REPO = Path(__file__).resolve().parents[1]

PIPELINE = """
import os, time
from headrace import InputArtifact, Parameter, Pipeline, component
from headrace.components import CsvExampleGen
from headrace.types import standard_artifacts

LANDING = os.environ["SCHED_TEST_LANDING"]


@component
def Consume(examples: InputArtifact[standard_artifacts.Examples], pause: Parameter[float] = 0.0):
    time.sleep(pause)


def create_pipeline():
    gen = CsvExampleGen(input_base=LANDING, input_config={"splits": [{"name": "all", "pattern": "span-{SPAN}/*.csv"}]})
    pause = float(os.environ.get("SCHED_TEST_PAUSE", "0"))
    consume = Consume(examples=gen.outputs["examples"], pause=pause)
    return Pipeline("sched", os.environ["SCHED_TEST_ROOT"], [gen, consume])
"""


def setup_pipeline(tmp_path: Path, pause: float = 0.0) -> tuple[Path, Path, dict[str, str]]:
    landing, root = tmp_path / "landing", tmp_path / "root"
    landing.mkdir()
    pipeline = tmp_path / "sched_pipeline.py"
    pipeline.write_text(PIPELINE)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HEADRACE_")},
        "SCHED_TEST_LANDING": str(landing),
        "SCHED_TEST_ROOT": str(root),
        "SCHED_TEST_PAUSE": str(pause),
    }
    return pipeline, landing, env


def land_span(landing: Path, n: int, rows: int = 5) -> Path:
    folder = landing / f"span-{n}"
    folder.mkdir()
    (folder / "data.csv").write_text("x,y\n" + "".join(f"{i},{i * n}\n" for i in range(rows)))
    return folder / "data.csv"


def runs_in(root: Path) -> list:
    db = root / "metadata.sqlite"
    return MetadataReader(Metadata(sqlite_metadata_connection_config(str(db)))).runs() if db.exists() else []


class Scheduling:
    """`headrace schedule FILE --on-new-data` as a process."""

    def __init__(self, pipeline: Path, env: dict[str, str]):
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "headrace.cli.main",
                "schedule",
                str(pipeline),
                "--on-new-data",
                "--debounce",
                "0.5",
            ],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its runs are in its process group: killpg kills them with it
        )

    def stop(self, sig: int = signal.SIGTERM, group: bool = False) -> str:
        if group:
            os.killpg(self.proc.pid, sig)
        else:
            self.proc.send_signal(sig)
        return self.proc.communicate(timeout=60)[1]


def wait_for_runs(root: Path, count: int, timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = runs_in(root)
        if len(runs) >= count and all(r.state != "RUNNING" for r in runs):
            return runs
        time.sleep(0.2)
    raise AssertionError(f"{len(runs_in(root))} runs after {timeout} s, waited for {count}: {runs_in(root)}")
