"""Pushed models for the tests: a real Pusher run that pushes a fake SavedModel (the Pusher copies
directories, it never loads one) of model 'penguin' under `<tmp>/serving`, its store `<tmp>/root`."""

from __future__ import annotations

from pathlib import Path

from headrace import Importer, LocalDagRunner, Pipeline
from headrace.components.serving.pusher import Pusher
from headrace.types.standard_artifacts import Model, ModelBlessing


def fake_saved_model(path: Path, tag: str) -> Path:
    (path / "variables").mkdir(parents=True)
    (path / "saved_model.pb").write_text(f"graph {tag}")
    (path / "variables" / "variables.index").write_text(f"weights {tag}")
    return path


def push_model(tmp: Path, tag: str, blessed: int | None, alias: str | None = None, promote: bool = False) -> str:
    """A run that pushes model `tag` of 'penguin', with a ModelBlessing saying `blessed` (None: no blessing),
    as `alias` when given."""
    model = Importer(source_uri=str(fake_saved_model(tmp / f"model-{tag}", tag)), artifact_type=Model).with_id("model")
    (tmp / f"blessing-{blessed}").mkdir(exist_ok=True)
    blessing = Importer(
        source_uri=str(tmp / f"blessing-{blessed}"),
        artifact_type=ModelBlessing,
        custom_properties={"blessed": blessed or 0},
    ).with_id("blessing")
    pusher = Pusher(
        model=model.outputs["result"],
        model_blessing=blessing.outputs["result"] if blessed is not None else None,
        push_destination={"filesystem": {"base_directory": str(tmp / "serving")}},
        custom_config={
            "model_name": "penguin",
            **({"alias": alias} if alias else {}),
            **({"promote": True} if promote else {}),
        },
    )
    nodes = [model, blessing, pusher] if blessed is not None else [model, pusher]
    pipeline = Pipeline(pipeline_name="penguin", pipeline_root=str(tmp / "root"), components=nodes)
    result = LocalDagRunner(quiet=True, raise_on_failure=False).run(pipeline)
    assert result.state == "COMPLETE", {n: o.error for n, o in result.nodes.items()}
    return result.run_id
