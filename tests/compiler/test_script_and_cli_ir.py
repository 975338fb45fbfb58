"""A pipeline file compiles to the same IR whether run as a script or loaded by the CLI, so both
ways of running it share cache entries. (The pickled payload differs -- it records the module
name the code was defined under -- and is not part of any cache key.)"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from headrace.cli.loader import load_pipeline
from headrace.compiler import compile_pipeline

SCRIPT = """
from headrace import OutputDict, Pipeline, component

@component
def Answer() -> OutputDict(n=int):
    return {'n': 42}

def create_pipeline():
    return Pipeline('same_ir', '/tmp/same-ir-root', [Answer()])

if __name__ == '__main__':
    from headrace.compiler import compile_pipeline
    print(compile_pipeline(create_pipeline()).dump())
"""


def test_script_and_cli_compile_to_the_same_ir(tmp_path):
    path = tmp_path / "answer_pipeline.py"
    path.write_text(textwrap.dedent(SCRIPT))
    as_script = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=True).stdout
    as_loaded = compile_pipeline(load_pipeline(str(path))).dump()
    script_ir, loaded_ir = json.loads(as_script), json.loads(as_loaded)
    for ir in (script_ir, loaded_ir):
        payload = ir["nodes"][0]["executor"].pop("payload")
        assert payload["format"] == "cloudpickle" and "def Answer()" in payload["source"]
    assert script_ir == loaded_ir
    assert loaded_ir["nodes"][0]["component_type"] == "answer_pipeline.Answer"
    assert loaded_ir["nodes"][0]["executor"]["module"] == "answer_pipeline"
