"""Executor worker processes: user code runs outside the runner, and a worker is reused.

A worker is a child Python process that runs tasks one at a time. Heavy imports
(TensorFlow, TFDV) are paid once per worker, not once per step; a crash (segfault,
os._exit, kill -9) takes down only the worker, which is then replaced.

Protocol: length-prefixed pickles over two pipes (not stdout, which user code prints to).
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from typing import Any

from headrace.launcher.task import ExecutionTask, ExecutorResult

_HEADER = struct.Struct("!Q")


def _write(fd: int, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read(fd: int) -> Any:
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    data = _read_exact(fd, size)
    if data is None:
        raise EOFError
    return pickle.loads(data)


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class WorkerDiedError(Exception):
    """The worker process ended while running a task."""


# Modules that start native threads: a process that imported one is never forked.
_FORK_UNSAFE = ("tensorflow", "torch", "jax", "apache_beam", "pyarrow", "tensorflow_data_validation")


def _can_fork() -> bool:
    """Forking is safe (and ready in ~2 ms instead of a ~40 ms interpreter boot) only from a
    single-threaded process on Linux that has loaded nothing that runs native threads.
    HEADRACE_WORKER_START=spawn never forks; =fork forks anyway (a notebook kernel has threads:
    the child only serves tasks, but a lock another thread held at the fork stays held)."""
    start = os.environ.get("HEADRACE_WORKER_START", "auto")
    if not sys.platform.startswith("linux") or start == "spawn":
        return False
    return start == "fork" or (threading.active_count() == 1 and not any(m in sys.modules for m in _FORK_UNSAFE))


class _ForkedProcess:
    """The part of Popen's interface the pool uses, for a forked child."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Worker:
    """One executor process, seen from the runner: forked when that is safe, else a fresh
    interpreter (`python -m headrace.launcher.worker`)."""

    def __init__(self) -> None:
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        self.forked = _can_fork()
        self.proc: subprocess.Popen[bytes] | _ForkedProcess
        if self.forked:
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:  # the child: serve tasks, never return into the runner's code
                code = 0
                try:
                    os.close(task_w)
                    os.close(result_r)
                    # Print to the real descriptors, not to a stream object the runner swapped in.
                    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
                    _prepare_child()
                    serve(task_r, result_w)
                except BaseException:  # noqa: BLE001 - report nothing; the runner sees EOF
                    code = 1
                finally:
                    os._exit(code)
            self.proc = _ForkedProcess(pid)
        else:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "headrace.launcher.worker", str(task_r), str(result_w)],
                pass_fds=(task_r, result_w),
                stdin=subprocess.DEVNULL,
            )
        os.close(task_r)
        os.close(result_w)
        self._task_w, self._result_r = task_w, result_r
        self.used = False
        self.modules: set[str] = set()  # executor modules this worker has imported
        if not self.forked:
            _write(self._task_w, list(sys.path))  # the worker imports what the runner can

    def run(self, task: ExecutionTask) -> ExecutorResult:
        """Runs a task; raises WorkerDiedError if the process ends first."""
        try:
            self.send(task)
            return self.receive()
        except OSError:
            raise WorkerDiedError(self.death()) from None

    def send(self, task: ExecutionTask) -> None:
        """Hands the worker a task (raises OSError if it is gone)."""
        self.used = True
        _write(self._task_w, task)

    def receive(self) -> ExecutorResult:
        """The result of the task sent last; raises WorkerDiedError if the process ended first."""
        try:
            result: ExecutorResult = _read(self._result_r)
            return result
        except (EOFError, OSError):
            raise WorkerDiedError(self.death()) from None

    @property
    def result_fd(self) -> int:
        """Readable when the result of the current task is ready (or the worker died)."""
        return self._result_r

    def death(self) -> str:
        """How the worker ended, waiting for it if needed."""
        code = self.proc.wait()
        how = f"was killed by signal {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
        return f"The executor process (pid {self.proc.pid}) {how} while running the step."

    def close(self) -> None:
        """Asks the worker to exit and waits for it."""
        try:
            _write(self._task_w, None)
        except OSError:
            pass
        for fd in (self._task_w, self._result_r):
            try:
                os.close(fd)
            except OSError:
                pass
        if not self.used:
            self.proc.kill()  # it may still be booting; nothing of it is worth waiting for
        # Reaped later, without waiting (nor a thread: a single-threaded runner can keep forking).
        _EXITING.append(self.proc)
        _reap()


_EXITING: list[Any] = []


def _reap() -> None:
    """Collects the workers that have exited since they were closed."""
    _EXITING[:] = [p for p in _EXITING if p.poll() is None]


class WorkerPool:
    """Up to `size` reusable workers, started on demand."""

    def __init__(self, size: int):
        self.size = size
        self._idle: list[Worker] = []
        self._all: list[Worker] = []
        self._lock = threading.Lock()
        self._busy: dict[int, tuple[Worker, Any]] = {}  # result fd -> (worker, key), for submit/wait
        self._deadlines: dict[int, tuple[float, float]] = {}  # result fd -> (monotonic deadline, timeout)
        self._finished: list[tuple[Any, ExecutorResult]] = []
        _reap()

    def prestart(self, count: int) -> None:
        """Starts up to `count` workers now, so they boot while the first steps are prepared."""
        with self._lock:
            while len(self._all) < min(count, self.size):
                worker = Worker()
                self._all.append(worker)
                self._idle.append(worker)

    def _take_idle(self, module: str) -> Worker | None:
        """An idle worker, preferring one that already ran this executor's module: its heavy
        imports (TensorFlow, TFDV) are then paid once per run, not once per worker."""
        for i, worker in enumerate(self._idle):
            if module in worker.modules:
                return self._idle.pop(i)
        return self._idle.pop() if self._idle else None

    def _acquire(self, task: ExecutionTask) -> Worker:
        module = str(task.executor.get("worker_group") or task.executor.get("module", ""))
        with self._lock:
            worker = self._take_idle(module)
            if worker is None:
                worker = Worker()
                self._all.append(worker)
        worker.modules.add(module)
        return worker

    def _release(self, worker: Worker, error: WorkerDiedError | None) -> ExecutorResult | None:
        """Puts a worker back, or drops a dead one and says so as a failed result."""
        with self._lock:
            if error is None:
                self._idle.append(worker)
                return None
            self._all.remove(worker)
        return ExecutorResult(ok=False, error_type="ExecutorProcessDied", message=str(error))

    def run(self, task: ExecutionTask) -> ExecutorResult:
        """Runs a task on an idle worker (starting one if needed), blocking; a dead worker is
        replaced. Safe to call from several threads."""
        worker = self._acquire(task)
        try:
            result = worker.run(task)
        except WorkerDiedError as e:
            return self._release(worker, e) or ExecutorResult(ok=False)
        self._release(worker, None)
        return result

    def submit(self, key: Any, task: ExecutionTask) -> None:
        """Hands a task to a worker without waiting; `wait` returns its result under `key`.
        For a single-threaded scheduler: no thread sits between the runner and its workers."""
        worker = self._acquire(task)
        try:
            worker.send(task)
        except OSError:
            self._finished.append(
                (key, self._release(worker, WorkerDiedError(worker.death())) or ExecutorResult(False))
            )
            return
        self._busy[worker.result_fd] = (worker, key)
        if task.timeout_seconds and not task.executor.get("image"):  # a container stops itself (run_container)
            self._deadlines[worker.result_fd] = (time.monotonic() + task.timeout_seconds, task.timeout_seconds)

    def wait(self, timeout: float | None = None) -> list[tuple[Any, ExecutorResult]]:
        """Blocks until a submitted task finishes (or `timeout` seconds pass); returns every finished
        (key, result). A task past its own timeout is stopped (its worker killed) and fails."""
        if not self._finished and self._busy:
            now = time.monotonic()
            waits = [d - now for d, _ in self._deadlines.values()] + ([timeout] if timeout is not None else [])
            ready, _, _ = select.select(list(self._busy), [], [], max(0.0, min(waits)) if waits else None)
            self._stop_overdue(set(ready))
            for fd in ready:
                self._deadlines.pop(fd, None)
                worker, key = self._busy.pop(fd)
                try:
                    result = worker.receive()
                except WorkerDiedError as e:
                    result = self._release(worker, e) or ExecutorResult(ok=False)
                else:
                    self._release(worker, None)
                self._finished.append((key, result))
        finished, self._finished = self._finished, []
        return finished

    def _stop_overdue(self, ready: set[int]) -> None:
        """Kills the workers whose task ran past its timeout; their tasks fail, saying so."""
        now = time.monotonic()
        for fd, (deadline, seconds) in list(self._deadlines.items()):
            if fd in ready or deadline > now:
                continue
            del self._deadlines[fd]
            worker, key = self._busy.pop(fd)
            worker.proc.kill()
            self._release(worker, WorkerDiedError(worker.death()))
            worker.close()
            self._finished.append((key, timed_out(seconds)))

    def kill(self) -> None:
        """Kills every worker at once (the run was interrupted)."""
        with self._lock:
            workers = list(self._all)
        for w in workers:
            w.proc.kill()

    def close(self) -> None:
        """Stops every worker."""
        with self._lock:
            workers, self._all, self._idle = self._all, [], []
        for w in workers:
            w.close()


def timed_out(seconds: float) -> ExecutorResult:
    """The result of a step stopped at its timeout."""
    return ExecutorResult(
        ok=False,
        error_type="StepTimeout",
        message=f"The step ran longer than its timeout ({seconds:g} s, set with with_timeout) and was stopped.",
        expected=True,
    )


def run_in_time(task: ExecutionTask) -> ExecutorResult:
    """Runs a task here, or, when it has a timeout, in a worker process of its own that is killed at the
    timeout (a thread cannot be stopped). What a launcher without a worker pool runs tasks with."""
    from headrace.launcher.executor_runner import run_task

    if not task.timeout_seconds or task.executor.get("image"):
        return run_task(task)
    pool = WorkerPool(1)
    try:
        pool.submit(task.node_id, task)
        finished: list[tuple[Any, ExecutorResult]] = []
        while not finished:
            finished = pool.wait()
        return finished[0][1]
    finally:
        pool.close()


def serve(task_fd: int, result_fd: int) -> None:
    """The worker's loop: read a task, run it, write the result, until told to stop."""
    from headrace.launcher.executor_runner import run_task

    while True:
        try:
            task = _read(task_fd)
        except EOFError:
            return
        if task is None:
            return
        result = run_task(task, capture_logs=True)
        sys.stdout.flush()
        sys.stderr.flush()
        _write(result_fd, result)


def _prepare_child() -> None:
    """Linux: the kernel kills this worker if the runner dies (even by SIGKILL), so no orphan
    keeps running user code or holding the runner's output pipes. Interrupts are the runner's."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        except OSError:
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    _prepare_child()
    task_fd, result_fd = int(sys.argv[1]), int(sys.argv[2])
    sys.path[:] = _read(task_fd)
    serve(task_fd, result_fd)
