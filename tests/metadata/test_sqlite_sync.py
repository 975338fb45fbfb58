"""ML Metadata's SQLite connections commit without an fsync (synchronous=NORMAL) only in WAL mode, and a
killed process still loses no committed record."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from headrace.metadata import Metadata, sqlite_metadata_connection_config, sqlite_sync

NORMAL, FULL = 1, 2


def open_level(path) -> int | None:
    Metadata(sqlite_metadata_connection_config(path))
    return sqlite_sync.last_synchronous


def test_a_wal_store_is_opened_with_synchronous_normal(tmp_path, monkeypatch):
    monkeypatch.delenv(sqlite_sync.ENV, raising=False)
    monkeypatch.delenv("HEADRACE_SQLITE_WAL", raising=False)
    # The locked ml-metadata build must take the setting: if this fails after a dependency update, every
    # commit fsyncs again (safe, but the per-node cost on a disk doubles); see headrace.metadata.sqlite_sync.
    assert open_level(tmp_path / "store.sqlite") == NORMAL
    assert sqlite_sync.install()


def test_full_keeps_an_fsync_per_commit(tmp_path, monkeypatch):
    monkeypatch.setenv(sqlite_sync.ENV, "full")
    assert open_level(tmp_path / "store.sqlite") == FULL


def test_a_store_not_in_wal_mode_keeps_full(tmp_path, monkeypatch):
    # NORMAL is corruption-free on a power cut only in WAL mode: a rollback-journal store keeps FULL.
    monkeypatch.delenv(sqlite_sync.ENV, raising=False)
    monkeypatch.setenv("HEADRACE_SQLITE_WAL", "0")
    assert open_level(tmp_path / "store.sqlite") == FULL


KILLED_WRITER = """
import os, signal, sys
from headrace.metadata import Metadata, sqlite_metadata_connection_config, sqlite_sync
md = Metadata(sqlite_metadata_connection_config(sys.argv[1]))
assert sqlite_sync.last_synchronous == 1, sqlite_sync.last_synchronous
type_id = md.execution_type_id("written")
for i in range(int(sys.argv[2])):
    ex = md.pb.Execution(type_id=type_id, last_known_state=md.pb.Execution.COMPLETE)
    ex.custom_properties["i"].int_value = i
    md.call(md.store.put_execution, ex, [], [])
os.kill(os.getpid(), signal.SIGKILL)  # right after the last commit returned: no close, no checkpoint
"""


@pytest.mark.parametrize("writes", [1, 300])
def test_a_sigkilled_writer_loses_no_committed_record(tmp_path, writes):
    store = tmp_path / "store.sqlite"
    env = {k: v for k, v in os.environ.items() if k not in (sqlite_sync.ENV, "HEADRACE_SQLITE_WAL")}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLED_WRITER), str(store), str(writes)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    md = Metadata(sqlite_metadata_connection_config(store))
    found = sorted(e.custom_properties["i"].int_value for e in md.store.get_executions_by_type("written"))
    assert found == list(range(writes))
