"""Runtime parameters, retries, timeouts and exit handlers under BeamDagRunner: each Beam step launches
its node through the launcher, which retries it as its policy says and stops it at its timeout."""

from __future__ import annotations

import json

import pytest

from headrace import FinalStatusStr, Pipeline, RuntimeParameter
from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config
from headrace.orchestrators import BeamDagRunner

pytestmark = pytest.mark.heavy_imports  # Beam

# In a user's file (travels by value): a step with a timeout runs in a fresh interpreter, where a module
# of this test folder is not importable by name (Beam's import puts IPython's own `tests` on sys.path).
COMPONENTS = """
import os, time
from headrace import Parameter, component
from headrace.dsl import OutputArtifact
from headrace.types.standard_artifacts import String

@component
def write(out: OutputArtifact[String], epochs: Parameter[int], rate: Parameter[float] = 0.1) -> None:
    out.value = f"{epochs}:{rate}"

@component
def flaky(marker: Parameter[str], fails: Parameter[int], out: OutputArtifact[String]) -> None:
    os.makedirs(marker, exist_ok=True)
    n = len(os.listdir(marker))
    open(os.path.join(marker, str(n)), "w").close()
    if n < fails:
        raise RuntimeError(f"attempt {n} fails")

@component
def sleeper(seconds: Parameter[float], out: OutputArtifact[String]) -> None:
    time.sleep(seconds)

@component
def report(status: Parameter[str], path: Parameter[str]) -> None:
    open(path, "w").write(status)
"""


def _executions(root, run_id, node):
    md = Metadata(sqlite_metadata_connection_config(str(root / "metadata.sqlite")))
    return [e for e in MetadataReader(md).executions(run_id) if e.node_id == node]


def test_beam_honours_parameters_retries_timeouts_and_the_exit_handler(tmp_path, write_module):
    m = write_module(COMPONENTS, "settings_components")
    write, flaky, sleeper, report = m.write, m.flaky, m.sleeper, m.report
    status_file = tmp_path / "status.json"
    flaky_node = flaky(marker=str(tmp_path / "m"), fails=1).with_retry(2, backoff_seconds=0.5)
    flaky_node.with_resources(cpu=1, memory="256Mi")
    param_node = write(epochs=RuntimeParameter("epochs", int, default=1)).add_upstream_node(flaky_node)
    slow = sleeper(seconds=60.0).with_timeout(1)
    handler = report(status=FinalStatusStr(), path=str(status_file)).with_id("notify")
    pipeline = Pipeline("beam-settings", str(tmp_path), [param_node, slow], exit_handler=handler)
    result = BeamDagRunner(quiet=True, raise_on_failure=False).run(pipeline, parameters={"epochs": "4"})
    assert result.nodes["flaky"].state == "COMPLETE"
    attempts = _executions(tmp_path, result.run_id, "flaky")
    assert [e.state for e in attempts] == ["FAILED", "COMPLETE"]
    assert attempts[1].create_time_ms - attempts[0].update_time_ms >= 450  # the policy's 0.5 s wait
    assert json.loads(attempts[1].properties["resources"]) == {"cpu": "1", "memory": "256Mi"}
    assert open(result.nodes["write"].outputs["out"][0]).read() == "4:0.1"
    assert result.nodes["sleeper"].state == "FAILED" and result.nodes["sleeper"].error.error_type == "StepTimeout"
    assert result.nodes["notify"].state == "COMPLETE" and result.state == "FAILED"
    status = json.loads(status_file.read_text())
    assert status["state"] == "FAILED" and "timeout" in status["error"]["message"]
