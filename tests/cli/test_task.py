"""`headrace task run` / `headrace task finish`: one node of a compiled IR per process, as each task of the
Airflow DAG file runs it (without Airflow here): the run starts with the first task, a failed node exits 1
with its error, a later try runs a new attempt, the final task records the run's state, and what a step
prints reaches the command's output (the scheduler's task log)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from headrace.compiler import compile_pipeline
from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config

PIPELINE = """
import os
from headrace import OutputDict, Pipeline, component

@component
def Make() -> OutputDict(n=int):
    print('making rows')
    return {'n': 3}

@component
def Check(n: int) -> OutputDict(ok=int):
    if os.path.exists(os.environ['FAIL_FLAG']):
        raise RuntimeError('Check was told to fail')
    return {'ok': n}

def create_pipeline(root):
    make = Make()
    return Pipeline('task_cli', root, [make, Check(n=make.outputs['n'])], enable_cache=False)
"""


def _task(*args: str, flag: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "FAIL_FLAG": str(flag), **env}
    full.pop("HEADRACE_VERBOSE", None)
    return subprocess.run(
        [sys.executable, "-m", "headrace", "task", *args], env=full, capture_output=True, text=True, timeout=120
    )


def test_nodes_run_one_per_process_a_retry_is_a_new_attempt_and_finish_records_the_state(write_module, tmp_path):
    ir = compile_pipeline(write_module(PIPELINE, "task_cli_pipeline").create_pipeline(str(tmp_path / "root")))
    ir_file = tmp_path / "task_cli.ir.json"
    ir_file.write_text(ir.dump())
    flag = tmp_path / "fail"
    flag.write_text("")
    labels = json.dumps({"scheduler_run": "r/1"})

    made = _task("run", str(ir_file), "Make", "--run-id", "r/1", "--labels", labels, flag=flag)
    assert made.returncode == 0, made.stderr
    assert "making rows" in made.stdout + made.stderr  # the step's output, copied to the task's log
    assert "headrace: node 'Make' of run 'r_1': COMPLETE" in made.stdout

    failed = _task("run", str(ir_file), "Check", flag=flag, HEADRACE_RUN_ID="r/1")  # options from the environment
    assert failed.returncode == 1
    assert "Error: node 'Check' failed: RuntimeError: Check was told to fail" in failed.stderr
    finish = _task("finish", str(ir_file), "--run-id", "r/1", flag=flag)
    assert finish.returncode == 1 and "run 'r_1' FAILED (Make: COMPLETE, Check: FAILED)" in finish.stdout

    flag.unlink()
    retried = _task("run", str(ir_file), "Check", "--run-id", "r/1", "--try-number", "2", flag=flag)
    assert retried.returncode == 0, retried.stderr
    again = _task("run", str(ir_file), "Check", "--run-id", "r/1", "--try-number", "3", flag=flag)
    assert again.returncode == 0 and "REUSED" in again.stdout  # a try after success reuses it
    finish = _task("finish", str(ir_file), "--run-id", "r/1", flag=flag)
    assert finish.returncode == 0 and "run 'r_1' COMPLETE" in finish.stdout, finish.stdout + finish.stderr

    reader = MetadataReader(Metadata(sqlite_metadata_connection_config(str(tmp_path / "root" / "metadata.sqlite"))))
    assert reader.run("r_1").state == "COMPLETE"
    assert [(e.node_id, e.state) for e in reader.executions("r_1")] == [
        ("Make", "COMPLETE"),
        ("Check", "FAILED"),
        ("Check", "COMPLETE"),
    ]
    props = reader.md.get_context("pipeline_run", "r_1").custom_properties
    assert props["scheduler_run"].string_value == "r/1"
    assert reader.run("r_1").started_by == "a scheduler's tasks (headrace task)"  # why it ran


def test_mistakes_are_messages_not_tracebacks(write_module, tmp_path):
    ir = compile_pipeline(write_module(PIPELINE, "task_cli_pipeline").create_pipeline(str(tmp_path / "root")))
    ir_file = tmp_path / "task_cli.ir.json"
    ir_file.write_text(ir.dump())
    flag = tmp_path / "fail"
    cases = [
        (("run", str(ir_file), "Mke", "--run-id", "r"), "has no node 'Mke'"),
        (("run", str(tmp_path / "none.json"), "Make", "--run-id", "r"), "IR file not found"),
        (("run", str(ir_file), "Make", "--run-id", "r", "--params", "[1]"), "--params must be a JSON object"),
        (("run", str(ir_file), "Make"), "Missing option '--run-id'"),
    ]
    for args, message in cases:
        done = _task(*args, flag=flag)
        assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
