"""Runtime parameters, retries, timeouts, resources and exit handlers under LocalDagRunner (worker
processes and in-process) and through `headrace run`: what the store records is the proof."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from headrace import DefinitionError, FinalStatusStr, LocalDagRunner, Parameter, Pipeline, RuntimeParameter, component
from headrace.dsl import OutputArtifact
from headrace.launcher.retries import retry_delay
from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config
from headrace.types.standard_artifacts import String

MODES = ["process", "inprocess"]


@component
def write(out: OutputArtifact[String], epochs: Parameter[int], rate: Parameter[float] = 0.1) -> None:
    out.value = f"{epochs}:{rate}"


@component
def flaky(marker: Parameter[str], fails: Parameter[int], out: OutputArtifact[String]) -> None:
    """Fails its first `fails` attempts (counted in files under `marker`), writing output each time."""
    os.makedirs(marker, exist_ok=True)
    n = len(os.listdir(marker))
    open(os.path.join(marker, f"{n}-{time.time():.3f}"), "w").close()
    out.value = f"attempt {n}"
    if n < fails:
        raise RuntimeError(f"attempt {n} fails")


@component
def sleeper(seconds: Parameter[float], out: OutputArtifact[String]) -> None:
    out.value = "started"
    time.sleep(seconds)


@component
def report(status: Parameter[str], path: Parameter[str]) -> None:
    with open(path, "w") as f:
        f.write(status)


def _store(root: Path) -> Metadata:
    return Metadata(sqlite_metadata_connection_config(str(root / "metadata.sqlite")))


def _executions(root: Path, run_id: str, node: str) -> list:
    return [e for e in MetadataReader(_store(root)).executions(run_id) if e.node_id == node]


# -- runtime parameters ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_runtime_parameters_take_their_values_are_recorded_and_key_the_cache(tmp_path, mode):
    def pipeline() -> Pipeline:
        node = write(epochs=RuntimeParameter("epochs", int, default=3), rate=RuntimeParameter("rate", float))
        return Pipeline("params", str(tmp_path), [node])

    runner = LocalDagRunner(executor_mode=mode, quiet=True)
    with pytest.raises(DefinitionError, match=r"'rate' .* has no default"):
        runner.run(pipeline())
    assert not (tmp_path / "metadata.sqlite").exists() or not MetadataReader(_store(tmp_path)).runs()
    first = runner.run(pipeline(), parameters={"rate": "0.5"})
    assert first.nodes["write"].state == "COMPLETE"
    assert open(first.nodes["write"].outputs["out"][0]).read() == "3:0.5"
    assert MetadataReader(_store(tmp_path)).run(first.run_id).parameters == {"epochs": 3, "rate": 0.5}
    assert runner.run(pipeline(), parameters={"rate": 0.5}).nodes["write"].state == "CACHED"
    third = runner.run(pipeline(), parameters={"rate": 0.5, "epochs": 7})
    assert third.nodes["write"].state == "COMPLETE"  # another value, another cache key
    assert open(third.nodes["write"].outputs["out"][0]).read() == "7:0.5"


@pytest.mark.parametrize(
    "values, message",
    [({"epochs": "many", "rate": 1}, "is an int"), ({"rate": 1, "epoch": 2}, "Did you mean 'epochs'"), ({}, "rate")],
)
def test_a_bad_runtime_value_is_refused_before_anything_runs(tmp_path, values, message):
    node = write(epochs=RuntimeParameter("epochs", int, default=3), rate=RuntimeParameter("rate", float))
    with pytest.raises(DefinitionError, match=message):
        LocalDagRunner(quiet=True).run(Pipeline("params", str(tmp_path), [node]), parameters=values)
    assert not (tmp_path / "write").exists()


def test_headrace_run_takes_params_and_runs_show_prints_them(tmp_path):
    pipeline_file = tmp_path / "p.py"
    pipeline_file.write_text(
        "from headrace import Pipeline, RuntimeParameter\n"
        "from tests.orchestrators.test_run_settings_local import write\n"
        f"pipeline = Pipeline('cli', {str(tmp_path / 'root')!r}, "
        "[write(epochs=RuntimeParameter('epochs', int), rate=RuntimeParameter('rate', float, default=0.25))])\n"
    )
    headrace = [sys.executable, "-m", "headrace"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    missing = subprocess.run([*headrace, "run", str(pipeline_file)], capture_output=True, text=True, env=env)
    assert missing.returncode != 0 and "--param epochs=VALUE" in missing.stderr
    bad = subprocess.run([*headrace, "run", str(pipeline_file), "--param", "epochs"], capture_output=True, text=True)
    assert bad.returncode != 0 and "NAME=VALUE" in bad.stderr
    ok = subprocess.run(
        [*headrace, "run", str(pipeline_file), "-q", "--param", "epochs=12"], capture_output=True, text=True, env=env
    )
    assert ok.returncode == 0, ok.stderr
    run_id = ok.stdout.strip()
    db = str(tmp_path / "root" / "metadata.sqlite")
    shown = subprocess.run([*headrace, "runs", "show", run_id, "--metadata", db], capture_output=True, text=True)
    assert "parameters: epochs=12, rate=0.25" in shown.stdout


# -- retries ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_retries_are_executions_of_their_own_waiting_as_the_policy_says(tmp_path, mode):
    marker = tmp_path / "attempts"
    node = flaky(marker=str(marker), fails=2).with_retry(3, backoff_seconds=0.4, backoff_factor=2)
    result = LocalDagRunner(executor_mode=mode, quiet=True).run(Pipeline("retry", str(tmp_path), [node]))
    assert result.nodes["flaky"].state == "COMPLETE"
    executions = _executions(tmp_path, result.run_id, "flaky")
    assert [e.state for e in executions] == ["FAILED", "FAILED", "COMPLETE"]
    # only the last attempt's output is LIVE; the failed ones' were abandoned
    states = [a.state for e in executions for arts in e.outputs.values() for a in arts]
    assert states == ["ABANDONED", "ABANDONED", "LIVE"]
    starts = sorted(float(name.split("-")[1]) for name in os.listdir(marker))
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps[0] >= retry_delay({"backoff_seconds": 0.4, "backoff_factor": 2}, 1) - 0.05
    assert gaps[1] >= retry_delay({"backoff_seconds": 0.4, "backoff_factor": 2}, 2) - 0.05  # 0.8 s: it grew
    assert gaps[1] < 5


def test_a_node_out_of_retries_fails_and_its_downstream_is_skipped(tmp_path):
    first = flaky(marker=str(tmp_path / "m"), fails=5).with_retry(1)
    after = write(epochs=1).add_upstream_node(first)
    result = LocalDagRunner(quiet=True, raise_on_failure=False).run(Pipeline("retry", str(tmp_path), [after]))
    assert result.nodes["flaky"].state == "FAILED" and result.nodes["write"].state == "SKIPPED"
    assert [e.state for e in _executions(tmp_path, result.run_id, "flaky")] == ["FAILED", "FAILED"]


def test_retry_delays_grow_by_the_factor_up_to_the_maximum():
    policy = {"backoff_seconds": 2.0, "backoff_factor": 3.0, "max_backoff_seconds": 10.0}
    assert [retry_delay(policy, n) for n in (1, 2, 3)] == [2.0, 6.0, 10.0]


# -- timeouts ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_a_step_past_its_timeout_is_stopped_and_fails(tmp_path, mode):
    slow = sleeper(seconds=60.0).with_timeout(1.5)
    quick = write(epochs=1)
    started = time.monotonic()
    result = LocalDagRunner(executor_mode=mode, quiet=True, raise_on_failure=False).run(
        Pipeline("timeout", str(tmp_path), [slow, quick])
    )
    assert time.monotonic() - started < 30
    outcome = result.nodes["sleeper"]
    assert outcome.state == "FAILED" and outcome.error.error_type == "StepTimeout"
    assert "1.5 s" in outcome.error.message and "with_timeout" in outcome.error.message
    assert result.nodes["write"].state == "COMPLETE"  # the other node was not disturbed
    [execution] = _executions(tmp_path, result.run_id, "sleeper")
    assert execution.state == "FAILED"
    assert [a.state for arts in execution.outputs.values() for a in arts] == ["ABANDONED"]


def test_a_retried_timeout_retries(tmp_path):
    slow = sleeper(seconds=60.0).with_timeout(0.5).with_retry(1)
    result = LocalDagRunner(quiet=True, raise_on_failure=False).run(Pipeline("timeout", str(tmp_path), [slow]))
    assert [e.state for e in _executions(tmp_path, result.run_id, "sleeper")] == ["FAILED", "FAILED"]


# -- resources --------------------------------------------------------------------------------------------
def test_resources_and_timeout_are_recorded_on_the_execution(tmp_path):
    node = write(epochs=1).with_resources(cpu="500m", memory="1Gi").with_timeout(600)
    result = LocalDagRunner(quiet=True).run(Pipeline("res", str(tmp_path), [node]))
    [execution] = _executions(tmp_path, result.run_id, "write")
    assert json.loads(execution.properties["resources"]) == {"cpu": "500m", "memory": "1Gi"}
    assert execution.properties["timeout_seconds"] == 600


# -- exit handlers ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fails", [False, True])
def test_the_exit_handler_runs_last_whatever_happened_with_the_final_status(tmp_path, mode, fails):
    status_file = tmp_path / "status.json"
    first = flaky(marker=str(tmp_path / "m"), fails=1 if fails else 0)
    after = write(epochs=1).add_upstream_node(first)
    handler = report(status=FinalStatusStr(), path=str(status_file)).with_id("notify")
    result = LocalDagRunner(executor_mode=mode, quiet=True, raise_on_failure=False).run(
        Pipeline("exit", str(tmp_path), [after], exit_handler=handler)
    )
    status = json.loads(status_file.read_text())
    assert result.nodes["notify"].state == "COMPLETE"
    assert status["pipelineJobResourceName"] == result.run_id and status["pipelineTaskName"] == "notify"
    if fails:
        assert result.state == "FAILED" and result.nodes["write"].state == "SKIPPED"
        assert status["state"] == "FAILED" and "attempt 0 fails" in status["error"]["message"]
    else:
        assert result.state == "COMPLETE" and status == {**status, "state": "SUCCEEDED", "error": {}}
    executions = MetadataReader(_store(tmp_path)).executions(result.run_id)
    assert executions[-1].node_id == "notify"  # after every other node


def test_interactive_context_takes_a_runtime_parameters_default(tmp_path):
    from headrace import InteractiveContext

    context = InteractiveContext(pipeline_root=str(tmp_path))
    ran = context.run(write(epochs=RuntimeParameter("epochs", int, default=4)))
    assert ran.state == "COMPLETE"
    assert open(ran.component.outputs["out"].get()[0].uri).read() == "4:0.1"
    with pytest.raises(DefinitionError, match=r"'epochs' .*has no default"):
        context.run(write(epochs=RuntimeParameter("epochs", int)))
