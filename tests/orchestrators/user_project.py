"""A user's project as most people lay one out: a pipeline file that imports its components from a
sibling module and from a local package, neither installed.

    <folder>/pipeline.py              the pipeline: `from my_components import ...`, `from myproject... import ...`
    <folder>/my_components.py         a custom artifact type, a @component, an executor class and its component
    <folder>/myproject/__init__.py
    <folder>/myproject/helpers.py     a helper and a constant the package's component uses
    <folder>/myproject/components.py  a @component reading both custom artifacts

Count writes a Tally (count = n * FACTOR), Stamp's executor class (whose Do names no artifact class)
writes a Tally one higher and calls the input's own method, Total adds both and OFFSET. With the
defaults: 6, 7, 6 + 7 + 100 = 113, and ANSWER.txt holds 'tally of 6 / 113'.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

MY_COMPONENTS = '''
"""The user's components, in a file beside the pipeline."""
import os
import sys

from headrace import BaseComponent, BaseExecutor, ChannelParameter, ComponentSpec, ExecutorClassSpec
from headrace import OutputArtifact, Parameter, component
from headrace.types.artifact import Artifact, Property, PropertyType

FACTOR = 3


class Tally(Artifact):
    TYPE_NAME = "Tally"
    PROPERTIES = {"count": Property(PropertyType.INT)}

    def describe(self):
        return f"tally of {self.count}"


def scale(n):
    return n * FACTOR


@component
def Count(tally: OutputArtifact[Tally], n: Parameter[int] = 2):
    tally.count = scale(n)
    tally.set_custom_property("python", sys.executable)


class StampExecutor(BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties):
        (tally,), (stamp,) = input_dict["tally"], output_dict["stamp"]
        assert type(tally).__name__ == "Tally" and type(stamp).__name__ == "Tally", (type(tally), type(stamp))
        stamp.count = tally.count + 1
        with open(os.path.join(stamp.uri, "stamp.txt"), "w") as f:
            f.write(tally.describe())


class StampSpec(ComponentSpec):
    INPUTS = {"tally": ChannelParameter(type=Tally)}
    OUTPUTS = {"stamp": ChannelParameter(type=Tally)}


class Stamp(BaseComponent):
    SPEC_CLASS = StampSpec
    EXECUTOR_SPEC = ExecutorClassSpec(StampExecutor)

    def __init__(self, tally):
        super().__init__(spec=StampSpec(tally=tally))
'''

HELPERS = """
OFFSET = 100


def offset():
    return OFFSET
"""

PACKAGE_COMPONENTS = """
import os

from headrace import InputArtifact, OutputArtifact, component
from headrace.types import standard_artifacts
from my_components import Tally
from myproject import helpers


@component
def Total(tally: InputArtifact[Tally], stamp: InputArtifact[Tally],
          answer: OutputArtifact[standard_artifacts.ExternalArtifact]):
    with open(os.path.join(stamp.uri, "stamp.txt")) as f:
        stamped = f.read()
    with open(os.path.join(answer.uri, "ANSWER.txt"), "w") as f:
        f.write(f"{stamped} / {tally.count + stamp.count + helpers.offset()}")
"""

PIPELINE = """
import os

from headrace import Pipeline
from my_components import Count, Stamp
from myproject.components import Total


def create_pipeline(root=os.environ.get("PROJECT_ROOT", "root"), image=None):
    count = Count()
    stamp = Stamp(tally=count.outputs["tally"])
    total = Total(tally=count.outputs["tally"], stamp=stamp.outputs["stamp"])
    if image:
        for node in (count, stamp, total):
            node.with_image(image)
    return Pipeline("user_project", root, [count, stamp, total])


pipeline = create_pipeline(image=os.environ.get("PROJECT_IMAGE") or None)
"""

ANSWER = "tally of 6 / 113"


def write_project(folder: Path) -> Path:
    """Writes the project into `folder`; returns the pipeline file."""
    (folder / "myproject").mkdir(parents=True, exist_ok=True)
    files = {
        "my_components.py": MY_COMPONENTS,
        "myproject/__init__.py": "",
        "myproject/helpers.py": HELPERS,
        "myproject/components.py": PACKAGE_COMPONENTS,
        "pipeline.py": PIPELINE,
    }
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip())
    return folder / "pipeline.py"
