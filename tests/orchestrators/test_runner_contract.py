"""The orchestrator contract as docs/ARCHITECTURE.md teaches it: the page's smallest runner, registered with
one line in the table, runs pipelines through BaseRunner's lifecycle (outcomes, skips after a failure,
final state, resume), and every adapter derives from one of the two bases."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from headrace import InputArtifact, OutputArtifact, Parameter, Pipeline, component
from headrace.errors import PipelineRunError
from headrace.orchestrators import RUNNERS, TARGETS, BaseRunner, CompileTarget, runner_class, target_class
from headrace.types import standard_artifacts

DOC = Path(__file__).resolve().parents[2] / "docs" / "ARCHITECTURE.md"


def _doc_runner_module() -> types.ModuleType:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Adding a runner") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "the 'Adding a runner' section has no python example"
    module = types.ModuleType("headrace.orchestrators.doc_sequential")
    exec(compile(code.group(1), str(DOC), "exec"), module.__dict__)
    return module


@component
def Make(examples: OutputArtifact[standard_artifacts.Examples], fail: Parameter[bool] = False):
    if fail:
        raise ValueError("asked to fail")
    (Path(examples.uri) / "rows.txt").write_text("1\n")


@component
def Use(examples: InputArtifact[standard_artifacts.Examples], out: OutputArtifact[standard_artifacts.Examples]):
    (Path(out.uri) / "n.txt").write_text(str(len(list(Path(examples.uri).iterdir()))))


def _pipeline(root: Path, fail: bool) -> Pipeline:
    first = Make(fail=fail)
    use = Use(examples=first.outputs["examples"])
    alone = Make().with_id("Alone")
    return Pipeline("contract", str(root), [first, use, alone])


def test_the_documented_runner_registers_with_one_line_and_runs_through_the_lifecycle(tmp_path, monkeypatch):
    module = _doc_runner_module()
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(RUNNERS, "sequential", ("doc_sequential", "SequentialRunner", "one node at a time"))
    cls = runner_class("sequential")
    assert issubclass(cls, BaseRunner)

    failed = cls(quiet=True, raise_on_failure=False).run(_pipeline(tmp_path, fail=True))
    assert failed.state == "FAILED"
    assert failed.node_states == {"Make": "FAILED", "Use": "SKIPPED", "Alone": "COMPLETE"}
    assert failed.nodes["Use"].reason == "upstream 'Make' failed"
    with pytest.raises(PipelineRunError, match="asked to fail"):
        cls(quiet=True).run(_pipeline(tmp_path, fail=True))

    resumed = cls(quiet=True).run(_pipeline(tmp_path, fail=False), resume=failed.run_id)
    assert resumed.run_id == failed.run_id and resumed.state == "COMPLETE"
    assert resumed.node_states == {"Make": "COMPLETE", "Use": "COMPLETE", "Alone": "REUSED"}
    assert resumed.nodes["Alone"].outputs["examples"], "a reused node reports the outputs it published"


def test_every_adapter_in_the_table_derives_from_its_base():
    for name in RUNNERS:
        assert issubclass(runner_class(name), BaseRunner), name
    for name in TARGETS:
        assert issubclass(target_class(name), CompileTarget), name
