"""The connection to ML Metadata: opening a store, queuing SQLite writers, retrying transient failures.

ML Metadata is the `ml-metadata` library's MetadataStore; nothing here re-implements a store.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from headrace.errors import MetadataError
from headrace.metadata import sqlite_sync
from headrace.metadata.config import describe, is_read_only

T = TypeVar("T")

# Errors worth retrying: SQLite busy/locked, and ML Metadata's SQLite open losing the
# schema-check race to another process (it then reports "missing tables" or a failed
# precondition about the schema, which is misleading: a retry sees the finished schema).
_LOCK_MARKERS = ("locked", "busy", "aborted", "deadlock", "try restarting")
_OPEN_MARKERS = (*_LOCK_MARKERS, "missing", "schema", "tables", "retry")
_OPEN_ATTEMPTS = 60
_CALL_ATTEMPTS = 40
# A MySQL/MariaDB server that went away (stopped, restarted, network cut). ML Metadata's handle must
# then be dropped, not called again: after a failed reconnect, its next call crashes the process
# (SIGSEGV in ml-metadata 1.16). A fresh handle is opened until the server answers again, for at
# most HEADRACE_METADATA_OUTAGE_S seconds (default 60).
_CONNECTION_MARKERS = ("lost connection", "gone away", "mysql_real_connect failed", "can't connect", "refused")


def _outage_s() -> float:
    try:
        return max(0.0, float(os.environ.get("HEADRACE_METADATA_OUTAGE_S", "60")))
    except ValueError:
        return 60.0


def _is_transient(err: Exception, markers: tuple[str, ...] = _LOCK_MARKERS) -> bool:
    text = str(err).lower()
    return any(m in text for m in markers)


def _backoff(attempt: int) -> None:
    time.sleep(min(0.5, 0.005 * (2 ** min(attempt, 7))) * (0.5 + random.random()))


# ML Metadata's SQLite connection gives up on a busy lock at once (no busy_timeout, none settable
# through its config), so concurrent writers used to spin in Metadata.call's backoff, and newcomers
# overtook writers that had waited longest (16 writers: p99 11 s, max 24 s). Writers now queue on an
# advisory lock beside the store instead: flock on "<store>.lock", taken around each write call and
# each first open (which may create the schema). Readers take no lock (WAL: they never block a writer).
# HEADRACE_SQLITE_LOCK=0 turns it off.
_WRITE_PREFIXES = ("put_", "delete_", "update_")


def _sqlite_lock_path(config: Any) -> str | None:
    if (
        config.WhichOneof("config") != "sqlite"
        or os.environ.get("HEADRACE_SQLITE_LOCK", "1") == "0"
        or is_read_only(config)  # a reader takes no lock (WAL: it never blocks a writer)
    ):
        return None
    return config.sqlite.filename_uri + ".lock"


class _FileLock:
    """An exclusive flock on a file, opened lazily (again in a forked child: a descriptor shared
    with the parent would share its lock). A lock file that cannot be opened means no lock."""

    def __init__(self, path: str):
        self.path = path
        self._fd: int | None = None
        self._pid = 0

    @contextlib.contextmanager
    def held(self) -> Any:
        fd = self._open()
        if fd is None:
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _open(self) -> int | None:
        if self._fd is None or self._pid != os.getpid():
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
                self._pid = os.getpid()
            except OSError:
                return None
        return self._fd

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def open_store(config: Any) -> Any:
    """Opens (creating if needed) an ML Metadata store, surviving concurrent first opens.

    Raises:
        MetadataError: if the store cannot be opened, with where and why.
    """
    from ml_metadata import errors as mlmd_errors
    from ml_metadata.metadata_store import metadata_store

    if is_read_only(config):
        path = config.sqlite.filename_uri
        if not os.path.isfile(path):
            raise MetadataError(f"No ML Metadata store at {path}: give the path of an existing SQLite store.")
    elif config.WhichOneof("config") == "sqlite":
        path = config.sqlite.filename_uri
        try:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            if os.path.isdir(path):
                raise IsADirectoryError(f"{path} is a directory")
            _use_wal(path)
            sqlite_sync.install()  # ML Metadata's connections to a WAL store: synchronous=NORMAL
        except OSError as e:
            raise MetadataError(
                f"Cannot open the ML Metadata store at {path}: {e}. Give the path of a SQLite file."
            ) from None
    lock_path = _sqlite_lock_path(config)
    lock = _FileLock(lock_path) if lock_path else None
    last: Exception | None = None
    for attempt in range(_OPEN_ATTEMPTS):
        try:
            with lock.held() if lock is not None else contextlib.nullcontext():
                return metadata_store.MetadataStore(config)
        except (mlmd_errors.StatusError, RuntimeError) as e:
            # RuntimeError: ML Metadata found "a subset of tables" -- it lost the schema race.
            last = e
            transient = _is_transient(e, _OPEN_MARKERS)
            if not transient and not isinstance(e, (mlmd_errors.AbortedError, mlmd_errors.UnavailableError)):
                break
            _backoff(attempt)
    if lock is not None:
        lock.close()
    hint = ""
    if config.WhichOneof("config") == "mysql":
        hint = " Is the MySQL/MariaDB server running and reachable, and are the credentials right?"
    raise MetadataError(f"Cannot open the ML Metadata store at {describe(config)}: {last}.{hint}")


_WAL_CHECKED: set[str] = set()
_WAL_LOCK = threading.Lock()


def _use_wal(path: str) -> None:
    """Puts a SQLite store in write-ahead-log mode (persistent in the file; ML Metadata keeps it).

    One fsync per commit instead of three (put_execution: 0.5 ms instead of 1.5 ms here), none
    with synchronous=NORMAL (see sqlite_sync), and readers no longer block the writer when
    several processes share the store. WAL needs a local filesystem; set HEADRACE_SQLITE_WAL=0
    to leave the journal mode alone.

    This touches the file only before ML Metadata first opens it in this process, and once:
    closing any descriptor of a SQLite file drops every POSIX lock the process holds on it,
    so doing this beside an open ML Metadata connection would corrupt its locking ("disk I/O
    error", "no such table", a commit lost). Threads of one process opening the same store
    therefore wait here until the check is over, and the check is keyed by the file's real path.
    """
    if os.environ.get("HEADRACE_SQLITE_WAL", "1") == "0":
        return
    key = os.path.realpath(path)
    if key in _WAL_CHECKED:
        return
    with _WAL_LOCK:
        if key in _WAL_CHECKED:
            return
        try:
            _set_wal(path)
        finally:
            _WAL_CHECKED.add(key)


def _set_wal(path: str) -> None:
    if os.path.exists(path):
        with open(path, "rb") as f:
            header = f.read(20)
        if len(header) == 20 and header[18] == 2 and header[19] == 2:
            return  # already WAL (file format versions 2/2 in the header)
    import sqlite3

    for attempt in range(_OPEN_ATTEMPTS):
        try:
            con = sqlite3.connect(path, timeout=5)
            try:
                # No fsync for this one header write: if it were lost, the store would merely
                # start in the default journal mode.
                con.execute("PRAGMA synchronous=OFF")
                con.execute("PRAGMA journal_mode=WAL")
                return
            finally:
                con.close()
        except sqlite3.OperationalError:
            _backoff(attempt)  # another process holds a lock while it creates the schema


class Connection:
    """An open ML Metadata store whose calls retry: SQLite writers queue on the advisory lock, and a
    MySQL/MariaDB handle whose server went away is replaced by a new one.

    Not thread-safe: use one per thread or process.
    """

    def __init__(self, config: Any):
        self.config = config
        self._store: Any = open_store(config)
        lock_path = _sqlite_lock_path(config)
        self._write_lock = _FileLock(lock_path) if lock_path else None

    @property
    def store(self) -> Any:
        """ML Metadata's MetadataStore (reopened if the server went away earlier)."""
        if self._store is None:
            try:
                self._store = open_store(self.config)
            except MetadataError as e:
                raise MetadataError(f"The ML Metadata store {self.describe()} is still unreachable: {e}") from e
        return self._store

    def describe(self) -> str:
        """Where the store is."""
        return describe(self.config)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Calls a store method, retrying transient failures: SQLite locked/busy, and a MySQL server
        that went away (reconnecting for up to HEADRACE_METADATA_OUTAGE_S seconds).

        Pass the method of `self.store` (`md.call(md.store.put_execution, ...)`): after a reconnect
        the same method of the new handle is called.

        Raises:
            MetadataError: the call failed for good; the message names the store.
        """
        name = getattr(fn, "__name__", str(fn))
        if self._write_lock is not None and name.startswith(_WRITE_PREFIXES):
            with self._write_lock.held():
                return self._call(fn, name, *args, **kwargs)
        return self._call(fn, name, *args, **kwargs)

    def _call(self, fn: Callable[..., T], name: str, *args: Any, **kwargs: Any) -> T:
        from ml_metadata import errors as mlmd_errors

        on_store = getattr(fn, "__self__", None) is self._store
        deadline: float | None = None
        attempt = 0
        while True:
            try:
                target = getattr(self.store, name) if on_store else fn
                return target(*args, **kwargs)
            except mlmd_errors.StatusError as e:
                if self.config.WhichOneof("config") == "mysql" and _is_transient(e, _CONNECTION_MARKERS):
                    deadline = deadline if deadline is not None else time.monotonic() + _outage_s()
                    self._reconnect(name, e, deadline)
                    continue
                attempt += 1
                if attempt >= _CALL_ATTEMPTS or not (
                    _is_transient(e) or isinstance(e, (mlmd_errors.AbortedError, mlmd_errors.UnavailableError))
                ):
                    raise MetadataError(f"ML Metadata call {name} failed on the store {self.describe()}: {e}") from e
                _backoff(attempt)

    def _reconnect(self, name: str, err: Exception, deadline: float) -> None:
        """Replaces a handle whose server went away by a new one, waiting until `deadline`."""
        from ml_metadata.metadata_store import metadata_store

        self._store = None  # never call the broken handle again (see _CONNECTION_MARKERS)
        last: Exception = err
        attempt = 0
        while time.monotonic() < deadline:
            try:
                self._store = metadata_store.MetadataStore(self.config)
                return
            except Exception as e:  # noqa: BLE001 - RuntimeError or StatusError while the server is down
                last = e
                attempt += 1
                time.sleep(min(0.25 * attempt, 1.0, max(0.0, deadline - time.monotonic())))
        raise MetadataError(
            f"The ML Metadata store {self.describe()} is unreachable: the connection was lost during {name} "
            f"and no reconnect succeeded within {_outage_s():g} s (HEADRACE_METADATA_OUTAGE_S) ({last}). Is the "
            "MySQL/MariaDB server running? Once it is back, resume the run (headrace run --resume RUN_ID)."
        ) from err
