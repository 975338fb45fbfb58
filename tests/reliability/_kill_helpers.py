"""Shared by the crash scenarios (issue 11, numbers 1-4): reading what a store and a pipeline root hold
after a process was killed, and killing a process from outside at a chosen moment."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from output_files import output_files

# ML Metadata's enum values, as stored in SQLite.
RUNNING, COMPLETE, FAILED, CACHED, CANCELED = 2, 3, 4, 5, 6
PENDING, LIVE, ABANDONED = 1, 2, 5
OUTPUT_EVENT = 4


def query(db: Path, sql: str, args: tuple = ()) -> list[tuple]:
    """Rows of one query on a SQLite store (read directly, as a user inspecting the store would)."""
    con = sqlite3.connect(str(db), timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def executions(db: Path) -> list[tuple[int, str, int]]:
    """(execution id, node id, state) of every execution, in id order."""
    if not db.exists():
        return []
    tables = {r[0] for r in query(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "Execution" not in tables:
        return []  # killed while the store was being created: the next open must finish the schema
    return query(
        db,
        "SELECT e.id, p.string_value, e.last_known_state FROM Execution e JOIN ExecutionProperty p "
        "ON p.execution_id = e.id AND p.name = 'node_id' ORDER BY e.id",
    )


def outputs_by_state(db: Path, state: int) -> list[tuple[str, str]]:
    """(producing node id, uri) of the output artifacts in `state`."""
    if not db.exists():
        return []
    tables = {r[0] for r in query(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "Execution" not in tables:
        return []  # killed while the store was being created: the next open must finish the schema
    return query(
        db,
        "SELECT p.string_value, a.uri FROM Artifact a JOIN Event e ON e.artifact_id = a.id AND e.type = ? "
        "JOIN ExecutionProperty p ON p.execution_id = e.execution_id AND p.name = 'node_id' "
        "WHERE a.state = ? ORDER BY a.id",
        (OUTPUT_EVENT, state),
    )


def listing(uri: str) -> dict[str, bytes]:
    """Every file under an artifact's URI, with its bytes (a value artifact's: `{'value': bytes}`)."""
    return output_files(uri, binary=True)


def output_key(uri: str) -> str:
    """`node/key` of an output URI laid out as `{root}/{node}/{key}/{attempt}`, or as
    `{root}/{node}/{key}/{attempt}/value` for a value artifact (its URI is the value's file, as in TFX)."""
    path = Path(uri)
    if path.name == "value":
        path = path.parent
    return f"{path.parent.parent.name}/{path.parent.name}"


def live_contents(db: Path) -> dict[str, list[dict[str, bytes]]]:
    """What the LIVE outputs hold, by `node/key` (a list: a node may have published more than once)."""
    found: dict[str, list[dict[str, bytes]]] = {}
    for _node, uri in outputs_by_state(db, LIVE):
        found.setdefault(output_key(uri), []).append(listing(uri) if os.path.exists(uri) else {"<missing>": b""})
    return found


KILLER = """
import os, signal, sys, time
pidfile, delay = sys.argv[1], float(sys.argv[2])
deadline = time.monotonic() + 60
while not os.path.exists(pidfile):
    if time.monotonic() > deadline:
        sys.exit(2)
    time.sleep(0.0005)
time.sleep(delay)
try:
    with open(pidfile) as f:  # gone: the victim finished its work before the delay ran out
        pid = int(f.read())
except FileNotFoundError:
    sys.exit(3)
try:
    os.kill(pid, signal.SIGKILL)
except ProcessLookupError:
    sys.exit(3)
"""


def start_killer(pidfile: Path, delay_s: float) -> subprocess.Popen[bytes]:
    """A separate process that waits for `pidfile` (written atomically by the victim), sleeps
    `delay_s`, then SIGKILLs the pid it names: the victim is killed from outside, at a moment
    it does not choose. A victim that removes (renames) the file when its work is done is left
    alone if the delay outlasts it. Exit code 0: killed; 3: too late."""
    return subprocess.Popen([sys.executable, "-S", "-c", KILLER, str(pidfile), repr(delay_s)])


# The chunked writer of scenarios 13-15: a 16-chunk fsynced write of a seed's bytes, slow enough for a
# killer to land mid-write. Its first attempt writes its pid file (for a killer to aim at) and renames it
# `.done` when the write completes; the engine's retry must then complete without the killer.
CHUNKED_WRITER = """
import hashlib, os, time
from headrace import component, InputArtifact, OutputArtifact, OutputDict, Parameter, Pipeline
from headrace.types import standard_artifacts

CHUNKS, CHUNK = 16, 4096

def content(seed):
    return b''.join((f'{seed}:{i}:'.encode() * CHUNK)[:CHUNK] for i in range(CHUNKS))

def write_chunks(uri, seed, pidfile, pause):
    first = bool(pidfile) and not os.path.exists(pidfile) and not os.path.exists(pidfile + '.done')
    if first:
        with open(pidfile + '.tmp', 'w') as f:
            f.write(str(os.getpid()))
        os.rename(pidfile + '.tmp', pidfile)
    body = content(seed)
    with open(os.path.join(uri, 'data.bin'), 'wb') as f:
        for i in range(CHUNKS):
            f.write(body[i * CHUNK:(i + 1) * CHUNK])
            f.flush()
            os.fsync(f.fileno())
            time.sleep(pause)
    if first:
        os.rename(pidfile, pidfile + '.done')
    return len(body)
"""

# Scenarios 14 and 15: Source -> Write (the chunked writer) -> Check (refuses a partial input).
RETRIED_WRITE = (
    CHUNKED_WRITER
    + """
@component
def Source(start: Parameter[int] = 7) -> OutputDict(seed=int):
    return {'seed': start}

@component
def Write(seed: int, data: OutputArtifact[standard_artifacts.Examples],
          pidfile: Parameter[str]) -> OutputDict(size=int):
    return {'size': write_chunks(data.uri, seed, pidfile, 0.02)}

@component
def Check(data: InputArtifact[standard_artifacts.Examples], size: int) -> OutputDict(digest=str):
    with open(os.path.join(data.uri, 'data.bin'), 'rb') as f:
        body = f.read()
    if len(body) != size:
        raise ValueError(f'partial input: {len(body)} of {size} bytes')
    return {'digest': hashlib.sha256(body).hexdigest()}

def create_pipeline(root, pidfile, name):
    source = Source()
    write = Write(seed=source.outputs['seed'], pidfile=pidfile)
    check = Check(data=write.outputs['data'], size=write.outputs['size'])
    return Pipeline(name, root, [source, write, check], enable_cache=False)
"""
)


def retried_write_violations(db: Path, killed: bool, expected: bytes, pidfile: Path, where: str) -> list[str]:
    """What is wrong in a RETRIED_WRITE store after a trial whose first Write attempt was (or was not)
    killed: the executions (the killed attempt FAILED, then one COMPLETE each), a LIVE Write output
    other than the clean bytes, what Check saw, anything left PENDING or RUNNING."""
    violations = []
    states: dict[str, list[int]] = {}
    for _id, node, state in executions(db):
        states.setdefault(node, []).append(state)
    want = {"Source": [COMPLETE], "Write": [FAILED, COMPLETE] if killed else [COMPLETE], "Check": [COMPLETE]}
    if states != want:
        violations.append(f"{where}: executions {states}, expected {want}")
    live = live_contents(db)
    if [c.get("data.bin") for c in live.get("Write/data", [])] != [expected]:
        violations.append(f"{where}: LIVE Write/data {[sorted(c) for c in live.get('Write/data', [])]}")
    digest = live.get("Check/digest", [{}])[0].get("value", b"").decode()
    if digest != hashlib.sha256(expected).hexdigest():
        violations.append(f"{where}: Check saw {digest!r}")
    if outputs_by_state(db, PENDING) or any(RUNNING in s for s in states.values()):
        violations.append(f"{where}: something left PENDING or RUNNING: {states}")
    if killed and not os.path.exists(str(pidfile)):
        violations.append(f"{where}: the killed attempt's pid file is gone")
    return violations
