"""Dynamic parameters resolved by the launcher when the node runs: the value (not the placeholder) is what
the executor sees and what the cache key holds; a skipped producer skips the node; a value that does not
fit fails the node with a message naming the parameter. Also one node per process (`headrace task run`,
what each Airflow task runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from headrace.compiler import compile_pipeline
from headrace.orchestrators import LocalDagRunner
from headrace.types import standard_artifacts as sa

SOURCE = """
import json
from headrace import Cond, OutputArtifact, OutputDict, Parameter, Pipeline, component
from headrace.dsl import placeholders as ph
from headrace.types import standard_artifacts as sa


@component
def Count(start: Parameter[int], num: OutputArtifact[sa.Integer], name: OutputArtifact[sa.String]):
    num.value = start // 10          # 11 and 12 give the same value: 1
    name.value = 'batch-' + str(start // 10)


@component
def Use(n: Parameter[int], label: Parameter[str], rate: Parameter[float] = 0.0) -> OutputDict(out=str):
    return {'out': f'{n}|{label}|{rate!r}'}


@component
def Config(text: OutputArtifact[sa.String], body: Parameter[str] = '{"epochs": 3}'):
    text.value = body


@component
def UseConfig(config: Parameter[dict]) -> OutputDict(out=str):
    return {'out': json.dumps(config, sort_keys=True)}


def create_pipeline(root, start, enable_cache=True):
    count = Count(start=start)
    use = Use(
        n=count.outputs['num'].future()[0].value,
        label='run:' + count.outputs['name'].future()[0].value,
        rate=count.outputs['num'].future()[0].value,
    )
    return Pipeline('dynp', root, [use], enable_cache=enable_cache)


def config_pipeline(root, body):
    config = Config(body=body)
    return Pipeline('dync', root, [UseConfig(config=config.outputs['text'].future()[0].value)])


def run_id_pipeline(root):
    count = Count(start=5)
    use = Use(n=count.outputs['num'].future()[0].value, label=ph.execution_invocation().pipeline_run_id)
    return Pipeline('dynr', root, [use])


def gated_pipeline(root, start):
    gate = Count(start=start).with_id('Gate')
    with Cond(gate.outputs['num'].future()[0].value == 1):
        count = Count(start=30)
    use = Use(n=count.outputs['num'].future()[0].value, label='x')
    return Pipeline('dyng', root, [gate, use])


def encoded_pipeline(root):
    count = Count(start=7)
    use = Use(n=0, label=('gs://b/' + count.outputs['name'].future()[0].value).b64encode())
    return Pipeline('dynb', root, [use])
"""


@pytest.fixture
def pipelines(write_module):
    return write_module(SOURCE, "dynamic_parameters_pipelines")


def _run(pipeline):
    return LocalDagRunner(quiet=True, raise_on_failure=False).run(pipeline)


def _out(result, node="Use") -> str:
    [uri] = result.nodes[node].outputs["out"]
    art = sa.String()
    art.uri = uri
    return art.value


def test_the_executor_gets_the_upstream_values_resolved_when_the_node_runs(pipelines, tmp_path):
    result = _run(pipelines.create_pipeline(str(tmp_path), 11))
    assert result.state == "COMPLETE", result
    assert _out(result) == "1|run:batch-1|1.0"  # an Integer's value widened for the float parameter


def test_the_same_upstream_value_hits_the_cache_and_another_value_runs_again(pipelines, tmp_path):
    first = _run(pipelines.create_pipeline(str(tmp_path), 11))
    assert [first.nodes[n].state for n in ("Count", "Use")] == ["COMPLETE", "COMPLETE"]
    # Count runs again (another start) but produces the same values: Use's key holds values, so it hits.
    same = _run(pipelines.create_pipeline(str(tmp_path), 12))
    assert [same.nodes[n].state for n in ("Count", "Use")] == ["COMPLETE", "CACHED"]
    assert _out(same) == "1|run:batch-1|1.0"
    other = _run(pipelines.create_pipeline(str(tmp_path), 21))
    assert [other.nodes[n].state for n in ("Count", "Use")] == ["COMPLETE", "COMPLETE"]
    assert _out(other) == "2|run:batch-2|2.0"


def test_json_text_fills_a_dict_parameter_and_text_that_is_not_json_fails_naming_the_parameter(pipelines, tmp_path):
    good = _run(pipelines.config_pipeline(str(tmp_path / "a"), '{"epochs": 3}'))
    assert _out(good, "UseConfig") == '{"epochs": 3}'
    bad = _run(pipelines.config_pipeline(str(tmp_path / "b"), "epochs=3"))
    assert bad.state == "FAILED"
    error = bad.nodes["UseConfig"].error
    assert error.error_type == "DynamicParameterError"
    assert "Parameter 'config' of 'UseConfig' (Config.outputs['text'][0].value)" in error.message
    assert "takes a dict; the value 'epochs=3' is not JSON" in error.message


def test_the_run_id_is_a_value_a_parameter_can_take(pipelines, tmp_path):
    result = _run(pipelines.run_id_pipeline(str(tmp_path)))
    assert _out(result) == f"0|{result.run_id}|0.0"


def test_b64encode_of_joined_text_is_resolved(pipelines, tmp_path):
    import base64

    result = _run(pipelines.encoded_pipeline(str(tmp_path)))
    assert _out(result) == "0|" + base64.urlsafe_b64encode(b"gs://b/batch-0").decode() + "|0.0"


def test_a_producer_skipped_by_its_cond_skips_the_node_that_reads_its_value(pipelines, tmp_path):
    skipped = _run(pipelines.gated_pipeline(str(tmp_path / "a"), 25))  # Gate's num is 2: Count is skipped
    assert skipped.state == "COMPLETE"
    assert skipped.nodes["Count"].state == "SKIPPED" and skipped.nodes["Use"].state == "SKIPPED"
    assert "upstream 'Count', which a parameter reads, was skipped" in skipped.nodes["Use"].reason
    ran = _run(pipelines.gated_pipeline(str(tmp_path / "b"), 15))
    assert ran.nodes["Use"].state == "COMPLETE" and _out(ran).startswith("3|x|")


def _task_runner(pipelines, tmp_path):
    """Runs one node of the dynamic-parameter pipeline at a time as `headrace task run` (as an Airflow task
    does), all in run 'r1'."""
    ir_file = tmp_path / "dyn.ir.json"
    ir_file.write_text(compile_pipeline(pipelines.create_pipeline(str(tmp_path / "root"), 11)).dump())
    env = {k: v for k, v in os.environ.items() if k != "HEADRACE_VERBOSE"}

    def task(node: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "headrace", "task", "run", str(ir_file), node, "--run-id", "r1"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=str(Path(pipelines.__file__).parent),
        )

    return task


def test_each_node_in_its_own_process_as_airflow_tasks_run_them(pipelines, tmp_path):
    task = _task_runner(pipelines, tmp_path)
    for node in ("Count", "Use"):
        done = task(node)
        assert done.returncode == 0, done.stderr
    from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config

    reader = MetadataReader(Metadata(sqlite_metadata_connection_config(str(tmp_path / "root" / "metadata.sqlite"))))
    [use] = [e for e in reader.executions("r1") if e.node_id == "Use"]
    assert use.state == "COMPLETE"


def test_an_unreadable_upstream_value_fails_the_node_clearly_and_publishes_nothing(pipelines, tmp_path):
    """Hostile input: the value artifact a parameter reads lost its value (store property and file) between
    the producer's task and the consumer's, as separate Airflow tasks may see it."""
    import shutil

    from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config

    task = _task_runner(pipelines, tmp_path)

    assert task("Count").returncode == 0
    md = Metadata(sqlite_metadata_connection_config(str(tmp_path / "root" / "metadata.sqlite")))
    [num] = [a for a in md.store.get_artifacts() if a.uri.startswith(str(tmp_path / "root" / "Count" / "num"))]
    del num.custom_properties["value"]
    md.store.put_artifacts([num])
    shutil.rmtree(num.uri) if os.path.isdir(num.uri) else os.remove(num.uri)

    used = task("Use")
    assert used.returncode == 1
    assert "Parameter 'n' of 'Use' (Count.outputs['num'][0].value): Cannot read Count.outputs['num'][0].value" in (
        used.stderr
    )
    assert "is unreadable" in used.stderr and "Traceback" not in used.stderr
    reader = MetadataReader(md)
    assert [e.state for e in reader.executions("r1") if e.node_id == "Use"] == ["FAILED"]
    assert not (tmp_path / "root" / "Use").exists() or not any((tmp_path / "root" / "Use").rglob("out"))


def test_what_the_parameters_read_is_recorded_as_the_executions_inputs_for_lineage(pipelines, tmp_path):
    from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config

    first = _run(pipelines.create_pipeline(str(tmp_path), 11))
    cached = _run(pipelines.create_pipeline(str(tmp_path), 12))  # Use: CACHED, its record has the events too
    reader = MetadataReader(Metadata(sqlite_metadata_connection_config(str(tmp_path / "metadata.sqlite"))))
    for result in (first, cached):
        [use] = [e for e in reader.executions(result.run_id) if e.node_id == "Use"]
        [count] = [e for e in reader.executions(result.run_id) if e.node_id == "Count"]
        assert sorted(use.inputs) == ["label", "n", "rate"]  # keyed by parameter: 'n' and 'rate' read one artifact
        assert [a.id for a in use.inputs["n"]] == [a.id for a in count.outputs["num"]]
        assert [a.id for a in use.inputs["label"]] == [a.id for a in count.outputs["name"]]
