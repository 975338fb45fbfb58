"""BeamDagRunner end to end on the real Apache Beam DirectRunner (in_memory and multi_processing) and
ML Metadata on SQLite: same outputs as LocalDagRunner, failures, repeated bundles, cache, parallel writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import sql
from output_files import output_files
from pipelines_src import HEADER

from headrace.errors import PipelineRunError
from headrace.orchestrators import BeamDagRunner, LocalDagRunner
from headrace.types import standard_artifacts

pytestmark = pytest.mark.heavy_imports  # Beam starts native threads: keep the forking tests before these

MULTI = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]

# A function component, a fully custom component (ComponentSpec + BaseExecutor + BaseComponent), then a
# diamond: two branches after the custom component, joined at the end.
DIAMOND = (
    HEADER
    + """
class UpperSpec(ComponentSpec):
    INPUTS = {'examples': ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS = {'upper': ChannelParameter(type=standard_artifacts.Examples)}
    PARAMETERS = {'suffix': ExecutionParameter(type=str)}

class UpperExecutor(BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties):
        with open(os.path.join(input_dict['examples'][0].uri, 'rows.txt')) as f:
            rows = f.read()
        with open(os.path.join(output_dict['upper'][0].uri, 'rows.txt'), 'w') as f:
            f.write(rows.upper() + exec_properties['suffix'])

class Upper(BaseComponent):
    SPEC_CLASS = UpperSpec
    EXECUTOR_SPEC = ExecutorClassSpec(UpperExecutor)
    def __init__(self, examples, suffix):
        super().__init__(spec=UpperSpec(examples=examples, suffix=suffix))

@component
def MakeExamples(examples: OutputArtifact[standard_artifacts.Examples]):
    with open(os.path.join(examples.uri, 'rows.txt'), 'w') as f:
        f.write('abc\\ndef\\n')

@component
def Count(examples: InputArtifact[standard_artifacts.Examples], model: OutputArtifact[standard_artifacts.Model]):
    with open(os.path.join(examples.uri, 'rows.txt')) as f:
        n = len(f.read().splitlines())
    with open(os.path.join(model.uri, 'model.txt'), 'w') as f:
        f.write(str(n))

@component
def Reverse(examples: InputArtifact[standard_artifacts.Examples], model: OutputArtifact[standard_artifacts.Model],
            fail: Parameter[int] = 0):
    if fail:
        raise ValueError('Reverse was told to fail')
    with open(os.path.join(examples.uri, 'rows.txt')) as f:
        text = f.read()
    with open(os.path.join(model.uri, 'model.txt'), 'w') as f:
        f.write(text[::-1])

@component
def Join(a: InputArtifact[standard_artifacts.Model],
         b: InputArtifact[standard_artifacts.Model]) -> OutputDict(joined=str):
    with open(os.path.join(a.uri, 'model.txt')) as fa, open(os.path.join(b.uri, 'model.txt')) as fb:
        return {'joined': fa.read() + '|' + fb.read()}

def create_pipeline(root, fail=0, **kw):
    examples = MakeExamples()
    upper = Upper(examples=examples.outputs['examples'], suffix='!')
    count = Count(examples=upper.outputs['upper'])
    reverse = Reverse(examples=upper.outputs['upper'], fail=fail)
    join = Join(a=count.outputs['model'], b=reverse.outputs['model'])
    return Pipeline('diamond', root, [join], **kw)
"""
)

FAN = (
    HEADER
    + """
@component
def Source(examples: OutputArtifact[standard_artifacts.Examples]):
    with open(os.path.join(examples.uri, 'rows.txt'), 'w') as f:
        f.write('x')

@component
def Branch(examples: InputArtifact[standard_artifacts.Examples], model: OutputArtifact[standard_artifacts.Model],
           k: Parameter[int] = 0):
    with open(os.path.join(model.uri, 'model.txt'), 'w') as f:
        f.write(str(k))

def create_pipeline(root):
    source = Source()
    branches = [Branch(examples=source.outputs['examples'], k=k).with_id(f'Branch{k}') for k in range(6)]
    return Pipeline('fan', root, [source, *branches])
"""
)


def _contents(result) -> dict[str, dict[str, str]]:
    """Node/output key -> {relative file path: text}, for every output of the run."""
    found: dict[str, dict[str, str]] = {}
    for node_id, outcome in result.nodes.items():
        for key, uris in outcome.outputs.items():
            for uri in uris:
                found.setdefault(f"{node_id}/{key}", {}).update(output_files(uri))
    return found


def _executions(db: Path, run_id: str) -> list[tuple[str, int]]:
    """(node id, MLMD state) of the run's executions."""
    return sql(
        db,
        "SELECT p.string_value, e.last_known_state FROM Execution e "
        "JOIN Association a ON a.execution_id = e.id JOIN Context c ON c.id = a.context_id "
        "JOIN ExecutionProperty p ON p.execution_id = e.id AND p.name = 'node_id' "
        f"WHERE c.name = '{run_id}'",
    )


def _live_outputs(db: Path, run_id: str) -> list[tuple[str, str]]:
    """(node id, output uri) of LIVE artifacts output by the run's executions."""
    return sql(
        db,
        "SELECT p.string_value, t.uri FROM Artifact t JOIN Event v ON v.artifact_id = t.id AND v.type = 4 "
        "JOIN Association a ON a.execution_id = v.execution_id JOIN Context c ON c.id = a.context_id "
        "JOIN ExecutionProperty p ON p.execution_id = v.execution_id AND p.name = 'node_id' "
        f"WHERE c.name = '{run_id}' AND t.state = 2",
    )


def test_function_custom_and_diamond_nodes_give_the_same_outputs_as_local_dag_runner(write_module, tmp_path):
    mod = write_module(DIAMOND)
    local = LocalDagRunner(quiet=True, executor_mode="inprocess").run(mod.create_pipeline(str(tmp_path / "local")))
    in_memory = BeamDagRunner(["--direct_running_mode=in_memory"], quiet=True).run(
        mod.create_pipeline(str(tmp_path / "in_memory"))
    )
    multi = BeamDagRunner(MULTI, quiet=True).run(mod.create_pipeline(str(tmp_path / "multi")))
    nodes = ["MakeExamples", "Upper", "Count", "Reverse", "Join"]
    for result in (in_memory, multi):
        assert result.node_states == dict.fromkeys(nodes, "COMPLETE")
        assert list(result.nodes) == list(local.nodes)
    expected = _contents(local)
    assert expected["Join/joined"] == {"value": "3|!\nFED\nCBA"}
    assert _contents(in_memory) == expected
    assert _contents(multi) == expected
    db = tmp_path / "multi" / "metadata.sqlite"
    assert sql(db, f"SELECT c.name FROM Context c WHERE c.name = '{multi.run_id}'") == [(multi.run_id,)]
    assert sorted(_executions(db, multi.run_id)) == sorted((n, 3) for n in nodes)  # COMPLETE


def test_a_failing_node_fails_the_run_skips_downstream_and_leaves_nothing_live(write_module, tmp_path, capsys):
    mod = write_module(DIAMOND)
    with pytest.raises(PipelineRunError, match="Reverse was told to fail") as info:
        BeamDagRunner().run(mod.create_pipeline(str(tmp_path / "root"), fail=1))
    result = info.value.result
    assert result.state == "FAILED"
    assert result.node_states == {
        "MakeExamples": "COMPLETE",
        "Upper": "COMPLETE",
        "Count": "COMPLETE",
        "Reverse": "FAILED",
        "Join": "SKIPPED",
    }
    assert result.nodes["Join"].reason == "upstream 'Reverse' failed"
    assert result.errors[0].error_type == "ValueError"
    db = tmp_path / "root" / "metadata.sqlite"
    live = _live_outputs(db, result.run_id)
    assert {n for n, _ in live} == {"MakeExamples", "Upper", "Count"}
    assert ("Join",) not in {(n,) for n, _ in _executions(db, result.run_id)}  # never launched
    assert sql(db, "SELECT p.string_value FROM ContextProperty p WHERE p.name = 'state'") == [("FAILED",)]
    err = capsys.readouterr().err
    assert "Reverse" in err and "FAILED" in err and f"run --resume {result.run_id}" in err


def test_repeated_bundles_record_one_complete_execution_per_node_and_no_duplicate_outputs(write_module, tmp_path):
    mod = write_module(DIAMOND)
    result = BeamDagRunner(["--direct_runner_bundle_repeat=2"], quiet=True).run(
        mod.create_pipeline(str(tmp_path / "root"))
    )
    assert set(result.node_states.values()) == {"COMPLETE"}
    db = tmp_path / "root" / "metadata.sqlite"
    executions = _executions(db, result.run_id)
    assert sorted(executions) == sorted((n, 3) for n in result.nodes)  # one each, all COMPLETE
    live = _live_outputs(db, result.run_id)
    assert len(live) == len(set(live)) == 5  # one LIVE output per node
    for node_id, outcome in result.nodes.items():
        assert [u for n, u in live if n == node_id] == [u for us in outcome.outputs.values() for u in us]


def test_a_second_run_is_fully_cached(write_module, tmp_path):
    mod = write_module(DIAMOND)
    root = str(tmp_path / "root")
    first = BeamDagRunner(quiet=True).run(mod.create_pipeline(root))
    second = BeamDagRunner(quiet=True).run(mod.create_pipeline(root))
    assert set(second.node_states.values()) == {"CACHED"}
    assert second.nodes["Join"].outputs == first.nodes["Join"].outputs
    no_cache = BeamDagRunner(quiet=True, enable_cache=False).run(mod.create_pipeline(root))
    assert set(no_cache.node_states.values()) == {"COMPLETE"}


def test_parallel_branches_in_several_processes_write_metadata_without_failing(write_module, tmp_path):
    mod = write_module(FAN)
    result = BeamDagRunner(MULTI, quiet=True).run(mod.create_pipeline(str(tmp_path / "root")))
    assert result.node_states == {"Source": "COMPLETE", **{f"Branch{k}": "COMPLETE" for k in range(6)}}
    contents = _contents(result)
    assert [contents[f"Branch{k}/model"] for k in range(6)] == [{"model.txt": str(k)} for k in range(6)]


def test_runner_arguments_reach_beam_executors_and_bad_arguments_fail_early(write_module, tmp_path):
    from headrace.errors import DefinitionError

    mod = write_module(FAN)
    result = BeamDagRunner(["--direct_num_workers=1"], quiet=True).run(mod.create_pipeline(str(tmp_path / "root")))
    db = tmp_path / "root" / "metadata.sqlite"
    from headrace.launcher.runs import load_run_ir
    from headrace.metadata import Metadata
    from headrace.metadata.config import sqlite_metadata_connection_config

    ir = load_run_ir(Metadata(sqlite_metadata_connection_config(db)), result.run_id)
    assert ir.beam_pipeline_args == ("--direct_num_workers=1",)
    with pytest.raises(DefinitionError, match="list of strings"):
        BeamDagRunner("--runner=DirectRunner")


DYNAMIC = (
    HEADER
    + """
@component
def Count(start: Parameter[int], num: OutputArtifact[standard_artifacts.Integer],
          name: OutputArtifact[standard_artifacts.String]):
    num.value = start // 10
    name.value = f'batch{start // 10}'

@component
def Use(n: Parameter[int], label: Parameter[str]) -> OutputDict(out=str):
    return {'out': f'{n}|{label}'}

def create_pipeline(root, start):
    count = Count(start=start)
    use = Use(n=count.outputs['num'].future()[0].value, label='n=' + count.outputs['name'].future()[0].value)
    return Pipeline('beamdyn', root, [use], enable_cache=True)
"""
)


def test_dynamic_parameters_are_resolved_in_beams_workers_and_cached_by_value(write_module, tmp_path):
    mod = write_module(DYNAMIC, "beam_dynamic")
    root = str(tmp_path / "multi")
    first = BeamDagRunner(MULTI, quiet=True).run(mod.create_pipeline(root, 11))
    [uri] = first.nodes["Use"].outputs["out"]
    out = standard_artifacts.String()
    out.uri = uri
    assert out.value == "1|n=batch1"
    again = BeamDagRunner(MULTI, quiet=True).run(mod.create_pipeline(root, 12))  # Count runs, same values
    assert again.node_states == {"Count": "COMPLETE", "Use": "CACHED"}
    assert again.nodes["Use"].outputs["out"] == [uri]
