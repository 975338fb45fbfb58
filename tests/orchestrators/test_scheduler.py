"""`headrace schedule`: cron expressions; a cron schedule firing on time under a test clock; and the
command itself on new data: the first files start one run, a new file starts a run within 5 s that
names it, a burst of files starts one run, and a scheduler SIGKILLed during a run and started again
starts no duplicate (runs counted in the store)."""

from __future__ import annotations

import datetime
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scheduling import Scheduling, land_span, runs_in, setup_pipeline, wait_for_runs

from headrace.cli.loader import load_file_as_module
from headrace.compiler import compile_pipeline
from headrace.errors import DefinitionError
from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config
from headrace.orchestrators.scheduler import Cron, Scheduler, Trigger, parse_every, watched_files

REPO = Path(__file__).resolve().parents[2]


def local(*args: int) -> float:
    return datetime.datetime(*args).timestamp()


def test_cron_expressions():
    assert Cron("0 3 * * *").next_after(local(2026, 12, 5, 2, 59, 30)) == local(2026, 12, 5, 3, 0)
    assert Cron("0 3 * * *").next_after(local(2026, 12, 5, 3, 0)) == local(2026, 12, 6, 3, 0)
    assert Cron("*/15 * * * *").next_after(local(2026, 12, 5, 10, 7)) == local(2026, 12, 5, 10, 15)
    assert Cron("0 9 * * 1-5").next_after(local(2026, 12, 5, 12, 0)) == local(2026, 12, 7, 9, 0)  # Sat -> Mon
    assert Cron("30 8 1,15 * *").next_after(local(2026, 12, 2, 0, 0)) == local(2026, 12, 15, 8, 30)
    assert Cron("0 0 * * 7").next_after(local(2026, 12, 5, 0, 0)) == local(2026, 12, 6, 0, 0)  # 7: Sunday
    for bad, says in (("* * *", "five fields"), ("61 * * * *", "outside"), ("x * * * *", "not a number")):
        with pytest.raises(DefinitionError, match=says):
            Cron(bad)
    assert parse_every("5m") == 300 and parse_every("90") == 90
    with pytest.raises(DefinitionError, match="at least 1 s"):
        parse_every("0s")


def test_a_cron_schedule_fires_on_time_under_a_test_clock(tmp_path, monkeypatch):
    pipeline, landing, env = setup_pipeline(tmp_path)
    land_span(landing, 1)
    for key in ("SCHED_TEST_LANDING", "SCHED_TEST_ROOT", "SCHED_TEST_PAUSE"):
        monkeypatch.setenv(key, env[key])
    ir = compile_pipeline(load_file_as_module(str(pipeline)).create_pipeline())
    now = [local(2026, 12, 5, 2, 58, 0)]
    said: list[str] = []
    scheduler = Scheduler(
        str(pipeline), ir, Trigger("cron", cron=Cron("0 3 * * *")), clock=lambda: now[0], say=said.append
    )
    assert scheduler.step() == "idle" and scheduler.next_due == local(2026, 12, 5, 3, 0)
    now[0] = local(2026, 12, 5, 2, 59, 59)
    assert scheduler.step() == "idle"
    now[0] = local(2026, 12, 5, 3, 0, 1)
    assert scheduler.step() == "started"
    assert scheduler.proc is not None and scheduler.proc.wait(timeout=120) == 0
    assert scheduler.step() == "idle"  # the run ended; the next time is tomorrow
    assert scheduler.next_due == local(2026, 12, 6, 3, 0)
    [run] = runs_in(tmp_path / "root")
    trigger = json.loads(run.trigger)
    assert run.state == "COMPLETE" and trigger["kind"] == "cron" and trigger["expr"] == "0 3 * * *"
    assert trigger["scheduled_for"] == local(2026, 12, 5, 3, 0)


@pytest.mark.slow("runs headrace schedule over seven spans, killing and restarting it (about 35 s)")
def test_new_data_starts_runs_one_at_a_time_and_a_restart_starts_no_duplicate(tmp_path):
    pipeline, landing, env = setup_pipeline(tmp_path, pause=2.0)
    root = tmp_path / "root"
    land_span(landing, 1)
    scheduling = Scheduling(pipeline, env)
    try:
        [first] = wait_for_runs(root, 1)
        assert json.loads(first.trigger)["kind"] == "on-new-data" and first.state == "COMPLETE"
        time.sleep(2)
        assert len(runs_in(root)) == 1  # the same data starts nothing more

        # A new span starts a second run within 5 s, whose trigger names the file.
        added = time.time()
        new_file = land_span(landing, 2)
        while len(runs_in(root)) < 2 and time.time() - added < 10:
            time.sleep(0.1)
        started = runs_in(root)[0]
        assert started.started_ms / 1000 - added < 5, started.started_ms / 1000 - added
        assert json.loads(started.trigger)["new_files"] == [str(new_file)]
        assert started.trigger_text == "headrace schedule: new data (span-2/data.csv)"
        shown = subprocess.run(
            [
                sys.executable,
                "-m",
                "headrace.cli.main",
                "runs",
                "show",
                started.run_id,
                "--metadata",
                str(root / "metadata.sqlite"),
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        assert "  why: headrace schedule: new data (span-2/data.csv)" in shown.stdout, shown.stdout + shown.stderr
        wait_for_runs(root, 2)

        # A burst of three files starts one run.
        for n in (3, 4, 5):
            land_span(landing, n)
            time.sleep(0.1)
        runs = wait_for_runs(root, 3)
        time.sleep(3)
        runs = runs_in(root)
        assert len(runs) == 3, runs
        assert len(json.loads(runs[0].trigger)["new_files"]) == 3

        # SIGKILLed during a run, started again: the run completes once, no duplicate run.
        land_span(landing, 6)
        while not any(r.state == "RUNNING" for r in runs_in(root)):
            time.sleep(0.1)
        scheduling.stop(signal.SIGKILL)
        scheduling = Scheduling(pipeline, env)
        time.sleep(1)
        runs = wait_for_runs(root, 4)
        time.sleep(3)
        runs = runs_in(root)
        assert len(runs) == 4 and all(r.state == "COMPLETE" for r in runs), runs
        db = Metadata(sqlite_metadata_connection_config(str(root / "metadata.sqlite")))
        consumed = [e for e in MetadataReader(db).executions(runs[0].run_id) if e.node_id == "Consume"]
        assert [e.state for e in consumed] == ["COMPLETE"], consumed  # ran once in that run (it was waited for)

        # SIGKILLed with its run: started again, it resumes that run (the same id), no duplicate.
        land_span(landing, 7)
        while not any(r.state == "RUNNING" for r in runs_in(root)):
            time.sleep(0.1)
        time.sleep(1)  # into Consume's pause
        scheduling.stop(signal.SIGKILL, group=True)
        killed = next(r for r in runs_in(root) if r.state == "RUNNING")
        scheduling = Scheduling(pipeline, env)
        runs = wait_for_runs(root, 5)
        time.sleep(3)
        runs = runs_in(root)
        assert len(runs) == 5 and runs[0].run_id == killed.run_id and runs[0].state == "COMPLETE", runs
        assert runs[0].resumed
        consumed = [e for e in MetadataReader(db).executions(killed.run_id) if e.node_id == "Consume"]
        assert [e.state for e in consumed].count("COMPLETE") == 1, consumed
    finally:
        err = scheduling.stop()
    assert "headrace schedule: stopped" in err, err


def test_watched_files_are_the_pipelines_file_inputs(tmp_path, monkeypatch):
    pipeline, landing, env = setup_pipeline(tmp_path)
    data = land_span(landing, 1)
    (landing / ".partial").write_text("copy in progress")
    for key in ("SCHED_TEST_LANDING", "SCHED_TEST_ROOT"):
        monkeypatch.setenv(key, env[key])
    ir = compile_pipeline(load_file_as_module(str(pipeline)).create_pipeline())
    assert list(watched_files(ir)) == [str(data)]


def test_a_slow_round_spaces_the_next_ones_so_the_scheduler_keeps_to_a_tenth_of_a_core():
    """A landing folder of very many files makes each round's walk long: rounds then come further
    apart than poll_s, so walking takes about busy_share of the time, not all of it."""

    class Walking:
        rounds = 0

        def step(self) -> str:
            Walking.rounds += 1
            time.sleep(0.05)  # a long walk
            return "idle"

    deadline = time.monotonic() + 1.2
    Scheduler.serve(Walking(), lambda: time.monotonic() > deadline, poll_s=0.01, busy_share=0.1)  # type: ignore[arg-type]
    # 0.05 s walking, then 0.45 s pause: 3 rounds in 1.2 s (without the spacing, about 20)
    assert 1 <= Walking.rounds <= 4, Walking.rounds
