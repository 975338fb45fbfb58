"""TFX's import side effects that TFX code relies on, and nothing heavier (issue 18, point 2).

Importing TFX imports `absl.logging` (and with it `absl.flags`) and `urllib.request`, so TFX
code that does `import absl` / `import urllib` and then reaches the submodule as an attribute works. Each
snippet below is TFX's own, with only its `tfx` imports rewritten to `headrace.tfx`; each runs in a fresh
interpreter, where nothing else has imported those submodules.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

# What `import headrace.tfx` must not load (tests/test_import_rules.py's list for `import headrace`, and
# what the [tfx] extra brings beside it).
HEAVY = (
    "tensorflow",
    "apache_beam",
    "tensorflow_data_validation",
    "kfp",
    "airflow",
    "docker",
    "tensorflow_model_analysis",
    "tensorflow_transform",
    "tf_keras",
    "keras",
    "tfx_bsl",
)


def run_snippet(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc


# docs/tutorials/tfx/components_keras.ipynb (and components.ipynb, recommenders.ipynb): the imports cell
# without TensorFlow, TFMA and the notebook magic, then the logging line and the download of the data file
# (DATA_PATH is the tutorial's variable; here a local file instead of GitHub's raw URL).
COMPONENTS_KERAS_TUTORIAL = """
import os
import pprint
import tempfile
import urllib
import sys

import absl
pp = pprint.PrettyPrinter()

from headrace.tfx import v1 as tfx
from headrace.tfx.orchestration.experimental.interactive.interactive_context import InteractiveContext

# Set up logging.
absl.logging.set_verbosity(absl.logging.INFO)

DATA_PATH = sys.argv[1]
_data_root = tempfile.mkdtemp(prefix='tfx-data')
_data_filepath = os.path.join(_data_root, "data.csv")
urllib.request.urlretrieve(DATA_PATH, _data_filepath)
print(absl.logging.get_verbosity(), open(_data_filepath).read())
"""


def test_components_keras_tutorial_sets_absl_verbosity_and_downloads_with_urllib(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    proc = run_snippet(COMPONENTS_KERAS_TUTORIAL, data.as_uri())
    verbosity, _, content = proc.stdout.partition(" ")
    assert int(verbosity) == 0  # absl.logging.INFO
    assert content.strip() == "a,b\n1,2"


# tfx/examples/penguin/penguin_pipeline_local.py (TFX 1.16): the flag definition and the `__main__` block's
# first lines (`absl.flags` is reached through `import absl`, as the example does).
PENGUIN_PIPELINE_LOCAL_MAIN = """
import sys

import absl
from absl import flags
from headrace.tfx import v1 as tfx
from headrace.tfx.utils import proto_utils

flags.DEFINE_enum('model_framework', 'keras',
                  ['keras', 'flax_experimental', 'tfdf_experimental'],
                  'The modeling framework.')

if __name__ == '__main__':
  absl.logging.set_verbosity(absl.logging.INFO)
  absl.flags.FLAGS(sys.argv)

  _pipeline_name = f'penguin_local_{flags.FLAGS.model_framework}'
  print(_pipeline_name)
"""


def test_penguin_pipeline_local_main_parses_flags_through_absl():
    proc = run_snippet(PENGUIN_PIPELINE_LOCAL_MAIN, "--model_framework=flax_experimental")
    assert proc.stdout.strip() == "penguin_local_flax_experimental"


# tfx/examples/custom_components/hello_world/example/taxi_pipeline_hello.py (TFX 1.16): `import absl` with TFX's
# pre-v1 import paths, then `absl.logging.set_verbosity` in `__main__` (the example's own component package
# and the pipeline it builds are left out: tests/tfx/test_hello_world.py runs those).
HELLO_MAIN = """
import os

import absl
from headrace.tfx.components import CsvExampleGen
from headrace.tfx.components import StatisticsGen
from headrace.tfx.orchestration import metadata
from headrace.tfx.orchestration import pipeline
from headrace.tfx.orchestration.beam.beam_dag_runner import BeamDagRunner

_pipeline_name = 'taxi_hello_pipeline'

if __name__ == '__main__':
  absl.logging.set_verbosity(absl.logging.INFO)
  absl.logging.info('pipeline %s', _pipeline_name)
"""


def test_hello_world_main_sets_absl_verbosity():
    proc = run_snippet(HELLO_MAIN)
    assert "pipeline taxi_hello_pipeline" in proc.stderr  # absl's handler, at INFO


LIGHT = """
import json, sys
{statement}
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize(
    "statement",
    [
        "import headrace.tfx",
        "from headrace.tfx import v1 as tfx; tfx.dsl, tfx.components, tfx.orchestration, tfx.types, tfx.proto",
        "from headrace.tfx.orchestration.experimental.interactive.interactive_context import InteractiveContext",
    ],
)
def test_importing_headrace_tfx_leaves_absl_and_urllib_behind_and_nothing_heavy(statement):
    modules = set(json.loads(run_snippet(LIGHT.format(statement=statement)).stdout))
    assert {"absl.logging", "absl.flags", "urllib.request"} <= modules
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == [], f"{statement!r} loaded heavy modules: {heavy}"
