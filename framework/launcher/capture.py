"""What a step prints goes to its log; the terminal keeps headrace's own lines.

Libraries print in every way there is: `print` and `sys.stdout.write`, `warnings` and `logging`
handlers that hold a reference to the `sys.stderr` of the day, and native code (TensorFlow's C++
logging, Beam's workers, child processes) writing to file descriptors 1 and 2 directly. So the capture
works on the descriptors:

- In a worker process (one step at a time) fds 1 and 2 point at the step's log file while the step
  runs: everything the process and its children print lands there, in order.
- In process (steps on threads of the runner) there is one fd 1 and one fd 2 for all threads, and a
  byte written to them does not say which step wrote it. What goes through `sys.stdout`/`sys.stderr`
  from a step's thread is routed to that step's log; what does not (native code, other threads, child
  processes) goes to one log for the run, `<pipeline_root>/.system/logs/<run id>.native.log`, and a
  step's log names that file when it grew while the step ran. Nothing is attributed to a step that
  cannot be attributed to it. headrace's own lines reach the terminal through a saved descriptor
  (`write_terminal`).

With HEADRACE_VERBOSE=1 what is captured is also copied to the terminal (fd 1 to fd 1, fd 2 to fd 2).
"""

from __future__ import annotations

import contextlib
import io
import os
import select
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO

VERBOSE_ENV = "HEADRACE_VERBOSE"


def verbose() -> bool:
    """Whether what steps print is also shown on the terminal (HEADRACE_VERBOSE=1)."""
    return os.environ.get(VERBOSE_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def _flush_python_streams() -> None:
    for stream in {sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__}:
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()


def _open_log(path: str) -> int:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)


class _Redirect:
    """fds 1 and 2 into a log file, until `stop`. Verbose: through two pipes, copied by a thread to the
    log (created on the first byte) and to the saved terminal descriptors."""

    def __init__(self, path: str, tee: bool):
        self.path = path
        _flush_python_streams()
        self.saved = (os.dup(1), os.dup(2))
        self.thread: threading.Thread | None = None
        if not tee:
            fd = _open_log(path)
            self.size_before = os.fstat(fd).st_size
            for target in (1, 2):
                os.dup2(fd, target)
            os.close(fd)
            return
        self.size_before = os.path.getsize(path) if os.path.exists(path) else 0
        pipes = [os.pipe(), os.pipe()]
        for target, (_, w) in zip((1, 2), pipes, strict=True):
            os.dup2(w, target)
            os.close(w)
        self.thread = threading.Thread(
            target=self._copy, args=({r: self.saved[i] for i, (r, _) in enumerate(pipes)},), daemon=True
        )
        self.thread.start()

    def _copy(self, terminal: dict[int, int]) -> None:
        log = None
        open_fds = list(terminal)
        try:
            while open_fds:
                ready, _, _ = select.select(open_fds, [], [])
                for r in ready:
                    data = os.read(r, 65536)
                    if not data:
                        open_fds.remove(r)
                        os.close(r)
                        continue
                    if log is None:
                        log = _open_log(self.path)
                    os.write(log, data)
                    with contextlib.suppress(OSError):
                        os.write(terminal[r], data)
        finally:
            if log is not None:
                os.close(log)

    def stop(self) -> None:
        """Puts fds 1 and 2 back. A child process that still holds the pipes keeps its output going to the
        log (the copying thread ends when the last holder closes them)."""
        _flush_python_streams()
        for target, saved in zip((1, 2), self.saved, strict=True):
            os.dup2(saved, target)
        if self.thread is not None:
            self.thread.join(timeout=2.0)
        for saved in self.saved:
            os.close(saved)

    def grew(self) -> bool:
        """Whether anything was written to the log since the redirect started."""
        return os.path.exists(self.path) and os.path.getsize(self.path) > self.size_before


def append_to_log(path: str, text: str) -> None:
    """Appends `text` to the log at `path` (creating it and its folder)."""
    fd = _open_log(path)
    try:
        os.write(fd, text.encode("utf-8", errors="replace"))
    finally:
        os.close(fd)


def _drop_if_empty(path: str) -> str:
    """The log's path if it has content; an empty one is removed (a quiet step leaves no file)."""
    try:
        if os.path.getsize(path) > 0:
            return path
        os.remove(path)
    except OSError:
        pass
    # The folder stays: removing it when empty races with another process (or a run on another thread)
    # that has just made it for its own log under the same root.
    return ""


@contextlib.contextmanager
def capture_process(log_path: str) -> Iterator[list[str]]:
    """For a process that runs one step at a time (a worker): fds 1 and 2 go to `log_path` while the
    block runs. Yields a list that holds, after the block, the log's path if anything was written."""
    found: list[str] = []
    redirect = _Redirect(log_path, tee=verbose())
    try:
        yield found
    finally:
        redirect.stop()
        found.append(_drop_if_empty(log_path) if os.path.exists(log_path) else "")


# -- steps on threads ------------------------------------------------------------------------------
class _LazyLog:
    """A step's log file, created on the first write (a step that prints nothing costs nothing)."""

    def __init__(self, path: str):
        self.path = path
        self.file: TextIO | None = None
        self.lock = threading.Lock()

    def write(self, text: str) -> None:
        with self.lock:
            if self.file is None:
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
                self.file = open(self.path, "a", encoding="utf-8")  # closed in close()
            self.file.write(text)

    def flush(self) -> None:
        with self.lock:
            if self.file is not None:
                self.file.flush()

    def close(self) -> str:
        """Closes the file; returns its path if anything was written."""
        with self.lock:
            if self.file is None:
                return ""
            self.file.close()
            return self.path


_local = threading.local()  # .log: the _LazyLog of the step this thread runs


class _Router(io.TextIOBase):
    """Stands in for sys.stdout or sys.stderr while steps run on threads: a step's thread writes to its
    step's log (and, verbose, to the stream it replaced); any other thread writes to that stream."""

    def __init__(self, replaced: TextIO, tee: bool):
        self.replaced = replaced
        self.tee = tee

    def write(self, text: str) -> int:
        log: _LazyLog | None = getattr(_local, "log", None)
        if log is None:
            self.replaced.write(text)
            return len(text)
        log.write(text)
        if self.tee:  # straight to the terminal: through fd 1/2 it would land in the native log too
            write_terminal(self.replaced, text)
        return len(text)

    def flush(self) -> None:
        log: _LazyLog | None = getattr(_local, "log", None)
        if log is not None:
            log.flush()
        self.replaced.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.replaced.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.replaced, "encoding", "utf-8")


class _InProcess:
    """The process-wide state while at least one step runs on a thread: the routers on sys.stdout and
    sys.stderr and fds 1 and 2 in the run's native log. The first step to start sets it up, the last
    to end takes it down."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.steps = 0
        self.redirect: _Redirect | None = None
        self.routers: tuple[_Router, _Router] | None = None

    def enter(self, native_log: str) -> _Redirect:
        with self.lock:
            if self.steps == 0:
                tee = verbose()
                self.redirect = _Redirect(native_log, tee=tee)
                self.routers = (_Router(sys.stdout, tee), _Router(sys.stderr, tee))
                sys.stdout, sys.stderr = self.routers
            self.steps += 1
            assert self.redirect is not None
            return self.redirect

    def leave(self) -> None:
        with self.lock:
            self.steps -= 1
            if self.steps:
                return
            assert self.redirect is not None and self.routers is not None
            out, err = self.routers
            if sys.stdout is out:
                sys.stdout = out.replaced
            if sys.stderr is err:
                sys.stderr = err.replaced
            self.redirect.stop()
            _drop_if_empty(self.redirect.path)
            self.redirect, self.routers = None, None

    def terminal_fd(self, fd: int) -> int | None:
        """The saved descriptor that is the terminal's fd 1 or 2 while they are redirected."""
        redirect = self.redirect
        return redirect.saved[fd - 1] if redirect is not None and fd in (1, 2) else None


_IN_PROCESS = _InProcess()


def native_log_path(pipeline_root: str, run_id: str) -> str:
    """The run's log of what in-process steps wrote that no step can be told from."""
    return os.path.join(pipeline_root, ".system", "logs", f"{run_id}.native.log")


@contextlib.contextmanager
def capture_thread(log_path: str, native_log: str) -> Iterator[_LazyLog]:
    """For a step on a thread of a process that may run several: see the module docstring. Yields the
    step's log; after the block, `.close()` says whether it has content."""
    log = _LazyLog(log_path)
    redirect = _IN_PROCESS.enter(native_log)
    size_before = os.path.getsize(native_log) if os.path.exists(native_log) else 0
    _local.log = log
    try:
        yield log
    finally:
        _local.log = None
        _flush_python_streams()
        grown = os.path.exists(redirect.path) and os.path.getsize(redirect.path) > size_before
        if grown:
            log.write(
                f"(native output written while this step ran on a thread of the runner, which cannot be told "
                f"apart by step, is in {redirect.path})\n"
            )
        _IN_PROCESS.leave()


def write_terminal(stream: Any, text: str) -> None:
    """Writes headrace's own `text` meant for `stream` where a person sees it: to the terminal's saved
    descriptor when `stream` writes to fd 1 or 2 and steps on threads have those redirected (the
    lock keeps the last step from closing it meanwhile); otherwise to `stream` itself."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        fd = None
    with _IN_PROCESS.lock:
        saved = _IN_PROCESS.terminal_fd(fd) if fd is not None else None
        if saved is None:
            stream.write(text)
            stream.flush()
            return
        stream.flush()
        data = text.encode(getattr(stream, "encoding", None) or "utf-8", errors="replace")
        while data:
            data = data[os.write(saved, data) :]
