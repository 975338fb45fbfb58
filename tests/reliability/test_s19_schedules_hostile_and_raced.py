"""Scenario 19, schedules from hostile input and new-data checks raced and killed.

- **Cron expressions, random and hostile.** Random expressions (numbers, names, ranges, steps, lists,
  shortcuts) are read by headrace and by croniter (the cron library of Airflow's environment): where
  both accept one, the next firing times must agree, from random start times, in UTC. Hostile strings
  (huge numbers, other alphabets, thousands of fields, control characters) must be refused with a
  DefinitionError, never another error, and no expression may take a second to answer.
- **New-data checks raced.** Several `headrace task new-data` processes (what a DAG compiled
  `on_new_data` runs, one per Airflow run) check the same new span at once: exactly one may start a run.
- **New-data checks killed.** A check SIGKILLed at a random moment and tried again under the same run
  id (Airflow's retry) must start that run; a check of another run afterwards must find no new data.

Violations: a disagreement with croniter; an error other than DefinitionError, or a second-long answer;
two runs started for the same data, or none; a retried check that does not go on.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from _reliability import record, trials
from airflow_env import airflow_venv
from scheduling import land_span, runs_in, setup_pipeline

from headrace.cli.loader import load_file_as_module
from headrace.compiler import compile_pipeline
from headrace.errors import DefinitionError
from headrace.orchestrators.cron import Cron

EXPRESSIONS = trials(3000, 300)
RACES = trials(6, 2)
KILLS = trials(8, 2)

NAMES = {
    3: ["JAN", "feb", "Mar", "APR", "may", "JUN", "jul", "AUG", "sep", "OCT", "nov", "DEC"],
    4: ["SUN", "mon", "Tue", "WED", "thu", "FRI", "sat"],
}
RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
SHORTCUTS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]
HOSTILE = [
    "",
    " ",
    "* * * * * *",
    "99999999999999999999 * * * *",
    "*/99999999999999999999 * * * *",
    "-1 * * * *",
    "1-99999999 * * * *",
    "٣ * * * *",  # an Arabic-Indic digit: int() reads it, cron does not
    "* * * * Пн",
    "\x00 * * * *",
    "*\n* * * *",
    ",,, * * * *",
    "1,,2 * * * *",
    "*/ * * * *",
    "/5 * * * *",
    "5/ * * * *",
    "1-2-3 * * * *",
    "* * 31 2 *",
    "* * 30,31 2 *",
    "@reboot",
    "@every 5m",
    "@",
    " ".join(["*"] * 5000),
    ",".join(["1"] * 20000) + " * * * *",
    "0 0 L * *",
    "0 0 ? * *",
    "0 0 * * 1#2",
    "0 0 15W * *",
]


def _field(rng: random.Random, index: int) -> str:
    lo, hi = RANGES[index]
    top = 6 if index == 4 else hi

    def value() -> str:
        if index in NAMES and rng.random() < 0.3:
            return rng.choice(NAMES[index])
        return str(rng.randint(lo, hi))

    kind = rng.random()
    if kind < 0.35:
        return "*"
    if kind < 0.5:
        return f"*/{rng.randint(1, max(1, top))}"
    if kind < 0.65:
        a = rng.randint(lo, top - 1)  # a < b: croniter 7 misreads 'n-n' (as '*')
        return f"{a}-{rng.randint(a + 1, top)}" + (f"/{rng.randint(1, 5)}" if rng.random() < 0.3 else "")
    if kind < 0.8:
        return ",".join(value() for _ in range(rng.randint(2, 4)))
    return value()


def _expression(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return rng.choice(SHORTCUTS)
    return " ".join(_field(rng, i) for i in range(5))


def _comparable(expr: str) -> bool:
    """croniter reads a stepped day field ('*/2') beside another day field that is not '*' as 'either',
    cron (and headrace) as 'both': leave those out of the comparison."""
    if expr.startswith("@"):
        return True
    day, weekday = expr.split()[2], expr.split()[4]
    return not any(a.startswith("*/") and b != "*" for a, b in ((day, weekday), (weekday, day)))


CRONITER = """
import json, sys, datetime
from croniter import croniter
out = []
for expr, start in json.load(sys.stdin):
    try:
        it = croniter(expr, datetime.datetime.fromtimestamp(start, datetime.timezone.utc))
        out.append([it.get_next(float), it.get_next(float)])
    except Exception as e:
        out.append(type(e).__name__)
print(json.dumps(out))
"""


def _cron_part(tmp_path: Path, rng: random.Random) -> tuple[list[str], dict[str, int]]:
    violations: list[str] = []
    counts = Counter()
    old_tz = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        cases = []
        for _ in range(EXPRESSIONS):
            expr = _expression(rng)
            start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC).timestamp() + rng.randint(0, 4 * 365 * 86400)
            cases.append((expr, float(start)))
        ours: list = []
        slowest = 0.0
        for expr, start in cases:
            began = time.perf_counter()
            try:
                cron = Cron(expr)
                first = cron.next_after(start)
                ours.append([first, cron.next_after(first)])
            except DefinitionError:
                ours.append("refused")
            except Exception as e:  # noqa: BLE001 - the scenario counts any other error as a violation
                ours.append("error")
                violations.append(f"{expr!r}: {type(e).__name__}: {e}")
            slowest = max(slowest, time.perf_counter() - began)
        venv = airflow_venv("3")
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-c", CRONITER],
            input=json.dumps(cases),
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "TZ": "UTC"},
        )
        assert done.returncode == 0, done.stderr[-3000:]
        theirs = json.loads(done.stdout.strip().splitlines()[-1])
        for (expr, start), a, b in zip(cases, ours, theirs, strict=True):
            if not _comparable(expr):
                counts["not comparable"] += 1
                continue
            if isinstance(a, list) and isinstance(b, list):
                counts["compared"] += 1
                if a != b:
                    violations.append(f"{expr!r} from {start}: headrace {a}, croniter {b}")
            elif isinstance(a, list) != isinstance(b, list):
                counts["refused by one"] += 1
                # croniter accepts a few things cron does not (and the other way round); only a day that
                # exists being refused by headrace counts.
                if a == "refused" and isinstance(b, list):
                    violations.append(f"{expr!r}: refused by headrace, croniter fires at {b[0]}")
        for text in HOSTILE:
            began = time.perf_counter()
            try:
                Cron(text)
                counts["hostile accepted"] += 1
                violations.append(f"hostile {text[:40]!r} was accepted")
            except DefinitionError:
                counts["hostile refused"] += 1
            except Exception as e:  # noqa: BLE001
                violations.append(f"hostile {text[:40]!r}: {type(e).__name__}: {e}")
            slowest = max(slowest, time.perf_counter() - began)
        if slowest > 1.0:
            violations.append(f"an expression took {slowest:.2f} s to answer")
        counts["slowest_ms"] = round(slowest * 1000, 1)
    finally:
        if old_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old_tz
        time.tzset()
    return violations, dict(counts)


def _check(ir_file: Path, env: dict[str, str], run_id: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "headrace", "task", "new-data", str(ir_file), "--run-id", run_id, "--debounce", "0.5"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _new_data_part(tmp_path: Path, rng: random.Random) -> tuple[list[str], dict[str, int]]:
    pipeline, landing, env = setup_pipeline(tmp_path)
    root = tmp_path / "root"
    os.environ.update({k: env[k] for k in ("SCHED_TEST_LANDING", "SCHED_TEST_ROOT")})
    try:
        ir = compile_pipeline(load_file_as_module(str(pipeline)).create_pipeline())
    finally:
        for key in ("SCHED_TEST_LANDING", "SCHED_TEST_ROOT"):
            os.environ.pop(key, None)
    ir_file = tmp_path / "sched.ir.json"
    ir_file.write_text(ir.dump())
    violations: list[str] = []
    span, started_by_race, killed_before, killed_after = 0, 0, 0, 0
    for race in range(RACES):
        span += 1
        land_span(landing, span)
        time.sleep(0.6)
        procs = [_check(ir_file, env, f"race_{race}_{k}") for k in range(4)]
        codes = [p.wait(timeout=120) for p in procs]
        outs = [p.stdout.read() if p.stdout else "" for p in procs]
        winners = [c for c in codes if c == 0]
        started_by_race += len(winners)
        if len(winners) != 1 or any(c not in (0, 99) for c in codes):
            violations.append(f"race {race}: exits {codes}: {[o.strip()[-200:] for o in outs]}")
    for kill in range(KILLS):
        span += 1
        land_span(landing, span)
        time.sleep(0.6)
        run_id = f"killed_{kill}"
        before = len(runs_in(root))
        proc = _check(ir_file, env, run_id)
        time.sleep(rng.uniform(0.1, 1.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if len(runs_in(root)) > before:
            killed_after += 1
        else:
            killed_before += 1
        retry = _check(ir_file, env, run_id)
        if retry.wait(timeout=120) != 0:
            violations.append(
                f"kill {kill}: the retried check did not go on: {retry.stdout.read() if retry.stdout else ''}"
            )
        other = _check(ir_file, env, f"after_{kill}")
        if other.wait(timeout=120) != 99:
            violations.append(
                f"kill {kill}: a later check found new data again: {other.stdout.read() if other.stdout else ''}"
            )
    runs = runs_in(root)
    digests = Counter(json.loads(r.trigger)["data"] for r in runs)
    violations += [f"{n} runs for the same data {d}" for d, n in digests.items() if n > 1]
    if len(runs) != span:
        violations.append(f"{span} spans landed one at a time, {len(runs)} runs started")
    counts = {
        "spans": span,
        "runs": len(runs),
        "killed before the run started": killed_before,
        "killed after": killed_after,
    }
    return violations, counts


def test_schedules_from_hostile_input_and_new_data_checks_raced_and_killed(tmp_path: Path) -> None:
    rng = random.Random(19)
    started = time.perf_counter()
    cron_violations, cron_counts = _cron_part(tmp_path, rng)
    data_violations, data_counts = _new_data_part(tmp_path, rng)
    violations = cron_violations + data_violations
    seconds = time.perf_counter() - started
    record(
        19,
        "Schedules from hostile input; new-data checks raced and killed",
        EXPRESSIONS + len(HOSTILE) + RACES + KILLS,
        f"{EXPRESSIONS} random cron expressions checked against croniter and {len(HOSTILE)} hostile ones; "
        f"{RACES} new spans checked by 4 processes at once; {KILLS} checks SIGKILLed at random moments",
        len(violations),
        f"{cron_counts.get('compared', 0)} expressions agree with croniter (slowest answer "
        f"{cron_counts.get('slowest_ms')} ms), {cron_counts.get('hostile refused', 0)} hostile ones refused; "
        f"{data_counts['runs']} runs for {data_counts['spans']} spans ({data_counts['killed after']} checks killed "
        f"after starting theirs), in {seconds:.0f} s; {len(violations)} violations",
        {"violations": violations[:20], **cron_counts, **data_counts},
    )
    assert not violations, violations[:20]
