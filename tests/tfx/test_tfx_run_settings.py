"""TFX's forms of runtime parameters and exit handlers, through `headrace.tfx` import paths."""

from __future__ import annotations

import json

from headrace.tfx import v1 as tfx
from headrace.tfx.orchestration import data_types


@tfx.orchestration.experimental.exit_handler
def record_status(final_status: tfx.dsl.components.Parameter[str], path: tfx.dsl.components.Parameter[str]):
    with open(path, "w") as f:
        f.write(final_status)


@tfx.dsl.components.component
def trainer(num_steps: tfx.dsl.components.Parameter[int], path: tfx.dsl.components.Parameter[str]):
    with open(path, "w") as f:
        f.write(str(num_steps))


def test_tfx_exit_handler_and_runtime_parameter_run_locally(tmp_path):
    steps = data_types.RuntimeParameter(name="num-steps", default=100, ptype=int)
    assert isinstance(steps, tfx.dsl.experimental.RuntimeParameter)
    node = trainer(num_steps=steps, path=str(tmp_path / "steps"))
    pipeline = tfx.dsl.Pipeline(pipeline_name="tfx-exit", pipeline_root=str(tmp_path / "root"), components=[node])
    handler = record_status(final_status=tfx.orchestration.experimental.FinalStatusStr(), path=str(tmp_path / "s"))
    runner = tfx.orchestration.LocalDagRunner()
    runner.set_exit_handler([handler])  # TFX's form: a list of one
    runner.run(pipeline)
    assert (tmp_path / "steps").read_text() == "100"
    status = json.loads((tmp_path / "s").read_text())
    assert status["state"] == "SUCCEEDED" and status["pipelineTaskName"] == "record_status"
