"""What a step prints goes to its log, and the terminal of `headrace run` shows headrace's lines only:
progress, each step's one-line result and the summary. The step prints in every way libraries do:
print to stdout and stderr, a warning, a logging handler that holds the sys.stderr of the day, writes
to file descriptors 1 and 2 (as C++ code does), and a child process. HEADRACE_VERBOSE=1 shows it on
the terminal too."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

CHATTY = """
import logging, os, subprocess, sys, warnings
from headrace import OutputDict, Pipeline, component

_handler = logging.StreamHandler(sys.stderr)  # as a library's handler does: a reference to stderr
_log = logging.getLogger("chatty.lib")
_log.addHandler(_handler)
_log.propagate = False

@component
def Chatty() -> OutputDict(x=int):
    print("CHAT-1 print to stdout")
    print("CHAT-2 print to stderr", file=sys.stderr)
    warnings.warn("CHAT-3 shuffle=True is ignored", UserWarning)
    _log.warning("CHAT-4 crcmod package not found")
    os.write(1, b"CHAT-5 C level, fd 1\\n")
    os.write(2, b"CHAT-6 C level, fd 2\\n")
    subprocess.run(["echo", "CHAT-7 a child process"], check=True)
    return {"x": 1}

@component
def Quiet(x: int) -> OutputDict(y=int):
    return {"y": x}

chatty = Chatty()
pipeline = Pipeline("chatter", os.environ["ROOT"], [chatty, Quiet(x=chatty.outputs["x"])])
"""
PYTHON_LEVEL = ["CHAT-1", "CHAT-2", "CHAT-3"]  # through the sys.stdout/sys.stderr of the step's thread
FD_LEVEL = ["CHAT-4", "CHAT-5", "CHAT-6", "CHAT-7"]  # the handler's stream object, fds, the child
HEADRACE_LINE = re.compile(
    r"headrace run \S+ · pipeline 'chatter' · 2 nodes · metadata .*"
    r"|  \[\d/2\] (Chatty|Quiet) +(running|done  \d+\.\d\ds)"
    r"|run \S+ COMPLETE in \d+\.\d\ds \(2 done\)"
    r"|  (Chatty|Quiet) +COMPLETE +\d+\.\d\ds  [xy]: \S+"
    r"|outputs under \S+"
    r"|inspect with: .* runs show \S+ --metadata \S+"
)


def _run(tmp_path: Path, *flags: str, verbose: bool = False) -> tuple[str, Path]:
    pipeline = tmp_path / "chatter.py"
    pipeline.write_text(CHATTY)
    root = tmp_path / "root"
    env = {**os.environ, "ROOT": str(root), "HEADRACE_VERBOSE": "1" if verbose else "0"}
    done = subprocess.run(
        [sys.executable, "-m", "headrace.cli.main", "run", *flags, str(pipeline)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr, root


def _chatty_log(root: Path) -> str:
    [log] = (root / "Chatty" / ".system" / "logs").glob("*.log")
    return log.read_text()


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_in_worker_processes_the_terminal_shows_headrace_and_the_step_log_everything(tmp_path, start, monkeypatch):
    monkeypatch.setenv("HEADRACE_WORKER_START", start)
    terminal, root = _run(tmp_path)
    lines = [line for line in terminal.splitlines() if line]
    assert [line for line in lines if not HEADRACE_LINE.fullmatch(line)] == [], terminal
    assert len(lines) == 10, terminal
    log = _chatty_log(root)
    for marker in PYTHON_LEVEL + FD_LEVEL:
        assert marker in log, (marker, log)
    assert list((root / "Quiet").glob(".system/logs/*")) == []  # printed nothing: no file


def test_in_process_the_step_log_keeps_the_step_s_lines_and_names_the_run_s_native_log(tmp_path):
    """Steps on threads share fds 1 and 2: what no step can be told from goes to one log for the run,
    which the step's log names; the terminal still shows headrace's lines only."""
    terminal, root = _run(tmp_path, "--in-process")
    assert [line for line in terminal.splitlines() if line and not HEADRACE_LINE.fullmatch(line)] == [], terminal
    log = _chatty_log(root)
    for marker in PYTHON_LEVEL:
        assert marker in log, (marker, log)
    [native] = (root / ".system" / "logs").glob("*.native.log")
    assert str(native) in log
    native_text = native.read_text()
    for marker in FD_LEVEL:
        assert marker in native_text, (marker, native_text)


@pytest.mark.parametrize("flags", [(), ("--in-process",)], ids=["workers", "in-process"])
def test_verbose_shows_what_steps_print_on_the_terminal_too(tmp_path, flags):
    terminal, root = _run(tmp_path, *flags, verbose=True)
    for marker in PYTHON_LEVEL + FD_LEVEL:
        assert marker in terminal, (marker, terminal)
    assert all(marker in _chatty_log(root) for marker in PYTHON_LEVEL)
    assert re.search(r"run \S+ COMPLETE", terminal)
