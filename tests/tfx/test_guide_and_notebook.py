"""The function-component guide's MyTrainerComponent, and the penguin_tfdv notebook's metadata cells,
run against a store headrace wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypedDict

import pytest
from ported.guide_custom_function_component import my_trainer_component as guide

from headrace.tfx import v1 as tfx
from headrace.tfx.dsl.component.experimental.decorators import component
from headrace.tfx.orchestration.experimental.interactive import standard_visualizations, visualizations
from headrace.tfx.orchestration.metadata import Metadata
from headrace.tfx.orchestration.portable.mlmd import execution_lib
from headrace.tfx.types import standard_component_specs


# -- the guide fragment's undefined helpers, filled in around it --------------------------------------
class _Model:
    def __init__(self, records: list[str], num_iterations: int, dropout: float):
        self.loss = 1.0 / (num_iterations * len(records))
        self.accuracy = 1.0 - dropout
        self.text = f"{len(records)} records, {num_iterations} iterations, dropout {dropout}"

    def write_to(self, uri: str) -> None:
        Path(uri, "model.txt").write_text(self.text)


def read_examples(uri: str) -> list[str]:
    return [line for p in sorted(Path(uri).rglob("*.csv")) for line in p.read_text().splitlines()[1:]]


def train_model(records: list[str], num_iterations: int, dropout: float) -> _Model:
    return _Model(records, num_iterations, dropout)


guide.read_examples = read_examples
guide.train_model = train_model


class DropoutOut(TypedDict):
    dropout: float


@component
def DropoutChooser() -> DropoutOut:
    return {"dropout": 0.25}


def _examples(root: Path) -> Path:
    (root / "Split-train").mkdir(parents=True)
    (root / "Split-train" / "data.csv").write_text("x\n1\n2\n3\n4\n")
    return root


def _run(tmp_path: Path, name: str):
    example_gen = tfx.dsl.Importer(
        source_uri=str(_examples(tmp_path / "data")),
        artifact_type=tfx.types.standard_artifacts.Examples,
        properties={"split_names": '["train"]'},
    ).with_id("ExampleGen")
    other_component = DropoutChooser()
    # The guide's usage, with its one fix: the argument is training_data (the guide says examples=).
    trainer = guide.MyTrainerComponent(
        training_data=example_gen.outputs["result"],
        dropout_hyperparameter=other_component.outputs["dropout"],
        num_iterations=1000,
    )
    db = str(tmp_path / "metadata.sqlite")
    pipeline = tfx.dsl.Pipeline(
        pipeline_name=name,
        pipeline_root=str(tmp_path / "root"),
        components=[trainer],
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(db),
    )
    tfx.orchestration.LocalDagRunner().run(pipeline)
    return db


def test_guide_my_trainer_component_runs_in_a_pipeline(tmp_path):
    db = _run(tmp_path, "guide")
    with Metadata(tfx.orchestration.metadata.sqlite_metadata_connection_config(db)) as m:
        ctx = m.store.get_context_by_type_and_name("node", "guide.MyTrainerComponent")
        [ex] = m.store.get_executions_by_context(ctx.id)
        out = execution_lib.get_output_artifacts(m, ex.id)
    assert sorted(out) == ["accuracy", "loss", "model"]
    assert out["loss"][0].read() == pytest.approx(1.0 / 4000)
    assert out["accuracy"][0].value == pytest.approx(0.75)
    assert Path(out["model"][0].uri, "model.txt").read_text() == "4 records, 1000 iterations, dropout 0.25"


# -- penguin_tfdv notebook cells 28 and 30, verbatim helpers -----------------------------------------
def get_latest_artifacts(metadata, pipeline_name, component_id):
    """Output artifacts of the latest run of the component."""
    context = metadata.store.get_context_by_type_and_name("node", f"{pipeline_name}.{component_id}")
    executions = metadata.store.get_executions_by_context(context.id)
    latest_execution = max(executions, key=lambda e: e.last_update_time_since_epoch)
    return execution_lib.get_output_artifacts(metadata, latest_execution.id)


def visualize_artifacts(artifacts):
    """Visualizes artifacts using standard visualization modules."""
    for artifact in artifacts:
        visualization = visualizations.get_registry().get_visualization(artifact.type_name)
        if visualization:
            visualization.display(artifact)


def test_notebook_metadata_cells_read_back_headrace_artifacts(tmp_path, capsys):
    db = _run(tmp_path, "penguin")
    standard_visualizations.register_standard_visualizations()
    metadata_connection_config = tfx.orchestration.metadata.sqlite_metadata_connection_config(db)
    with Metadata(metadata_connection_config) as metadata_handler:
        trainer_output = get_latest_artifacts(metadata_handler, "penguin", "MyTrainerComponent")
        examples_output = get_latest_artifacts(metadata_handler, "penguin", "ExampleGen")
    examples = examples_output["result"]
    model = trainer_output["model"]
    assert [type(a) for a in examples] == [tfx.types.standard_artifacts.Examples]
    assert json.loads(examples[0].split_names) == ["train"]
    assert type(model[0]) is tfx.types.standard_artifacts.Model
    assert type(trainer_output["accuracy"][0]) is tfx.types.standard_artifacts.Float
    assert standard_component_specs.STATISTICS_KEY == "statistics"

    html = visualizations.get_registry().get_visualization("Examples").display(examples[0])
    assert "split_names" in html and examples[0].uri in html and "LIVE" in html
    assert "0.75" in trainer_output["accuracy"][0]._repr_html_()
    visualize_artifacts(examples + model)  # the notebook's loop runs (IPython prints outside a notebook)
    with pytest.raises(RuntimeError, match="not in enter state"):
        Metadata(metadata_connection_config).store
