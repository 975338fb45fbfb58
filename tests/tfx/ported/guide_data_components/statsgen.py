# Source: tensorflow/tfx v1.16.0 docs/guide/statsgen.md (Apache License 2.0), its Python code blocks #1 and #2.
# Verbatim but for one fix, the same in both blocks: the guide passes `name='compute-eval-stats'`, an argument
# TFX 1.16's StatisticsGen does not have (TFX raises TypeError too), so that line is dropped. The `imports` cell
# gives TFX's paths for the guide's bare names, rewritten to `headrace.tfx`; example_gen and user_schema_dir
# come from tests/tfx/test_ported_data.py.

# %% imports
from headrace.tfx.components import StatisticsGen
from headrace.tfx.dsl.components.common.importer import Importer
from headrace.tfx.types import standard_artifacts

# %% 1
compute_eval_stats = StatisticsGen(
      examples=example_gen.outputs['examples'],
      )

# %% 2
user_schema_importer = Importer(
    source_uri=user_schema_dir, # directory containing only schema text proto
    artifact_type=standard_artifacts.Schema).with_id('schema_importer')

compute_eval_stats = StatisticsGen(
      examples=example_gen.outputs['examples'],
      schema=user_schema_importer.outputs['result'],
      )
