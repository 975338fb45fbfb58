# Source: tensorflow/tfx v1.16.0 docs/tutorials/tfx/components.ipynb (Apache License 2.0), its code cells up to
# ExampleValidator, numbered by their index in the notebook, verbatim with their `tfx` imports rewritten to
# `headrace.tfx`. Left out: installs, version prints, the data download (cell 20: tests/tfx/test_ported_data.py
# writes _data_root/data.csv instead), and cell 32, which reads the examples with tf.data (headrace writes
# Parquet unless asked for TFRecords). The `imports` cell is the tfx lines of the notebook's cell 14 (the rest
# of it imports TensorFlow and TFMA for later cells, and loads a notebook extension).

# %% imports
from headrace.tfx import v1 as tfx
from headrace.tfx.orchestration.experimental.interactive.interactive_context import InteractiveContext

# %% 25
# Here, we create an InteractiveContext using default parameters. This will
# use a temporary directory with an ephemeral ML Metadata database instance.
# To use your own pipeline root or database, the optional properties
# `pipeline_root` and `metadata_connection_config` may be passed to
# InteractiveContext. Calls to InteractiveContext are no-ops outside of the
# notebook.
context = InteractiveContext()

# %% 28
example_gen = tfx.components.CsvExampleGen(input_base=_data_root)
context.run(example_gen)

# %% 30
artifact = example_gen.outputs['examples'].get()[0]
print(artifact.split_names, artifact.uri)

# %% 35
statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs['examples'])
context.run(statistics_gen)

# %% 37
context.show(statistics_gen.outputs['statistics'])

# %% 39
schema_gen = tfx.components.SchemaGen(
    statistics=statistics_gen.outputs['statistics'],
    infer_feature_shape=False)
context.run(schema_gen)

# %% 41
context.show(schema_gen.outputs['schema'])

# %% 44
example_validator = tfx.components.ExampleValidator(
    statistics=statistics_gen.outputs['statistics'],
    schema=schema_gen.outputs['schema'])
context.run(example_validator)

# %% 46
context.show(example_validator.outputs['anomalies'])
