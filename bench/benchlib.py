"""What the benchmarks share: fresh child processes, medians, figures against budgets, tables.

Every measurement runs in a fresh Python process: a driver (the benchmark script run
normally) starts `sys.executable <script> --child ...` a few times; the child measures
and prints one JSON line; the driver reports the median. Nothing here imports headrace.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

MARKER = "BENCH_RESULT "
BENCH_DIR = os.path.dirname(os.path.abspath(__file__))


def emit(data: dict[str, Any]) -> None:
    """Child side: hands the measurements back to the driver (one marked JSON line)."""
    sys.stdout.write(MARKER + json.dumps(data) + "\n")
    sys.stdout.flush()


# The environment of every child (None: this process's). See warm_pycache().
CHILD_ENV: dict[str, str] | None = None


def run_child(
    script: str, args: Sequence[str], timeout: float = 120, extra_env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Driver side: runs `script --child args...` in a fresh interpreter; returns what it emitted."""
    return _run([sys.executable, os.path.join(BENCH_DIR, script), "--child", *args], timeout, extra_env)


def run_code(code: str, timeout: float = 120) -> dict[str, Any]:
    """Driver side: runs `python -c code` (in the bench directory) in a fresh interpreter, for a
    measurement that must come before any other import; the code prints MARKER + JSON itself."""
    return _run([sys.executable, "-c", code], timeout)


def _run(cmd: list[str], timeout: float, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    env = CHILD_ENV
    if extra_env:
        env = {**(os.environ if env is None else env), **extra_env}
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, cwd=BENCH_DIR, env=env
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"benchmark child failed ({' '.join(cmd)}), exit code {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )
    return json.loads(lines[-1][len(MARKER) :])


def _tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants now."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            pass
    return total


def run_child_sampled(script: str, args: Sequence[str], timeout: float = 1800) -> tuple[float, float, dict[str, Any]]:
    """Driver side: runs `script --child args...` in a fresh interpreter, sampling the resident
    memory of its whole process tree every 50 ms. Returns (wall seconds, peak GB, what it emitted).
    Its output goes to files, so a chatty child cannot fill a pipe and stall."""
    import time

    cmd = [sys.executable, os.path.join(BENCH_DIR, script), "--child", *args]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, text=True, env=CHILD_ENV)
        peak = 0
        while proc.poll() is None:
            if time.perf_counter() - started > timeout:
                proc.kill()
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    lines = [line for line in stdout.splitlines() if line.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{script} child failed ({proc.returncode}):\n{stdout[-3000:]}\n{stderr[-3000:]}")
    return wall, peak / 1e9, json.loads(lines[-1][len(MARKER) :])


def dask_cluster() -> str:
    """The address of the checkout's Dask cluster (a scheduler and two worker processes), started
    afresh by `scripts/services.sh dask` (HEADRACE_DASK_PORT picks the port, 8786 by default): the
    figures include the workers' first imports, as a fresh process's include its own."""
    script = os.path.join(os.path.dirname(BENCH_DIR), "scripts", "services.sh")
    proc = subprocess.run(["bash", script, "dask_stop", "dask"], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/services.sh dask failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return f"tcp://127.0.0.1:{os.environ.get('HEADRACE_DASK_PORT', '8786')}"


def run_children(script: str, args: Sequence[str], repeats: int) -> list[dict[str, Any]]:
    """`repeats` fresh children, one after the other (never concurrently: the machine has 2 cores)."""
    return [run_child(script, args) for _ in range(repeats)]


def bytecode_note() -> str:
    """Whether the children find compiled bytecode (.pyc), which moves import and start-up figures a lot."""
    env = os.environ if CHILD_ENV is None else CHILD_ENV
    prefix = env.get("PYTHONPYCACHEPREFIX")
    if prefix:
        return f"bytecode cache: warm, in {prefix} (--warm-pycache)"
    init = os.path.join(os.path.dirname(BENCH_DIR), "framework", "__init__.py")
    has_pyc = os.path.exists(importlib.util.cache_from_source(init))
    if env.get("PYTHONDONTWRITEBYTECODE") and not has_pyc:
        return (
            "bytecode cache: NONE (PYTHONDONTWRITEBYTECODE is set and headrace has no __pycache__): every fresh "
            "process compiles headrace and ml_metadata from source; run_all.py --warm-pycache measures with .pyc"
        )
    return f"bytecode cache: as this environment has it (headrace .pyc {'present' if has_pyc else 'absent'})"


def warm_pycache() -> str:
    """Makes the children use (and first fill) a bytecode cache outside the source tree, as an
    installed Python normally has one. Returns the cache directory."""
    global CHILD_ENV
    prefix = os.path.join(tempfile.gettempdir(), "headrace-bench-pycache")
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = prefix
    CHILD_ENV = env
    warm = (
        "import headrace, headrace.orchestrators, headrace.launcher.worker, headrace.compiler, bench_components\n"
        "import ml_metadata.metadata_store.metadata_store\n"
        f"print({MARKER!r} + '{{}}')"
    )
    run_code(warm)
    return prefix


def filesystem(path: str) -> str:
    """'<mount point> (<fs type>)' of the filesystem holding `path` (Linux; '?' elsewhere)."""
    path = os.path.realpath(path)
    best, kind = "", "?"
    try:
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                mount = parts[1]
                inside = path == mount or path.startswith(mount.rstrip("/") + "/")
                if len(parts) > 2 and inside and len(mount) >= len(best):
                    best, kind = mount, parts[2]
    except OSError:
        return "?"
    return f"{best} ({kind})"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float], scale: float = 1.0, fmt: str = "{:.1f}") -> str:
    """'min-max' of the values times `scale`, for showing the noise next to a median."""
    return f"{fmt.format(min(values) * scale)}-{fmt.format(max(values) * scale)}"


@dataclasses.dataclass
class Figure:
    """One reported number. `budget` None: for information only. `counted` False: shown against
    the budget for reference, but not the figure the budget is about (no loud OVER for it)."""

    name: str
    value: float
    unit: str
    budget: float | None = None
    counted: bool = True
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.budget is None:
            return "-"
        v = "PASS" if self.value <= self.budget else "OVER"
        return v if self.counted else f"({v})"

    @property
    def over(self) -> bool:
        return self.counted and self.budget is not None and self.value > self.budget

    def value_text(self) -> str:
        if isinstance(self.value, int):
            return f"{self.value} {self.unit}"
        return f"{self.value:.3f} {self.unit}" if self.unit == "s" else f"{self.value:.2f} {self.unit}"

    def budget_text(self) -> str:
        if self.budget is None:
            return "-"
        return f"<= {self.budget:g} {self.unit}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = ()) -> str:
    """A plain text table; columns listed in `right` are right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: Sequence[str]) -> str:
        padded = (c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        return "  ".join(padded).rstrip()

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def figures_table(figures: Sequence[Figure]) -> str:
    rows = [(f.name, f.value_text(), f.budget_text(), f.verdict, f.note) for f in figures]
    return table(("figure", "value", "budget", "verdict", "note"), rows, right=(1,))


def over_banner(figures: Sequence[Figure]) -> str:
    """A loud block listing the figures over budget ('' if none)."""
    over = [f for f in figures if f.over]
    if not over:
        return ""
    bar = "!" * 100
    lines = [bar, f"!!! OVER BUDGET: {len(over)} figure(s)"]
    lines += [f"!!!   {f.name}: {f.value_text()} > {f.budget:g} {f.unit}" for f in over]
    lines.append(bar)
    return "\n".join(lines)


def is_child(argv: Sequence[str]) -> bool:
    return len(argv) > 1 and argv[1] == "--child"
