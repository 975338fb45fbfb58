"""A function component the container tests run in-process and inside the runtime image. It lives in
its own module, so what travels into the image (by value: the tests' modules are not installed) does
not drag the test module's imports along (pytest is not in the image)."""

from __future__ import annotations

import os
import sys

from headrace import OutputArtifact, OutputDict, Parameter, component
from headrace.types import standard_artifacts


@component
def Tokens(
    text: Parameter[str], repeat: Parameter[int], report: OutputArtifact[standard_artifacts.ExternalArtifact]
) -> OutputDict(count=int, python=str):
    words = (text + " ") * repeat
    with open(os.path.join(report.uri, "words.txt"), "w") as f:
        f.write(words)
    print(f"counted {len(words.split())} words")
    return {"count": len(words.split()), "python": sys.executable}
