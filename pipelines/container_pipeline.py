"""A container-component pipeline for compiling (the IR and Kubeflow golden files use it): its
'headrace/runtime' image with a `download` module is a placeholder no build here provides, so it does
not run. pipelines/three_styles_pipeline.py is the runnable container example.

headrace compile pipelines/container_pipeline.py -o container.json
"""

from __future__ import annotations

import os

from headrace import Pipeline
from headrace.dsl.container_component import create_container_component
from headrace.dsl.placeholders import InputUriPlaceholder, InputValuePlaceholder, OutputUriPlaceholder
from headrace.types import standard_artifacts

Download = create_container_component(
    name="Download",
    image="headrace/runtime:latest",
    command=[
        "python3",
        "-m",
        "download",
        "--rows",
        InputValuePlaceholder("rows"),
        "--out",
        OutputUriPlaceholder("examples"),
    ],
    outputs={"examples": standard_artifacts.Examples},
    parameters={"rows": int},
)

Count = create_container_component(
    name="Count",
    image="headrace/runtime:latest",
    command=[
        "sh",
        "-c",
        "wc -l $0/data.csv > $1/count",
        InputUriPlaceholder("examples"),
        OutputUriPlaceholder("count"),
    ],
    inputs={"examples": standard_artifacts.Examples},
    outputs={"count": standard_artifacts.ExternalArtifact},
)


def create_pipeline(pipeline_root: str | None = None) -> Pipeline:
    """Two container steps."""
    root = pipeline_root or os.path.join(os.environ.get("HEADRACE_HOME", "headrace_runs"), "containers")
    download = Download(rows=100)
    count = Count(examples=download.outputs["examples"])
    return Pipeline("containers", root, [download, count])
