"""`headrace schedule`: runs of a pipeline started by a schedule (cron, every N) or by new data.

The scheduler runs in the foreground (put it under systemd), and starts each run as `headrace run FILE
--run-id ID --trigger JSON`, a process of its own, so a run that crashes never takes the scheduler
with it. The trigger, recorded on the run (`RunInfo.trigger`), says why it started:

    {"by": "headrace schedule", "kind": "on-new-data", "new_files": [...], "data": "<digest>"}
    {"by": "headrace schedule", "kind": "cron", "expr": "0 3 * * *", "scheduled_for": 1764900000}

Rules:
- **One run at a time.** A trigger that arrives while a run is in progress queues one follow-up run,
  never a pile: after the run, new data is compared with what that run saw, and a schedule time that
  passed during it starts one run.
- **New data** is every file under the folders the pipeline's nodes read from outside the store (the
  IR's `file_inputs`: ExampleGen's input_base), with its size and modification time. A change starts a
  run once the files have been still for `debounce_s` (a burst of files starts one run).
- **Restart-safe, with the store as the one truth.** Started again (after a stop or a SIGKILL), the
  scheduler reads its latest run from ML Metadata: a run still RUNNING whose process is gone is
  resumed (`headrace run --resume`, the same run id: no duplicate); one whose process lives is waited
  for. New data is compared with the data that run recorded, so data already run on starts nothing and
  data that arrived while the scheduler was down starts one run. A schedule time missed while it was
  down starts one run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from headrace.compiler.ir import PipelineIR
from headrace.errors import DefinitionError
from headrace.launcher.runs import local_process_alive, new_run_id
from headrace.metadata.reader import MetadataReader, RunInfo
from headrace.orchestrators.cron import Cron

BY = "headrace schedule"
__all__ = [
    "BY",
    "Cron",
    "Scheduler",
    "Trigger",
    "digest",
    "latest_triggered",
    "new_data_trigger",
    "parse_every",
    "watched_files",
]


def parse_every(text: str) -> float:
    """'90', '30s', '5m', '2h', '1d' as seconds (at least 1)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "s")
    try:
        seconds = float(value) * units[unit]
    except ValueError:
        seconds = 0
    if not seconds >= 1:
        raise DefinitionError(f"--every {text!r} is not a duration of at least 1 s: give 90, 30s, 5m, 2h or 1d.")
    return seconds


def watched_files(ir: PipelineIR) -> dict[str, tuple[int, int]]:
    """Every file under the folders (or the files) the pipeline's nodes read from outside the store:
    path -> (size, mtime in ns). Hidden names are left out (a copy in progress is often one)."""
    found: dict[str, tuple[int, int]] = {}
    for node in ir.nodes:
        for key in node.file_inputs:
            top = str(node.parameters.get(key, ""))
            if os.path.isfile(top):
                st = os.stat(top)
                found[top] = (st.st_size, st.st_mtime_ns)
            for folder, dirs, files in os.walk(top):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in files:
                    if not name.startswith("."):
                        path = os.path.join(folder, name)
                        try:
                            st = os.stat(path)
                        except OSError:
                            continue  # removed meanwhile
                        found[path] = (st.st_size, st.st_mtime_ns)
    return found


def digest(files: dict[str, tuple[int, int]]) -> str:
    return hashlib.sha256(json.dumps(sorted(files.items())).encode()).hexdigest()[:16]


def new_data_trigger(files: dict[str, tuple[int, int]], last: dict[str, Any] | None, by: str) -> dict[str, Any]:
    """The trigger of a run started by new data: the files added or changed since the run whose trigger
    is `last` (at most 100 named), the data's digest, and every file's stamp (what the next run is
    compared with)."""
    before = set(last.get("files", [])) if last else set()
    stamp = [f"{p}:{s}:{m}" for p, (s, m) in sorted(files.items())]
    new = [p for p, (s, m) in sorted(files.items()) if f"{p}:{s}:{m}" not in before]
    return {"by": by, "kind": "on-new-data", "new_files": new[:100], "data": digest(files), "files": stamp}


def latest_triggered(
    reader: MetadataReader, pipeline_name: str, match: Callable[[dict[str, Any]], bool]
) -> tuple[RunInfo, dict[str, Any]] | None:
    """The newest of the pipeline's latest 100 runs whose recorded trigger (a JSON object) `match`es,
    with that trigger."""
    runs, _more = reader.runs_page(pipeline_name, None, limit=100)  # newest first
    for run in runs:
        try:
            trigger = json.loads(run.trigger) if run.trigger else None
        except ValueError:
            continue
        if isinstance(trigger, dict) and match(trigger):
            return run, trigger
    return None


def pause_after(spent_s: float, poll_s: float, busy_share: float) -> float:
    """The pause after a round that took `spent_s`: at least `poll_s`, and long enough that rounds
    take at most `busy_share` of the time."""
    return max(poll_s, spent_s * (1 - busy_share) / busy_share)


@dataclasses.dataclass
class Trigger:
    """What starts runs: `kind` is 'every', 'cron' or 'on-new-data'."""

    kind: str
    every_s: float = 0.0
    cron: Cron | None = None

    def next_due(self, after: float) -> float:
        return self.cron.next_after(after) if self.cron is not None else after + self.every_s


class Scheduler:
    """Starts runs of `pipeline_file` by `trigger`; `step()` does one round (what a test drives with
    its own clock), `serve()` rounds until stopped."""

    def __init__(
        self,
        pipeline_file: str,
        ir: PipelineIR,
        trigger: Trigger,
        metadata: str | None = None,
        *,
        clock: Callable[[], float] = time.time,
        debounce_s: float = 1.0,
        say: Callable[[str], None] = print,
    ):
        self.file, self.ir, self.trigger, self.metadata = os.path.abspath(pipeline_file), ir, trigger, metadata
        self.clock, self.debounce_s, self.say = clock, debounce_s, say
        self.proc: subprocess.Popen[bytes] | None = None
        self.current: dict[str, Any] | None = None  # the trigger of the run in progress
        self._seen: tuple[str, float] | None = None  # (digest, since when) of the files while they settle
        self.next_due: float | None = None
        self._reader: MetadataReader | None = None

    # -- the store: the scheduler's latest run ------------------------------------------------------
    def last_run(self) -> tuple[RunInfo, dict[str, Any]] | None:
        """The newest run this scheduler (or one before it) started, among the pipeline's latest 100
        (runs started by hand in between are passed over), with its trigger."""
        from headrace.metadata.config import connection_config_from_uri
        from headrace.orchestrators.base_runner import open_store

        if self._reader is None:  # one store handle for the scheduler's life
            override = connection_config_from_uri(self.metadata) if self.metadata else None
            self._reader = MetadataReader(open_store(self.ir, override))
        return latest_triggered(self._reader, self.ir.pipeline_name, lambda trigger: trigger.get("by") == BY)

    # -- one round ------------------------------------------------------------------------------------
    def step(self) -> str:
        """Starts, resumes or waits for a run as the rules say; returns what it did (for logs and tests)."""
        if self.proc is not None:
            if self.proc.poll() is None:
                return "running"
            self.say(
                f"headrace schedule: run {self.current and self.current.get('run_id')} ended ({self.proc.returncode})"
            )
            self.proc, self.current = None, None
        last = self.last_run()
        if last is not None and last[0].state == "RUNNING":
            run, trigger = last
            if local_process_alive(run.runner) is not False:  # alive here, or another host's to look after
                return "waiting"  # its process (a scheduler before this one started it) still runs it
            self.say(f"headrace schedule: resuming run {run.run_id}, left RUNNING by a process that is gone")
            self._start([self.file, "--resume", run.run_id], {**trigger, "run_id": run.run_id})
            return "resumed"
        now = self.clock()
        if self.trigger.kind == "on-new-data":
            return self._on_new_data(last[1] if last else None, now)
        return self._on_time(last[1] if last else None, now)

    def _on_new_data(self, last: dict[str, Any] | None, now: float) -> str:
        files = watched_files(self.ir)
        current = digest(files)
        if not files or (last is not None and last.get("data") == current):
            self._seen = None
            return "idle"
        if self._seen is None or self._seen[0] != current:
            self._seen = (current, now)  # still changing: wait until it settles
            return "settling"
        if now - self._seen[1] < self.debounce_s:
            return "settling"
        self._seen = None
        self._start([], new_data_trigger(files, last, BY))
        return "started"

    def _on_time(self, last: dict[str, Any] | None, now: float) -> str:
        if self.next_due is None:
            after = float(last["scheduled_for"]) if last and "scheduled_for" in last else now
            self.next_due = self.trigger.next_due(after)
        if now < self.next_due:
            return "idle"
        due, self.next_due = self.next_due, None
        while self.trigger.next_due(due) <= now:  # missed while down or busy: one run, not one per time
            due = self.trigger.next_due(due)
        trigger: dict[str, Any] = {"by": BY, "kind": self.trigger.kind, "scheduled_for": due}
        if self.trigger.cron is not None:
            trigger["expr"] = self.trigger.cron.expr
        else:
            trigger["every_s"] = self.trigger.every_s
        self._start([], trigger)
        self.next_due = self.trigger.next_due(due)
        return "started"

    def _start(self, args: list[str], trigger: dict[str, Any]) -> None:
        run_id = trigger.get("run_id") or new_run_id()
        trigger = {**trigger, "run_id": run_id}
        command = [sys.executable, "-m", "headrace.cli.main", "run"]
        command += args or [self.file, "--run-id", run_id, "--trigger", json.dumps(trigger)]
        command += ["-q", *(["--metadata", self.metadata] if self.metadata else [])]
        why = ", ".join(os.path.basename(f) for f in trigger.get("new_files", [])[:5]) or trigger["kind"]
        self.say(f"headrace schedule: {'resuming' if args else 'starting'} run {run_id} ({why})")
        self.proc = subprocess.Popen(command)
        self.current = trigger

    def serve(self, stop: Callable[[], bool], poll_s: float = 0.5, busy_share: float = 0.1) -> None:
        """Rounds until `stop()` says so; a run in progress is left to finish (and a next scheduler
        waits for it). Rounds are `poll_s` apart, or further when a round takes long (a landing folder
        of very many files to walk): the scheduler keeps to about `busy_share` of a core."""
        while not stop():
            began = time.monotonic()
            self.step()
            time.sleep(pause_after(time.monotonic() - began, poll_s, busy_share))
