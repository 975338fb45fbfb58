# Source: tensorflow/tfx v1.16.0 docs/guide/schemagen.md (Apache License 2.0), its Python code blocks #1 and #2,
# verbatim; the `imports` cell gives TFX's path for the guide's `tfx`, rewritten to `headrace.tfx`. stats_gen
# comes from tests/tfx/test_ported_data.py.

# %% imports
from headrace.tfx import v1 as tfx

# %% 1
schema_gen = tfx.components.SchemaGen(
    statistics=stats_gen.outputs['statistics'])

# %% 2
schema_gen = tfx.components.ImportSchemaGen(
    schema_file='/some/path/schema.pbtxt')
