"""`headrace[tfx]`: what TFX code imports beside `tfx`, pinned with the lock (issue 18, point 1).

TFX's pipelines build their EvalConfig with `import tensorflow_model_analysis as tfma`, their module files
import TensorFlow Transform and tfx-bsl; under TFX those are installed because TFX depends on them. The
extra brings them at the lock's versions; `make setup` (and so `make test`) installs headrace with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]


def _extra(name: str) -> list[Requirement]:
    requirements = [Requirement(r) for r in metadata.requires("headrace") or []]
    return [r for r in requirements if r.marker is not None and r.marker.evaluate({"extra": name})]


def _core() -> list[Requirement]:
    return [Requirement(r) for r in metadata.requires("headrace") or [] if "extra ==" not in r]


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements" / "lock.txt").read_text().splitlines():
        name, sep, version = line.partition("==")
        if sep and not line.startswith((" ", "#")):
            pins[name.strip().lower()] = version.strip()
    return pins


def test_the_tfx_extra_is_installed_at_the_locks_versions():
    tfx_extra = _extra("tfx")
    names = {r.name.lower() for r in tfx_extra}
    assert {"tensorflow-model-analysis", "tf-keras", "tensorflow-transform", "tensorflow", "tfx-bsl"} <= names
    lock = _lock()
    for requirement in tfx_extra:
        installed = metadata.version(requirement.name)
        assert requirement.specifier.contains(installed, prereleases=True), (requirement, installed)
        assert lock[requirement.name.lower()] == installed, f"{requirement.name} is not at the lock's version"


def test_the_tfx_extra_stays_out_of_the_core_and_all():
    heavy = {"tensorflow-model-analysis", "tensorflow-transform", "tf-keras", "tensorflow"}
    assert not heavy & {r.name.lower() for r in _core()}
    assert "tensorflow-model-analysis" not in {r.name.lower() for r in _extra("all")}


def test_readme_and_migration_guide_give_the_install_line():
    for doc in ("README.md", "docs/MIGRATING_FROM_TFX.md"):
        assert "TFX users: `pip install headrace[tfx]`" in (REPO / doc).read_text(), doc


# The imports of tfx/examples/penguin/penguin_pipeline_local.py and penguin_utils_base.py (TFX 1.16), then
# docs/guide/evaluator.md's EvalConfig, Resolver and Evaluator, whose elided imports ("...") are TFX's v1
# paths; its `examples_gen` and `trainer` are the penguin_simple tutorial's. Only `tfx` imports are rewritten;
# headrace compiles the pipeline to its IR (nothing is trained).
PENGUIN_EVALUATOR = """
import os
import sys

import absl
from absl import flags
import tensorflow_model_analysis as tfma
from headrace.tfx import v1 as tfx
from headrace.tfx.utils import proto_utils

# penguin_utils_base.py
from absl import logging
import tensorflow as tf
import tensorflow_transform as tft
from tfx_bsl.public import tfxio

# docs/guide/evaluator.md's "..."
from headrace.tfx.v1 import dsl
from headrace.tfx.v1.components import Evaluator
from headrace.tfx.v1.dsl import Channel, Resolver
from headrace.tfx.v1.types.standard_artifacts import Model, ModelBlessing

root = sys.argv[1]
data_root, module_file = os.path.join(root, 'data'), os.path.join(root, 'penguin_utils.py')
examples_gen = tfx.components.CsvExampleGen(input_base=data_root)
trainer = tfx.components.Trainer(
    module_file=module_file,
    examples=examples_gen.outputs['examples'],
    train_args=tfx.proto.TrainArgs(num_steps=100),
    eval_args=tfx.proto.EvalArgs(num_steps=5))

# For TFMA evaluation

eval_config = tfma.EvalConfig(
    model_specs=[
        # This assumes a serving model with signature 'serving_default'. If
        # using a TFLite model, then you must set model_type='tf_lite'.
        tfma.ModelSpec(label_key='<label_key>')
    ],
    metrics_specs=[
        tfma.MetricsSpec(
            # The metrics added here are in addition to those saved with the
            # model (assuming either a keras model or EvalSavedModel is used).
            # Any metrics added into the saved model (for example using
            # model.compile(..., metrics=[...]), etc) will be computed
            # automatically.
            metrics=[
                tfma.MetricConfig(class_name='ExampleCount'),
                tfma.MetricConfig(
                    class_name='BinaryAccuracy',
                    threshold=tfma.MetricThreshold(
                        value_threshold=tfma.GenericValueThreshold(
                            lower_bound={'value': 0.5}),
                        change_threshold=tfma.GenericChangeThreshold(
                            direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                            absolute={'value': -1e-10})))
            ]
        )
    ],
    slicing_specs=[
        # An empty slice spec means the overall slice, i.e. the whole dataset.
        tfma.SlicingSpec(),
        # Data can be sliced along a feature column. In this case, data is
        # sliced along feature column trip_start_hour.
        tfma.SlicingSpec(feature_keys=['trip_start_hour'])
    ])

# The following component is experimental and may change in the future. This is
# required to specify the latest blessed model will be used as the baseline.
model_resolver = Resolver(
      strategy_class=dsl.experimental.LatestBlessedModelStrategy,
      model=Channel(type=Model),
      model_blessing=Channel(type=ModelBlessing)
).with_id('latest_blessed_model_resolver')

model_analyzer = Evaluator(
      examples=examples_gen.outputs['examples'],
      model=trainer.outputs['model'],
      baseline_model=model_resolver.outputs['model'],
      # Change threshold will be ignored if there is no baseline (first run).
      eval_config=eval_config)

absl.logging.set_verbosity(absl.logging.INFO)
from headrace.compiler import compile_pipeline
p = tfx.dsl.Pipeline(pipeline_name='penguin_local', pipeline_root=root,
                     components=[examples_gen, trainer, model_resolver, model_analyzer])
ir = compile_pipeline(p)
print(json.dumps({'nodes': [n.id for n in ir.nodes], 'tfma': tfma.__version__, 'tft': tft.__version__}))
"""


@pytest.mark.heavy_imports
def test_the_evaluator_guides_tfma_eval_config_builds_with_penguins_imports(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "penguin_utils.py").write_text("def run_fn(fn_args):\n    pass\n")
    script = "import json\n" + textwrap.dedent(PENGUIN_EVALUATOR)
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert sorted(report["nodes"]) == ["CsvExampleGen", "Evaluator", "Trainer", "latest_blessed_model_resolver"]
    assert (report["tfma"], report["tft"]) == ("0.47.1", "1.16.0")
