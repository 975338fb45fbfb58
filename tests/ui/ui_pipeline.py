"""The pipeline the UI tests run: small and fast, with what each page shows.

Make writes examples with a report.html (as headrace's components do), a stray HTML file headrace did not
write, and a symlink that leads out of the pipeline root; Train writes a Model (a stand-in SavedModel: the
Pusher copies folders, it never loads one) with training metrics and a value; Check prints and fails on
demand; Bless blesses the model and the Pusher pushes it as model 'ui-model'. Environment variables
steer it (read when the file loads): UI_TEST_PAYLOAD (text put in a parameter, properties, the log and
the error), UI_TEST_SLEEP (seconds Train and then Check sleep, so a run is seen in progress node by
node), UI_TEST_FAIL=1 (Check raises).
"""

from __future__ import annotations

import os
import time

from headrace import InputArtifact, OutputArtifact, OutputDict, Parameter, Pipeline, component
from headrace.components.serving.pusher import Pusher
from headrace.types import standard_artifacts

PAYLOAD = os.environ.get("UI_TEST_PAYLOAD", "plain")
SLEEP = float(os.environ.get("UI_TEST_SLEEP", "0"))
FAIL = os.environ.get("UI_TEST_FAIL") == "1"


@component
def Make(examples: OutputArtifact[standard_artifacts.Examples], note: Parameter[str] = ""):
    """Examples with a report, a stray HTML file and a symlink out of the root."""
    with open(os.path.join(examples.uri, "data.csv"), "w") as f:
        f.write("x,y\n1,2\n")
    with open(os.path.join(examples.uri, "report.html"), "w") as f:
        f.write("<!doctype html><html><body><h1 id='report-title'>Examples report</h1></body></html>")
    with open(os.path.join(examples.uri, "evil.html"), "w") as f:
        f.write("<script>document.title = 'evil ran'; parent.document.title = 'evil ran';</script>")
    os.symlink("/etc/passwd", os.path.join(examples.uri, "passwd"))
    examples.set_custom_property("note", note)
    print(f"made examples; note: {note}")


@component
def Train(
    examples: InputArtifact[standard_artifacts.Examples],
    model: OutputArtifact[standard_artifacts.Model],
    sleep: Parameter[float] = 0.0,
) -> OutputDict(accuracy=float):
    """A model with training metrics, after `sleep` seconds."""
    time.sleep(sleep)
    with open(os.path.join(model.uri, "model.txt"), "w") as f:
        f.write("threshold 0.5\n")
    with open(os.path.join(model.uri, "saved_model.pb"), "w") as f:
        f.write("a stand-in\n")
    model.set_custom_property("metric:accuracy", 0.875)
    model.set_custom_property("metric:loss", 0.25)
    return {"accuracy": 0.875}


@component
def Check(
    model: InputArtifact[standard_artifacts.Model],
    message: Parameter[str] = "",
    fail: Parameter[int] = 0,
    sleep: Parameter[float] = 0.0,
):
    """Prints `message` and, after `sleep` seconds, raises it if `fail`."""
    print(f"checking: {message}")
    time.sleep(sleep)
    if fail:
        raise ValueError(f"check failed: {message}")


@component
def Bless(model: InputArtifact[standard_artifacts.Model], blessing: OutputArtifact[standard_artifacts.ModelBlessing]):
    """Blesses the model, as an Evaluator would."""
    blessing.set_custom_property("blessed", 1)
    open(os.path.join(blessing.uri, "BLESSED"), "w").close()


def create_pipeline(pipeline_root: str | None = None) -> Pipeline:
    root = pipeline_root or os.path.join(os.environ["HEADRACE_HOME"], "ui-test")
    make = Make(note=PAYLOAD)
    train = Train(examples=make.outputs["examples"], sleep=SLEEP)
    check = Check(model=train.outputs["model"], message=PAYLOAD, fail=int(FAIL), sleep=SLEEP)
    bless = Bless(model=train.outputs["model"])
    pusher = Pusher(
        model=train.outputs["model"],
        model_blessing=bless.outputs["blessing"],
        push_destination={"filesystem": {"base_directory": os.path.join(root, "serving")}},
        custom_config={"model_name": "ui-model"},
    )
    return Pipeline("ui-test", root, [make, train, check, bless, pusher], enable_cache=True)
