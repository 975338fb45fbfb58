# Source: tensorflow/tfx v1.16.0 docs/guide/custom_function_component.md, code block #3 (Apache License 2.0); the
# definition part verbatim with its imports rewritten. The fragment's helpers read_examples/train_model are
# supplied by tests/tfx/test_guide_function_component.py; its usage part (which passes examples= for the
# argument training_data) is rewritten there with the fix.

from typing import TypedDict
import headrace.tfx.v1 as tfx
from headrace.tfx.dsl.component.experimental.decorators import component

class MyOutput(TypedDict):
  loss: float
  accuracy: float

@component
def MyTrainerComponent(
    training_data: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Examples],
    model: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.Model],
    dropout_hyperparameter: float,
    num_iterations: tfx.dsl.components.Parameter[int] = 10
) -> MyOutput:
  '''My simple trainer component.'''

  records = read_examples(training_data.uri)
  model_obj = train_model(records, num_iterations, dropout_hyperparameter)
  model_obj.write_to(model.uri)

  return {
    'loss': model_obj.loss,
    'accuracy': model_obj.accuracy
  }
