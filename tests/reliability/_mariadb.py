"""MariaDB for the store scenarios (5 and 11): start, stop, fresh databases; and the audit of a store
that both scenarios run after their trials (what is LIVE, COMPLETE, and what each file holds).

MariaDB is the one `scripts/services.sh mariadb` starts (user headrace/headrace on 127.0.0.1:3306).
A scenario that needs it and cannot start it fails with the reason: it is never skipped.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
HOST, PORT, USER, PASSWORD = "127.0.0.1", 3306, "headrace", "headrace"
CLIENT = ["--protocol=tcp", f"-h{HOST}", f"-P{PORT}", f"-u{USER}", f"-p{PASSWORD}"]

# Components whose outputs say what they should hold: Make writes its own output URI; Copy writes
# its input's text, '|', and its own URI. The audit recomputes both from the store alone.
PIPELINE_SOURCE = """
import os, time
from headrace import component, InputArtifact, OutputArtifact, Parameter
from headrace.types import standard_artifacts

@component
def Make(examples: OutputArtifact[standard_artifacts.Examples], pause: Parameter[float] = 0.0):
    time.sleep(pause)
    with open(os.path.join(examples.uri, 'data.txt'), 'w') as f:
        f.write(examples.uri)

@component
def Copy(src: InputArtifact[standard_artifacts.Examples], examples: OutputArtifact[standard_artifacts.Examples],
         pause: Parameter[float] = 0.0):
    with open(os.path.join(src.uri, 'data.txt')) as f:
        text = f.read()
    time.sleep(pause)
    with open(os.path.join(examples.uri, 'data.txt'), 'w') as f:
        f.write(text + '|' + examples.uri)
"""


def ping() -> bool:
    """Whether the server answers."""
    done = subprocess.run(["mysqladmin", *CLIENT, "ping"], capture_output=True, text=True)
    return done.returncode == 0


def start() -> None:
    """Starts MariaDB with the project's script (idempotent); fails the test with the reason if it cannot."""
    if ping():
        return
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "services.sh"), "mariadb"], capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0 or not ping():
        pytest.fail(
            f"MariaDB could not be started by scripts/services.sh mariadb: {done.stderr.strip() or done.stdout}"
        )


def stop() -> None:
    """Stops the server cleanly (mysqladmin shutdown); mysqld_safe then exits too."""
    subprocess.run(["mysqladmin", *CLIENT, "shutdown"], capture_output=True, text=True, timeout=60)
    deadline = time.monotonic() + 30
    while ping() and time.monotonic() < deadline:
        time.sleep(0.1)


def restart_now() -> None:
    """Starts mysqld_safe again without the setup the project's script does (faster: used mid-run)."""
    os.makedirs("/run/mysqld", exist_ok=True)
    subprocess.run(["chown", "mysql:mysql", "/run/mysqld"], capture_output=True)
    subprocess.Popen(
        ["mysqld_safe", "--user=mysql", f"--bind-address={HOST}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not ping():
        if time.monotonic() > deadline:
            pytest.fail("MariaDB did not come back within 60 s of mysqld_safe")
        time.sleep(0.1)


def sql(statement: str) -> None:
    """Runs one statement as the headrace user."""
    done = subprocess.run(["mysql", *CLIENT, "-e", statement], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"mysql -e {statement!r}: {done.stderr.strip()}")


def fresh_database(name: str) -> str:
    """An empty database `name` (dropped first if a previous session left it)."""
    sql(f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}`")
    return name


def config(database: str) -> Any:
    """The ML Metadata connection config of `database`."""
    from headrace.metadata import mysql_metadata_connection_config

    return mysql_metadata_connection_config(HOST, PORT, database, USER, PASSWORD)


def uri(database: str) -> str:
    """The CLI's --metadata value for `database`."""
    return f"mysql://{USER}:{PASSWORD}@{HOST}:{PORT}/{database}"


def audit(md: Any) -> tuple[list[str], dict[str, Any]]:
    """Checks a store written by PIPELINE_SOURCE's components.

    Violations: a LIVE artifact that no COMPLETE execution output; a COMPLETE execution without an
    OUTPUT event, with an output not LIVE, or whose file is missing or holds other than what the
    executor meant to write; a Copy execution without its INPUT event; two COMPLETE executions of one
    node in one run. Returns (violations, facts: execution states, COMPLETE nodes per run).
    """
    from headrace.metadata.values import get_value

    pb = md.pb
    executions = md.call(md.store.get_executions)
    events = md.call(md.store.get_events_by_execution_ids, [e.id for e in executions]) if executions else []
    artifacts = {a.id: a for a in md.call(md.store.get_artifacts)}
    outputs: dict[int, list[Any]] = {}
    inputs: dict[int, list[Any]] = {}
    produced_by: dict[int, int] = {}
    for ev in events:
        if ev.type == pb.Event.OUTPUT:
            outputs.setdefault(ev.execution_id, []).append(artifacts[ev.artifact_id])
            produced_by[ev.artifact_id] = ev.execution_id
        elif ev.type == pb.Event.INPUT:
            inputs.setdefault(ev.execution_id, []).append(artifacts[ev.artifact_id])
    violations: list[str] = []
    states: Counter[str] = Counter()
    complete: Counter[tuple[str, str]] = Counter()
    by_id = {e.id: e for e in executions}
    for ex in executions:
        state = pb.Execution.State.Name(ex.last_known_state)
        states[state] += 1
        props = ex.custom_properties
        node = str(get_value(props["node_id"])) if "node_id" in props else "?"
        run = str(get_value(props["run_id"])) if "run_id" in props else "?"
        outs = outputs.get(ex.id, [])
        if ex.last_known_state != pb.Execution.COMPLETE:
            continue
        complete[(run, node)] += 1
        if not outs:
            violations.append(f"execution {ex.id} ({node}, run {run}) is COMPLETE with no OUTPUT event")
        for art in outs:
            if art.state != pb.Artifact.LIVE:
                violations.append(f"execution {ex.id} is COMPLETE but its output {art.id} is {art.state}")
                continue
            expected = art.uri
            if node.startswith("Copy"):
                srcs = inputs.get(ex.id, [])
                if len(srcs) != 1:
                    violations.append(f"execution {ex.id} ({node}) is COMPLETE with {len(srcs)} INPUT events")
                    continue
                expected = _read(srcs[0].uri) + "|" + art.uri
            found = _read(art.uri)
            if found != expected:
                violations.append(f"artifact {art.id} of execution {ex.id} holds {found[:80]!r}, not {expected[:80]!r}")
    for art in artifacts.values():
        if art.state == pb.Artifact.LIVE:
            producer = by_id.get(produced_by.get(art.id, -1))
            if producer is None or producer.last_known_state != pb.Execution.COMPLETE:
                state = pb.Execution.State.Name(producer.last_known_state) if producer is not None else "no producer"
                violations.append(f"artifact {art.id} is LIVE but its execution is {state}")
    violations += [
        f"{n} COMPLETE executions of node {node} in run {run}" for (run, node), n in complete.items() if n > 1
    ]
    done: dict[str, set[str]] = {}
    for run, node in complete:
        done.setdefault(run, set()).add(node)
    return violations, {"states": dict(states), "complete_nodes": done}


def _read(uri: str) -> str:
    try:
        return Path(uri, "data.txt").read_text()
    except OSError as e:
        return f"<unreadable: {e.strerror}>"
