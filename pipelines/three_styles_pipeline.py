"""The three authoring styles in one pipeline, which every orchestrator runs with the same outputs:

    MakeRows (a function) -> Tag (a fully custom component) -> Count (a container component)

    headrace run pipelines/three_styles_pipeline.py                       # LocalDagRunner
    headrace run pipelines/three_styles_pipeline.py --runner beam         # BeamDagRunner
    headrace compile pipelines/three_styles_pipeline.py --target kubeflow -o three_styles.yaml
    headrace compile pipelines/three_styles_pipeline.py --target airflow -o dags/
    airflow dags test three-styles                                        # with dags/ as the DAG folder

Count runs in headrace's runtime image (`make image` builds it; it has sh and grep).
"""

from __future__ import annotations

import json
import os

from headrace import (
    BaseComponent,
    BaseExecutor,
    ChannelParameter,
    ComponentSpec,
    ExecutionParameter,
    ExecutorClassSpec,
    OutputArtifact,
    OutputDict,
    Parameter,
    Pipeline,
    component,
)
from headrace.dsl.container_component import create_container_component
from headrace.dsl.placeholders import InputUriPlaceholder, InputValuePlaceholder, OutputUriPlaceholder
from headrace.types import standard_artifacts

IMAGE = os.environ.get("HEADRACE_IMAGE", "headrace-runtime:latest")


@component
def MakeRows(examples: OutputArtifact[standard_artifacts.Examples], rows: Parameter[int] = 4) -> OutputDict(n=int):
    """Writes `rows` numbered lines."""
    with open(os.path.join(examples.uri, "rows.txt"), "w") as f:
        f.write("".join(f"row {i}\n" for i in range(rows)))
    examples.split_names = json.dumps(["train"])
    return {"n": rows}


class TagSpec(ComponentSpec):
    INPUTS = {"input_data": ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS = {"output_data": ChannelParameter(type=standard_artifacts.Examples)}
    PARAMETERS = {"name": ExecutionParameter(type=str)}


class TagExecutor(BaseExecutor):
    """Renames every 'row' to the given name."""

    def Do(self, input_dict, output_dict, exec_properties):
        src, dst = input_dict["input_data"][0], output_dict["output_data"][0]
        with open(os.path.join(src.uri, "rows.txt")) as f:
            rows = f.read()
        with open(os.path.join(dst.uri, "rows.txt"), "w") as f:
            f.write(rows.replace("row", exec_properties["name"]))
        dst.split_names = src.split_names
        dst.set_custom_property("tagged", 1)  # custom properties travel with the artifact on every runner


class Tag(BaseComponent):
    SPEC_CLASS = TagSpec
    EXECUTOR_SPEC = ExecutorClassSpec(TagExecutor)

    def __init__(self, input_data, name: str):
        super().__init__(spec=TagSpec(input_data=input_data, name=name))


Count = create_container_component(
    name="Count",
    image=IMAGE,
    command=[
        "sh",
        "-c",
        'mkdir -p "$2" && grep -c "$0" "$1/rows.txt" > "$2/count"',
        InputValuePlaceholder("word"),
        InputUriPlaceholder("examples"),
        OutputUriPlaceholder("count"),
    ],
    inputs={"examples": standard_artifacts.Examples},
    outputs={"count": standard_artifacts.ExternalArtifact},
    parameters={"word": str},
)


def create_pipeline(
    pipeline_root: str | None = None, enable_cache: bool = True, with_container: bool = True
) -> Pipeline:
    """MakeRows -> Tag -> Count (`with_container=False` stops at Tag)."""
    root = pipeline_root or os.path.join(os.environ.get("HEADRACE_HOME", "headrace_runs"), "three-styles")
    rows = MakeRows(rows=4)
    tag = Tag(input_data=rows.outputs["examples"], name="item")
    nodes = [rows, tag]
    if with_container:
        nodes.append(Count(examples=tag.outputs["output_data"], word="item"))
    return Pipeline("three-styles", root, nodes, enable_cache=enable_cache)
