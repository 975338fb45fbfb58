"""The example pipeline: the three authoring styles, end to end, on small synthetic data.

    headrace run pipelines/hello_pipeline.py

MakeExamples (function) -> HelloComponent (custom spec + executor) -> Train (function)
-> Validate (function, returning a value artifact), with an Importer for the label names.
"""

from __future__ import annotations

import csv
import json
import os
import random

from headrace import (
    BaseComponent,
    BaseExecutor,
    ChannelParameter,
    ComponentSpec,
    ExecutionParameter,
    ExecutorClassSpec,
    Importer,
    InputArtifact,
    OutputArtifact,
    OutputDict,
    Parameter,
    Pipeline,
    component,
)
from headrace.types import standard_artifacts

PIPELINE_NAME = "hello"
LABELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "labels")


@component
def MakeExamples(
    examples: OutputArtifact[standard_artifacts.Examples], rows: Parameter[int] = 200, seed: Parameter[int] = 7
):
    """Writes a train and an eval split of (x, y) rows where y = 1 when x > 0.5."""
    rng = random.Random(seed)
    for split, n in (("train", rows), ("eval", rows // 4)):
        os.makedirs(os.path.join(examples.uri, f"Split-{split}"), exist_ok=True)
        with open(os.path.join(examples.uri, f"Split-{split}", "data.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["x", "y"])
            for _ in range(n):
                x = rng.random()
                w.writerow([f"{x:.4f}", int(x > 0.5)])
    examples.split_names = json.dumps(["train", "eval"])
    examples.payload_format = "FORMAT_CSV"


class HelloComponentSpec(ComponentSpec):
    """Copies examples, tagging them with a name (TFX's HelloComponent)."""

    INPUTS = {"input_data": ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS = {"output_data": ChannelParameter(type=standard_artifacts.Examples)}
    PARAMETERS = {"name": ExecutionParameter(type=str)}


class HelloExecutor(BaseExecutor):
    """Copies every split and records the name as a custom property."""

    def Do(self, input_dict, output_dict, exec_properties):
        src, dst = input_dict["input_data"][0], output_dict["output_data"][0]
        for split in json.loads(src.split_names):
            os.makedirs(os.path.join(dst.uri, f"Split-{split}"), exist_ok=True)
            with open(os.path.join(src.uri, f"Split-{split}", "data.csv")) as fin:
                data = fin.read()
            with open(os.path.join(dst.uri, f"Split-{split}", "data.csv"), "w") as fout:
                fout.write(data)
        dst.split_names = src.split_names
        dst.payload_format = src.payload_format
        dst.set_custom_property("hello", exec_properties["name"])


class HelloComponent(BaseComponent):
    SPEC_CLASS = HelloComponentSpec
    EXECUTOR_SPEC = ExecutorClassSpec(HelloExecutor)

    def __init__(self, input_data, name=None):
        super().__init__(spec=HelloComponentSpec(input_data=input_data, name=name))


def _rows(examples, split):
    with open(os.path.join(examples.uri, f"Split-{split}", "data.csv")) as f:
        return [(float(r["x"]), int(r["y"])) for r in csv.DictReader(f)]


@component
def Train(
    examples: InputArtifact[standard_artifacts.Examples],
    labels: InputArtifact[standard_artifacts.ExternalArtifact],
    model: OutputArtifact[standard_artifacts.Model],
):
    """Fits a one-feature threshold classifier (the best cut on the train split)."""
    rows = sorted(_rows(examples, "train"))
    best = max(((sum((x > t) == bool(y) for x, y in rows), t) for t, _ in rows))
    with open(os.path.join(labels.uri, "labels.json")) as f:
        names = json.load(f)
    with open(os.path.join(model.uri, "model.json"), "w") as f:
        json.dump({"threshold": best[1], "labels": names}, f)


@component
def Validate(
    model: InputArtifact[standard_artifacts.Model],
    examples: InputArtifact[standard_artifacts.Examples],
    blessing: OutputArtifact[standard_artifacts.ModelBlessing],
    accuracy_threshold: Parameter[float] = 0.9,
) -> OutputDict(accuracy=float):
    """Scores the model on the eval split and blesses it above the threshold."""
    with open(os.path.join(model.uri, "model.json")) as f:
        threshold = json.load(f)["threshold"]
    rows = _rows(examples, "eval")
    accuracy = sum((x > threshold) == bool(y) for x, y in rows) / len(rows)
    blessed = accuracy >= accuracy_threshold
    blessing.set_custom_property("blessed", 1 if blessed else 0)
    blessing.set_custom_property("current_model_id", model.id)
    open(os.path.join(blessing.uri, "BLESSED" if blessed else "NOT_BLESSED"), "w").close()
    return {"accuracy": accuracy}


def create_pipeline(pipeline_root: str | None = None, enable_cache: bool = True) -> Pipeline:
    """The hello pipeline; outputs and the SQLite store go under `pipeline_root`
    (default: headrace_runs/hello, or $HEADRACE_HOME/hello)."""
    root = pipeline_root or os.path.join(os.environ.get("HEADRACE_HOME", "headrace_runs"), PIPELINE_NAME)
    examples = MakeExamples(rows=400)
    hello = HelloComponent(input_data=examples.outputs["examples"], name="headrace")
    labels = Importer(source_uri=LABELS_DIR, artifact_type=standard_artifacts.ExternalArtifact).with_id("labels")
    train = Train(examples=hello.outputs["output_data"], labels=labels.outputs["result"])
    validate = Validate(model=train.outputs["model"], examples=hello.outputs["output_data"], accuracy_threshold=0.8)
    return Pipeline(PIPELINE_NAME, root, [examples, hello, labels, train, validate], enable_cache=enable_cache)
