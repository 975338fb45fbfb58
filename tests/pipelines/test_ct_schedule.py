"""`headrace schedule --on-new-data` on the continuous-training main job (pipelines/penguin/ct_pipeline.py):
the first span starts one run; a new span file starts a second run within 5 s whose record names the
file; a burst of three span files starts one run; the scheduler SIGKILLed during a run and started again
leaves that run to finish and starts no duplicate (runs and executions counted in the store)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from scheduling import Scheduling, runs_in, wait_for_runs

from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config

pytestmark = pytest.mark.slow("runs the continuous-training pipeline (TensorFlow) under headrace schedule")

PENGUIN = Path(__file__).resolve().parents[2] / "pipelines" / "penguin"


def test_headrace_schedule_on_new_data_runs_the_ct_pipeline(tmp_path: Path) -> None:
    landing, root = tmp_path / "landing", tmp_path / "root"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADRACE_")}
    env.update(HEADRACE_CT_DATA=str(landing), HEADRACE_ROOT=str(root))

    def land(span: int, source: str) -> Path:
        target = landing / f"span-{span}"
        shutil.copytree(PENGUIN / "spans" / source, target)
        return target / "penguins.csv"

    land(1, "span-1")
    scheduling = Scheduling(PENGUIN / "ct_pipeline.py", env)
    try:
        [first] = wait_for_runs(root, 1, timeout=180)
        assert first.state == "COMPLETE" and json.loads(first.trigger)["kind"] == "on-new-data"

        added = time.time()
        new_file = land(2, "span-2")
        while len(runs_in(root)) < 2 and time.time() - added < 10:
            time.sleep(0.1)
        second = runs_in(root)[0]
        assert second.started_ms / 1000 - added < 5, second.started_ms / 1000 - added
        assert json.loads(second.trigger)["new_files"] == [str(new_file)]
        assert second.trigger_text == "headrace schedule: new data (span-2/penguins.csv)"
        wait_for_runs(root, 2, timeout=180)

        for span in (3, 4, 5):  # a burst: one run
            land(span, "span-3")
            time.sleep(0.1)
        wait_for_runs(root, 3, timeout=180)
        time.sleep(3)
        runs = runs_in(root)
        assert len(runs) == 3 and len(json.loads(runs[0].trigger)["new_files"]) == 3, runs

        land(6, "span-2")
        while not any(r.state == "RUNNING" for r in runs_in(root)):
            time.sleep(0.1)
        scheduling.stop(signal.SIGKILL)
        scheduling = Scheduling(PENGUIN / "ct_pipeline.py", env)
        wait_for_runs(root, 4, timeout=180)
        time.sleep(3)
        runs = runs_in(root)
        assert len(runs) == 4 and all(r.state == "COMPLETE" for r in runs), runs
        reader = MetadataReader(Metadata(sqlite_metadata_connection_config(str(root / "metadata.sqlite"))))
        for run in runs:
            done = Counter(e.node_id for e in reader.executions(run.run_id) if e.state in ("COMPLETE", "CACHED"))
            assert max(done.values()) == 1, (run.run_id, done)
    finally:
        scheduling.stop()
