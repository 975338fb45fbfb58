"""Notebooks run in a real Jupyter kernel (nbclient + ipykernel): a pipeline defined in cells runs
once per node in every executor mode; redefining a component in a later cell re-runs it (and only
what depends on it), restoring it hits the cache again; a failed run makes its cell raise;
InteractiveContext runs and shows components one at a time."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parents[2]

DEFINE = """
import os
from headrace import OutputArtifact, OutputDict, Pipeline, component
from headrace.orchestrators import LocalDagRunner
from headrace.types import standard_artifacts

OFFSET = 0

def helper(n):
    return n + OFFSET

@component
def Producer() -> OutputDict(n=int):
    return {"n": 21}

@component
def Doubler(n: int) -> OutputDict(doubled=int):
    return {"doubled": helper(n) * 2}

@component
def Consumer(doubled: int, report: OutputArtifact[standard_artifacts.ExternalArtifact]):
    with open(os.path.join(report.uri, "answer.txt"), "w") as f:
        f.write(str(doubled))

def run():
    producer = Producer()
    doubler = Doubler(n=producer.outputs["n"])
    consumer = Consumer(doubled=doubler.outputs["doubled"])
    return LocalDagRunner(executor_mode=MODE, quiet=True).run(Pipeline("nb", ROOT, [consumer]))
"""

REDEFINE = """
@component
def Doubler(n: int) -> OutputDict(doubled=int):
    return {"doubled": helper(n) * 4}
"""

RESTORE = """
@component
def Doubler(n: int) -> OutputDict(doubled=int):
    return {"doubled": helper(n) * 2}
"""


def _notebook(cells: list[str], timeout: int = 120) -> tuple[nbformat.NotebookNode, NotebookClient]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(REPO)}})
    return nb, client


def _outputs(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in cell.outputs)


def _executions(db: Path) -> list[tuple[str, int]]:
    con = sqlite3.connect(str(db))
    try:
        return con.execute(
            "SELECT p.string_value, e.last_known_state FROM Execution e JOIN ExecutionProperty p "
            "ON p.execution_id = e.id WHERE p.name = 'node_id' ORDER BY e.id"
        ).fetchall()
    finally:
        con.close()


COMPLETE, CACHED = 3, 5


@pytest.mark.parametrize(("mode", "start"), [("process", "fork"), ("process", "spawn"), ("inprocess", "auto")])
def test_a_notebook_pipeline_runs_once_per_node_and_its_cache_sees_redefined_cells(mode, start, tmp_path):
    root = tmp_path / "root"
    setup = f"import os\nos.environ['HEADRACE_WORKER_START'] = {start!r}\nMODE = {mode!r}\nROOT = {str(root)!r}"
    nb, client = _notebook(
        [
            setup,
            DEFINE,
            "r = run(); print('STATE', r.state, sorted(r.node_states.values()))",
            "r = run(); print('STATE', r.state, sorted(r.node_states.values()))",
            REDEFINE,
            "r = run(); print('STATE', r.state, r.node_states)",
            RESTORE,
            "r = run(); print('STATE', r.state, r.node_states)",
            "OFFSET = 1\nr = run(); print('STATE', r.state, r.node_states)",
        ]
    )
    client.execute()
    assert "STATE COMPLETE ['COMPLETE', 'COMPLETE', 'COMPLETE']" in _outputs(nb.cells[2])
    assert "STATE COMPLETE ['CACHED', 'CACHED', 'CACHED']" in _outputs(nb.cells[3])
    states = _executions(root / "metadata.sqlite")
    assert [s for _, s in states[:3]] == [COMPLETE] * 3  # first run: once per node
    assert [s for _, s in states[3:6]] == [CACHED] * 3
    assert dict(states[6:9]) == {"Producer": CACHED, "Doubler": COMPLETE, "Consumer": COMPLETE}  # redefined
    assert dict(states[9:12]) == {"Producer": CACHED, "Doubler": CACHED, "Consumer": CACHED}  # restored
    assert dict(states[12:15]) == {"Producer": CACHED, "Doubler": COMPLETE, "Consumer": COMPLETE}  # global changed
    answers = sorted(int(p.read_text()) for p in root.glob("Consumer/report/*/answer.txt"))
    assert answers == [42, 44, 84]


def test_a_failed_run_makes_its_cell_raise(tmp_path):
    nb, client = _notebook(
        [
            f"ROOT = {str(tmp_path)!r}",
            """
from headrace import OutputDict, Pipeline, component
from headrace.orchestrators import LocalDagRunner

@component
def Broken() -> OutputDict(n=int):
    raise ValueError("broken on purpose")

LocalDagRunner(quiet=True).run(Pipeline("fails", ROOT, [Broken()]))
print("NOT REACHED")
""",
        ]
    )
    with pytest.raises(CellExecutionError) as err:
        client.execute()
    assert "PipelineRunError" in str(err.value)
    assert "node 'Broken' failed: ValueError: broken on purpose" in str(err.value)
    assert "NOT REACHED" not in _outputs(nb.cells[1])


def test_interactive_context_runs_and_shows_components_in_a_notebook(tmp_path):
    nb, client = _notebook(
        [
            f"ROOT = {str(tmp_path)!r}",
            """
from headrace import InteractiveContext, OutputDict, component

@component
def Producer() -> OutputDict(n=int):
    print("producing")
    return {"n": 21}

@component
def Add(a: int, b: int) -> OutputDict(total=int):
    return {"total": a + b}

context = InteractiveContext(pipeline_root=ROOT)
producer = Producer()
context.run(producer)
""",
            "add = Add(a=producer.outputs['n'], b=producer.outputs['n'])\nresult = context.run(add)\nresult",
            "context.show(add.outputs['total'])",
            "print('VALUE', add.outputs['total'].get()[0].value, context.run(add).state)",
        ]
    )
    client.execute()
    assert "producing" in _outputs(nb.cells[1])
    html = "".join(str(o.get("data", {}).get("text/html", "")) for o in nb.cells[2].outputs)
    assert "Add" in html and "COMPLETE" in html
    shown = "".join(str(o.get("data", {}).get("text/html", "")) for o in nb.cells[3].outputs)
    assert "Integer" in shown and str(tmp_path) in shown
    assert "VALUE 42 CACHED" in _outputs(nb.cells[4])


def test_the_tfx_data_validation_steps_in_a_notebook_with_reports_inline(tmp_path):
    """TFX's tutorial flow, imports rewritten: InteractiveContext runs CsvExampleGen ->
    StatisticsGen -> SchemaGen -> ExampleValidator in the kernel; show() puts each report inline."""
    data = tmp_path / "data"
    data.mkdir()
    rows = [f"{i % 3},{['a', 'b', 'c'][i % 3]},{i * 0.5}" for i in range(300)]
    (data / "d.csv").write_text("label,kind,x\n" + "\n".join(rows) + "\n")
    nb, client = _notebook(
        [
            f"ROOT, DATA = {str(tmp_path / 'root')!r}, {str(data)!r}",
            """
from headrace.tfx import v1 as tfx
from headrace.tfx.orchestration.experimental.interactive.interactive_context import InteractiveContext

context = InteractiveContext(pipeline_root=ROOT)
example_gen = tfx.components.CsvExampleGen(input_base=DATA)
context.run(example_gen)
statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs['examples'])
context.run(statistics_gen)
""",
            "context.show(statistics_gen.outputs['statistics'])",
            """
schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs['statistics'], infer_feature_shape=False)
context.run(schema_gen)
example_validator = tfx.components.ExampleValidator(
    statistics=statistics_gen.outputs['statistics'], schema=schema_gen.outputs['schema'])
context.run(example_validator)
print('ANOMALIES', example_validator.outputs['anomalies'].get()[0].get_int_custom_property('anomaly_count'))
""",
            "context.show(example_validator.outputs['anomalies'])",
        ],
        timeout=300,
    )
    client.execute()
    shown = "".join(str(o.get("data", {}).get("text/html", "")) for o in nb.cells[2].outputs)
    assert "<iframe" in shown and "kind" in shown and "label" in shown  # the statistics report, inline
    assert "ANOMALIES 0" in _outputs(nb.cells[3])
    anomalies = "".join(str(o.get("data", {}).get("text/html", "")) for o in nb.cells[4].outputs)
    assert "<iframe" in anomalies and "No anomalies" in anomalies
