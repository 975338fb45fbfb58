# Source: tensorflow/tfx v1.16.0 docs/guide/exampleval.md (Apache License 2.0), its Python code block #1,
# verbatim; the `imports` cell gives TFX's path for the guide's bare name, rewritten to `headrace.tfx`.
# statistics_gen and schema_gen come from tests/tfx/test_ported_data.py.

# %% imports
from headrace.tfx.components import ExampleValidator

# %% 1
validate_stats = ExampleValidator(
      statistics=statistics_gen.outputs['statistics'],
      schema=schema_gen.outputs['schema']
      )
