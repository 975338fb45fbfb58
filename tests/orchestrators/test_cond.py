"""Cond: nodes that run only when a condition on upstream artifacts holds (TFX's conditionals)."""

from __future__ import annotations

import pytest
from conftest import sql

from headrace import Cond, DefinitionError
from headrace.compiler import compile_pipeline, dump, load
from headrace.orchestrators import LocalDagRunner

SOURCE = """
import os
from headrace import Cond, InputArtifact, OutputArtifact, OutputDict, Parameter, Pipeline, component
from headrace.types import standard_artifacts as sa


@component
def Gate(blessing: OutputArtifact[sa.ModelBlessing], blessed: Parameter[int] = 1) -> OutputDict(score=float):
    blessing.set_custom_property('blessed', blessed)
    return {'score': 0.5 + 0.4 * blessed}


@component
def Push(blessing: InputArtifact[sa.ModelBlessing], pushed: OutputArtifact[sa.PushedModel]):
    with open(os.path.join(pushed.uri, 'pushed'), 'w') as f:
        f.write('1')


@component
def Notify(pushed: InputArtifact[sa.PushedModel]) -> OutputDict(ok=int):
    return {'ok': 1}


@component
def Audit(blessing: InputArtifact[sa.ModelBlessing]) -> OutputDict(ok=int):
    return {'ok': 1}


def create_pipeline(root, blessed, nested=None, enable_cache=False):
    gate = Gate(blessed=blessed)
    with Cond(gate.outputs['blessing'].future()[0].custom_property('blessed') == 1):
        if nested is None:
            push = Push(blessing=gate.outputs['blessing'])
        else:
            with Cond(gate.outputs['score'].future()[0].value > nested):
                push = Push(blessing=gate.outputs['blessing'])
    # Outside the block, but needs Push's output: skipped with it.
    notify = Notify(pushed=push.outputs['pushed'])
    # Runs after Push without needing its outputs: it runs either way.
    audit = Audit(blessing=gate.outputs['blessing']).add_upstream_node(push)
    return Pipeline('condp', root, [notify, audit], enable_cache=enable_cache)
"""

TFX_SOURCE = """
from headrace.tfx import v1 as tfx
from headrace.tfx.v1.dsl.components import OutputArtifact, OutputDict, InputArtifact, Parameter
from headrace.types import standard_artifacts as sa


@tfx.dsl.components.component
def Evaluator(blessing: OutputArtifact[sa.ModelBlessing], blessed: Parameter[int] = 1):
    blessing.set_custom_property('blessed', blessed)


@tfx.dsl.components.component
def Pusher(model_blessing: InputArtifact[sa.ModelBlessing], pushed_model: OutputArtifact[sa.PushedModel]):
    pass


def create_pipeline(root, blessed):
    evaluator = Evaluator(blessed=blessed)
    with tfx.dsl.Cond(evaluator.outputs['blessing'].future().custom_property('blessed') == 1):
        pusher = Pusher(model_blessing=evaluator.outputs['blessing'])
    return tfx.dsl.Pipeline(pipeline_name='tfxcond', pipeline_root=root, components=[evaluator, pusher])
"""


def _run(pipeline, **kw):
    return LocalDagRunner(quiet=True, raise_on_failure=False, **kw).run(pipeline)


def _executions(db):
    rows = sql(
        db,
        "SELECT e.id, e.last_known_state, p.name, p.string_value FROM Execution e "
        "JOIN ExecutionProperty p ON p.execution_id = e.id WHERE p.name IN ('node_id', 'skipped', 'run_id')",
    )
    found: dict[int, dict] = {}
    for ex_id, state, name, value in rows:
        found.setdefault(ex_id, {"state": state})[name] = value
    return found


def test_blessed_runs_the_conditional_node_and_its_descendants(write_module, tmp_path):
    mod = write_module(SOURCE)
    result = _run(mod.create_pipeline(str(tmp_path / "root"), blessed=1))
    assert result.state == "COMPLETE"
    assert result.node_states == {"Gate": "COMPLETE", "Push": "COMPLETE", "Notify": "COMPLETE", "Audit": "COMPLETE"}
    assert (tmp_path / "root" / "Push" / "pushed").is_dir()


def test_not_blessed_skips_them_recorded_in_summary_result_and_store(write_module, tmp_path, capsys):
    mod = write_module(SOURCE)
    result = LocalDagRunner(raise_on_failure=False).run(mod.create_pipeline(str(tmp_path / "root"), blessed=0))
    assert result.state == "COMPLETE" and result.succeeded  # a false condition is not a failure
    assert result.node_states == {"Gate": "COMPLETE", "Push": "SKIPPED", "Notify": "SKIPPED", "Audit": "COMPLETE"}
    push, notify = result.nodes["Push"], result.nodes["Notify"]
    assert push.by_condition and notify.by_condition and not result.errors
    assert push.reason == ("condition false: Gate.outputs['blessing'][0].custom_property('blessed') == 1 (it is 0)")
    assert "upstream 'Push' was skipped" in notify.reason
    assert push.outputs == {} and not (tmp_path / "root" / "Push" / "pushed").exists()
    summary = capsys.readouterr().err
    assert "(1 done, 2 skipped)" not in summary  # Gate and Audit ran
    assert "COMPLETE" in summary and "2 skipped" in summary
    assert "Push          SKIPPED" in summary and "condition false: Gate.outputs['blessing']" in summary
    # The store: one CANCELED execution per skipped node, with the reason as `skipped`.
    recorded = {e["node_id"]: e for e in _executions(tmp_path / "root" / "metadata.sqlite").values()}
    assert recorded["Push"]["state"] == 6 and recorded["Notify"]["state"] == 6  # CANCELED
    assert recorded["Push"]["skipped"] == push.reason
    assert recorded["Notify"]["skipped"] == notify.reason
    assert recorded["Gate"]["state"] == 3 and "skipped" not in recorded["Gate"]
    [(state,)] = sql(
        tmp_path / "root" / "metadata.sqlite",
        f"SELECT p.string_value FROM Context c JOIN ContextProperty p ON p.context_id = c.id "
        f"WHERE c.name = '{result.run_id}' AND p.name = 'state'",
    )
    assert state == "COMPLETE"


def test_a_failed_upstream_still_skips_as_a_failure(write_module, tmp_path):
    source = SOURCE.replace("blessing.set_custom_property('blessed', blessed)", "raise ValueError('boom')")
    mod = write_module(source)
    result = _run(mod.create_pipeline(str(tmp_path / "root"), blessed=1))
    assert result.state == "FAILED"
    assert result.node_states["Push"] == "SKIPPED" and not result.nodes["Push"].by_condition
    assert result.nodes["Push"].reason == "upstream 'Gate' failed"


def test_resume_reevaluates_and_cache_works_when_the_condition_holds(write_module, tmp_path):
    mod = write_module(SOURCE)
    root = str(tmp_path / "root")
    first = _run(mod.create_pipeline(root, blessed=1, enable_cache=True))
    second = _run(mod.create_pipeline(root, blessed=1, enable_cache=True))
    assert set(second.node_states.values()) == {"CACHED"}
    assert second.nodes["Push"].outputs == first.nodes["Push"].outputs
    skipped = _run(mod.create_pipeline(root, blessed=0, enable_cache=True))
    assert skipped.node_states["Push"] == "SKIPPED"
    # A resumed run evaluates its conditions again (on the same reused outputs: still false).
    config = __import__("headrace.metadata", fromlist=["x"]).sqlite_metadata_connection_config(
        str(tmp_path / "root" / "metadata.sqlite")
    )
    resumed = LocalDagRunner(quiet=True, raise_on_failure=False, metadata_connection_config=config).run(
        resume=skipped.run_id
    )
    assert resumed.state == "COMPLETE"
    # Audit comes after Push, which did not complete, so it runs again (from the cache).
    assert resumed.node_states == {"Gate": "REUSED", "Push": "SKIPPED", "Notify": "SKIPPED", "Audit": "CACHED"}


def test_nested_conds_need_every_predicate(write_module, tmp_path):
    mod = write_module(SOURCE)
    ir = compile_pipeline(mod.create_pipeline(str(tmp_path / "r0"), blessed=1, nested=0.95))
    assert len(ir.node("Push").conditions) == 2 and ir.node("Notify").conditions == ()
    assert load(dump(ir)) == ir
    held = _run(mod.create_pipeline(str(tmp_path / "r1"), blessed=1, nested=0.5))
    assert held.node_states["Push"] == "COMPLETE"
    inner_false = _run(mod.create_pipeline(str(tmp_path / "r2"), blessed=1, nested=0.95))
    assert inner_false.state == "COMPLETE" and inner_false.node_states["Push"] == "SKIPPED"
    assert "Gate.outputs['score'][0].value > 0.95 (it is 0.9)" in inner_false.nodes["Push"].reason
    outer_false = _run(mod.create_pipeline(str(tmp_path / "r3"), blessed=0, nested=0.5))
    assert "custom_property('blessed') == 1" in outer_false.nodes["Push"].reason


def test_ir_round_trips_and_omits_conditions_when_there_are_none(write_module, tmp_path):
    mod = write_module(SOURCE)
    ir = compile_pipeline(mod.create_pipeline(str(tmp_path / "root"), blessed=1))
    assert load(dump(ir)) == ir
    assert ir.node("Push").conditions == (
        {
            "op": "==",
            "future": {
                "producer": "Gate",
                "output_key": "blessing",
                "index": 0,
                "attribute": ["custom_property", "blessed"],
            },
            "constant": 1,
        },
    )
    assert "Gate" in ir.node("Push").upstream
    nodes = {n["id"]: n for n in __import__("json").loads(dump(ir))["nodes"]}
    assert "conditions" not in nodes["Gate"] and "conditions" in nodes["Push"]


def test_combined_predicates(write_module, tmp_path):
    mod = write_module(SOURCE)
    gate = mod.Gate(blessed=1)
    blessed = gate.outputs["blessing"].future()[0].custom_property("blessed")
    score = gate.outputs["score"].future()[0].value
    with Cond((blessed == 1) & ~(score < 0.5) | (blessed != 0)):
        push = mod.Push(blessing=gate.outputs["blessing"])
    result = _run(mod.Pipeline("combo", str(tmp_path / "root"), [push]))
    assert result.node_states == {"Gate": "COMPLETE", "Push": "COMPLETE"}
    with Cond((blessed == 0) | (score >= 1.0)):
        push2 = mod.Push(blessing=gate.outputs["blessing"]).with_id("Push2")
    result = _run(mod.Pipeline("combo2", str(tmp_path / "root2"), [push2]))
    assert result.node_states["Push2"] == "SKIPPED"
    assert "(Gate.outputs['blessing'][0].custom_property('blessed') == 0 |" in result.nodes["Push2"].reason


def test_the_producer_of_a_predicate_becomes_upstream(write_module, tmp_path):
    mod = write_module(SOURCE)
    gate, other = mod.Gate(blessed=1), mod.Gate(blessed=0).with_id("Other")
    with Cond(other.outputs["blessing"].future()[0].custom_property("blessed") == 1):
        push = mod.Push(blessing=gate.outputs["blessing"])
    pipeline = mod.Pipeline("dep", str(tmp_path / "root"), [push])
    assert {c.id for c in pipeline.components} == {"Gate", "Other", "Push"}
    assert _run(pipeline).node_states == {"Gate": "COMPLETE", "Other": "COMPLETE", "Push": "SKIPPED"}


@pytest.mark.parametrize(
    "predicate, words",
    [
        (True, "comparison of a channel future"),
        ("blessed == 1", "comparison of a channel future"),
        (None, "comparison of a channel future"),
    ],
)
def test_a_non_comparison_predicate_is_a_definition_error(predicate, words):
    with pytest.raises(DefinitionError, match=words):
        Cond(predicate)


def test_futures_must_be_compared_properly(write_module):
    mod = write_module(SOURCE)
    gate = mod.Gate()
    future = gate.outputs["blessing"].future()
    with pytest.raises(DefinitionError, match="Compare the future with a constant"):
        Cond(future[0].custom_property("blessed"))
    with pytest.raises(DefinitionError, match="not the artifact itself"):
        Cond(future[0] == 1)
    with pytest.raises(DefinitionError, match="compared with a constant"):
        Cond(future[0].custom_property("blessed") == [1])
    with pytest.raises(DefinitionError, match=r"Combine predicates with &"):
        Cond(future[0].custom_property("blessed") == 1 and future[0].custom_property("x") == 2)
    p = future[0].custom_property("blessed") == 1
    with Cond(p), pytest.raises(DefinitionError, match="repeat the predicate"):
        with Cond(future[0].custom_property("blessed") == 1):
            pass


def test_a_missing_property_fails_the_node_with_a_clear_error(write_module, tmp_path):
    mod = write_module(SOURCE)
    gate = mod.Gate(blessed=1)
    with Cond(gate.outputs["blessing"].future()[0].custom_property("blesed") == 1):
        push = mod.Push(blessing=gate.outputs["blessing"])
    result = _run(mod.Pipeline("typo", str(tmp_path / "root"), [push]))
    assert result.state == "FAILED" and result.node_states["Push"] == "FAILED"
    [error] = result.errors
    assert "no custom property 'blesed'" in error.message and "blessed" in error.message


def test_the_tfx_form_through_headrace_tfx(write_module, tmp_path):
    from headrace.tfx.dsl.experimental.conditionals.conditional import Cond as TfxCond
    from headrace.tfx.v1.dsl import Cond as V1Cond

    assert V1Cond is Cond and TfxCond is Cond
    mod = write_module(TFX_SOURCE, name="tfx_pipeline")
    assert _run(mod.create_pipeline(str(tmp_path / "a"), 1)).node_states == {
        "Evaluator": "COMPLETE",
        "Pusher": "COMPLETE",
    }
    not_blessed = _run(mod.create_pipeline(str(tmp_path / "b"), 0))
    assert not_blessed.state == "COMPLETE" and not_blessed.node_states["Pusher"] == "SKIPPED"


def test_interactive_context_skips_a_conditional_component_without_failing(write_module, tmp_path):
    from headrace.orchestrators import InteractiveContext

    mod = write_module(SOURCE)
    context = InteractiveContext(pipeline_name="ic", pipeline_root=str(tmp_path / "root"))
    gate = mod.Gate(blessed=0)
    with Cond(gate.outputs["blessing"].future()[0].custom_property("blessed") == 1):
        push = mod.Push(blessing=gate.outputs["blessing"])
    context.run(gate)
    result = context.run(push)
    assert result.state == "SKIPPED" and push.outputs["pushed"].get() == []


SPAN_SOURCE = """
from headrace import Cond, InputArtifact, OutputArtifact, Parameter, Pipeline, component
from headrace.types import standard_artifacts as sa


@component
def Make(examples: OutputArtifact[sa.Examples], span: Parameter[int] = 0):
    examples.span = span


@component
def Use(examples: InputArtifact[sa.Examples], model: OutputArtifact[sa.Model]):
    pass


def create_pipeline(root, span):
    make = Make(span=span)
    with Cond(make.outputs['examples'].future()[0].property('span') >= 2):
        use = Use(examples=make.outputs['examples'])
    return Pipeline('spans', root, [use])
"""


def test_a_declared_property_in_a_condition(write_module, tmp_path):
    mod = write_module(SPAN_SOURCE)
    assert _run(mod.create_pipeline(str(tmp_path / "a"), 3)).node_states["Use"] == "COMPLETE"
    skipped = _run(mod.create_pipeline(str(tmp_path / "b"), 1))
    assert skipped.node_states["Use"] == "SKIPPED"
    assert "property('span') >= 2 (it is 1)" in skipped.nodes["Use"].reason


def test_one_launcher_per_node_reads_conditions_and_skips_from_the_store(write_module, tmp_path):
    """The way a one-process-per-node orchestrator (Airflow, Kubeflow) runs nodes: each launch
    attaches to the run afresh, so what was skipped is learned from ML Metadata."""
    from headrace.launcher import NodeLauncher, attach_run, start_run
    from headrace.metadata import sqlite_metadata_connection_config
    from headrace.metadata.store import Metadata

    mod = write_module(SOURCE)
    ir = compile_pipeline(mod.create_pipeline(str(tmp_path / "root"), blessed=0))
    config = sqlite_metadata_connection_config(str(tmp_path / "root" / "metadata.sqlite"))
    run_id = start_run(Metadata(config), ir).run_id
    states = {}
    for node in ir.nodes:
        md = Metadata(config)
        outcome = NodeLauncher(md, attach_run(md, run_id)).launch(node.id)
        states[node.id] = (outcome.state, outcome.by_condition)
    assert states == {
        "Gate": ("COMPLETE", False),
        "Push": ("SKIPPED", True),
        "Notify": ("SKIPPED", True),
        "Audit": ("COMPLETE", False),
    }


def test_a_component_without_outputs_inside_a_cond_is_conditional_too(write_module, tmp_path):
    mod = write_module(
        SOURCE
        + """

@component
def Sink(blessing: InputArtifact[sa.ModelBlessing]):
    print('sink ran')


def create_sink_pipeline(root, blessed):
    gate = Gate(blessed=blessed)
    with Cond(gate.outputs['blessing'].future()[0].custom_property('blessed') == 1):
        sink = Sink(blessing=gate.outputs['blessing'])
    return Pipeline('sinkp', root, [gate, sink])
""",
        name="cond_sink",
    )
    result = LocalDagRunner(quiet=True).run(mod.create_sink_pipeline(str(tmp_path / "root"), 0))
    assert result.state == "COMPLETE" and result.nodes["Sink"].state == "SKIPPED"
    from headrace.metadata import Metadata, MetadataReader
    from headrace.metadata.config import connection_config_from_uri

    md = Metadata(connection_config_from_uri(result.metadata))
    sink = [e for e in MetadataReader(md).executions(result.run_id) if e.node_id == "Sink"]
    assert [e.state for e in sink] == ["SKIPPED"] and "condition false" in sink[0].properties["skipped"]
