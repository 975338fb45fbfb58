"""Scenario 18, model aliases under contention, crashes and hostile input.

One store with four pushed versions of 'penguin' (real Pusher runs). Then:

- **Contention**: 8 processes change aliases of the model at once (set the challenger, promote a
  version, remove the challenger, point another alias), through `headrace.components.serving.aliases`.
- **Crashes**: a process changing aliases in a loop is SIGKILLed at a random moment, many times.
- **Hostile input**: alias names, versions and reasons that are traversal paths, script payloads,
  control characters or too long, through the API and the CLI.

Violations: an operation that failed other than by a ModelRegistryError refusal; a change recorded
twice or lost (ModelAlias executions against the operations that returned); an alias pointing at a
version that is not on disk; a TF Serving config that does not parse or a KServe manifest that does
not load (a torn file); after the last change (and after any crash, once the next change is made),
files that do not match the aliases in the store; a hostile input that raised anything but a
DefinitionError or ModelRegistryError (or, at the CLI, printed a traceback), or that left a record.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from _reliability import record, trials
from pushes import push_model

from headrace.components.serving import aliases
from headrace.components.serving.model_registry import ModelRegistryError, versions
from headrace.components.serving.serving_config import LABELS, kserve_manifest
from headrace.errors import DefinitionError
from headrace.metadata import Metadata, sqlite_metadata_connection_config
from headrace.metadata.model_aliases import alias_history, current_aliases

PROCESSES = 8
OPERATIONS = trials(25, 6)  # per process
KILLS = trials(40, 6)
MODEL = "penguin"

# One process's alias changes: random operations, each printed as a JSON line when it returned.
WORKER = r"""
import json, random, sys, time
from headrace.components.serving import aliases
from headrace.components.serving.model_registry import ModelRegistryError
db, seed, count, start_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
rng = random.Random(seed)
time.sleep(max(0.0, start_at - time.time()))  # every process starts changing at the same moment
for i in range(count):
    op, version = rng.choice(["challenger", "promote", "remove", "shadow"]), rng.choice([1, 2, 3, 4])
    try:
        if op == "challenger":
            aliases.set_alias(db, "penguin", "challenger", version, reason=f"worker {seed} op {i}")
        elif op == "promote":
            aliases.promote(db, "penguin", version, reason=f"worker {seed} op {i}", require_blessing=False)
        elif op == "remove":
            aliases.remove_alias(db, "penguin", "challenger", reason=f"worker {seed} op {i}")
        else:
            aliases.set_alias(db, "penguin", "shadow", version)
        print(json.dumps({"op": op, "ok": True}), flush=True)
    except ModelRegistryError as e:
        print(json.dumps({"op": op, "ok": False, "refused": str(e)[:80]}), flush=True)
"""


def _md(db: str) -> Metadata:
    return Metadata(sqlite_metadata_connection_config(db))


def _worker(db: str, seed: int, count: int, start_at: float = 0.0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, db, str(seed), str(count), str(start_at)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _files_violations(db: str, model_dir: Path, must_match: bool) -> list[str]:
    """The model directory's files parse (never torn); with `must_match`, they say what the store says."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    found = []
    now = {a: c.version for a, c in current_aliases(_md(db), MODEL).items()}
    on_disk = versions(str(model_dir))
    found += [f"alias {a} points at version {v}, not on disk" for a, v in now.items() if v not in on_disk]
    try:
        config = text_format.Parse(
            (model_dir / "model_server.config").read_text(), model_server_config_pb2.ModelServerConfig()
        )
        manifest = yaml.safe_load((model_dir / "inferenceservice.yaml").read_text())
    except FileNotFoundError:
        return found  # no change was ever completed
    except Exception as e:  # noqa: BLE001 -- a torn or malformed file, whatever the parser raises
        return [*found, f"serving files do not load: {type(e).__name__}: {e}"]
    if must_match:
        labels = {LABELS.get(a, a): v for a, v in now.items()}
        if dict(config.model_config_list.config[0].version_labels) != labels:
            found.append(f"TF Serving labels {dict(config.model_config_list.config[0].version_labels)} != {labels}")
        expected = kserve_manifest(MODEL, str(model_dir), now, on_disk[-1], None)
        if manifest != expected:
            found.append(f"KServe manifest {manifest} != {expected}")
    return found


def _contention(db: str, model_dir: Path) -> tuple[list[str], dict[str, int]]:
    before = len(alias_history(_md(db), MODEL))
    start_at = time.time() + 3.0  # after every process has imported headrace
    procs = [_worker(db, seed, OPERATIONS, start_at) for seed in range(PROCESSES)]
    done, violations = [], []
    for p in procs:
        out, err = p.communicate(timeout=600)
        if p.returncode != 0:
            violations.append(f"worker exited {p.returncode}: {err[-500:]}")
        done += [json.loads(line) for line in out.splitlines()]
    ok = sum(1 for d in done if d["ok"])
    promotions = sum(1 for d in done if d["ok"] and d["op"] == "promote")
    # A promotion of the challenger records two changes (champion set, challenger removed).
    recorded = len(alias_history(_md(db), MODEL)) - before
    promoted_challengers = sum(
        1 for c in alias_history(_md(db), MODEL)[before:] if c.version is None and c.reason.startswith("promoted")
    )
    if recorded != ok + promoted_challengers:
        violations.append(f"{recorded} changes recorded for {ok} operations (+{promoted_challengers} promotions)")
    violations += _files_violations(db, model_dir, must_match=True)
    return violations, {"operations": len(done), "succeeded": ok, "promotions": promotions, "recorded": recorded}


def _crashes(db: str, model_dir: Path, rng: random.Random) -> tuple[list[str], int]:
    violations, killed = [], 0
    for trial in range(KILLS):
        proc = _worker(db, 1000 + trial, 10_000)
        time.sleep(rng.uniform(0.3, 1.5))  # imports take ~0.3 s: kills land before, during and between changes
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate(timeout=60)
        violations += [f"kill {trial}: {v}" for v in _files_violations(db, model_dir, must_match=False)]
        # The next change rewrites the files from the store: they match it again.
        aliases.set_alias(db, MODEL, "shadow", rng.choice([1, 2, 3, 4]), reason=f"after kill {trial}")
        violations += [f"after kill {trial}: {v}" for v in _files_violations(db, model_dir, must_match=True)]
    return violations, killed


HOSTILE_ALIASES = [
    "../champion",
    "/etc/passwd",
    "<img src=x onerror=alert(1)>",
    "Champion",
    "",
    "a" * 64,
    "x\ny",
    "ch\0mp",
]
HOSTILE_VERSIONS = [-1, 0, 99, 2**63]


def _hostile(db: str) -> tuple[list[str], int]:
    violations, cases = [], 0
    before = len(alias_history(_md(db), MODEL))
    for alias in HOSTILE_ALIASES:
        cases += 1
        try:
            aliases.set_alias(db, MODEL, alias, 1)
            violations.append(f"alias {alias!r} accepted")
        except DefinitionError:
            pass
        except Exception as e:  # noqa: BLE001 -- any other error is the violation counted
            violations.append(f"alias {alias!r}: {type(e).__name__}: {e}")
    for version in HOSTILE_VERSIONS:
        for call in (
            lambda v: aliases.set_alias(db, MODEL, "challenger", v),
            lambda v: aliases.promote(db, MODEL, v, require_blessing=False),
        ):
            cases += 1
            try:
                call(version)
                violations.append(f"version {version} accepted")
            except ModelRegistryError:
                pass
            except Exception as e:  # noqa: BLE001 -- any other error is the violation counted
                violations.append(f"version {version}: {type(e).__name__}: {e}")
    for args in (["alias", MODEL, "../x", "1"], ["alias", MODEL, "champion", "-5"], ["promote", MODEL, "abc"]):
        cases += 1
        proc = subprocess.run(
            [sys.executable, "-m", "headrace.cli.main", "models", *args, "--metadata", db],
            capture_output=True,
            text=True,
        )
        if proc.returncode == 0 or "Traceback" in proc.stderr:
            violations.append(f"CLI {args}: exit {proc.returncode}: {proc.stderr[-300:]}")
    if len(alias_history(_md(db), MODEL)) != before:
        violations.append("a refused input left an alias record")
    # A reason a user controls is kept verbatim, payload and all: it is data, not markup.
    payload = "<script>alert(1)</script>\nsecond line"
    cases += 1
    change = aliases.set_alias(db, MODEL, "shadow", 2, reason=payload)
    if alias_history(_md(db), MODEL)[-1].reason != payload or change.reason != payload:
        violations.append("a reason was not kept verbatim")
    return violations, cases


def test_model_aliases_under_contention_crashes_and_hostile_input(tmp_path: Path) -> None:
    for tag in ("one", "two", "three", "four"):
        push_model(tmp_path, tag, None)
    db = str(tmp_path / "root" / "metadata.sqlite")
    model_dir = tmp_path / "serving" / MODEL
    assert versions(str(model_dir)) == [1, 2, 3, 4]
    aliases.set_alias(db, MODEL, "champion", 1)

    started = time.perf_counter()
    contention, counts = _contention(db, model_dir)
    contention_s = time.perf_counter() - started
    crashes, killed = _crashes(db, model_dir, random.Random(18))
    hostile, cases = _hostile(db)
    violations = contention + crashes + hostile
    record(
        18,
        "Model aliases under contention, crashes and hostile input",
        counts["operations"] + KILLS + cases,
        f"{PROCESSES} processes x {OPERATIONS} alias changes at once; {killed} SIGKILLs of a process changing "
        f"aliases in a loop; {cases} hostile alias names, versions and reasons (API and CLI)",
        len(violations),
        f"{counts['operations']} concurrent operations ({counts['succeeded']} done, {counts['promotions']} "
        f"promotions, {counts['recorded']} changes recorded, none lost or doubled) in {contention_s:.1f} s; "
        f"{killed} kills: serving files never torn and matching the store after the next change; {cases} hostile "
        f"inputs refused with a typed error and no record; {len(violations)} violations",
        {"counts": counts, "violations": violations[:20]},
    )
    assert not violations, violations[:20]
