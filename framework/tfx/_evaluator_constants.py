"""TFX's `tfx.components.evaluator.constants`: the custom properties and files of the ModelBlessing that
headrace's Evaluator writes, under TFX's names and with TFX's values."""

ARTIFACT_PROPERTY_BLESSED_KEY = "blessed"  # 1 blessed, 0 not
ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY = "current_model"  # the evaluated model's URI
ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY = "current_model_id"  # its ML Metadata id (an int)
ARTIFACT_PROPERTY_BASELINE_MODEL_URI_KEY = "baseline_model"  # set only with a baseline model
ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY = "baseline_model_id"
BLESSED_VALUE = 1
NOT_BLESSED_VALUE = 0
BLESSED_FILE_NAME = "BLESSED"
NOT_BLESSED_FILE_NAME = "NOT_BLESSED"
EVALUATION_KEY = "evaluation"

__all__ = [
    "ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY",
    "ARTIFACT_PROPERTY_BASELINE_MODEL_URI_KEY",
    "ARTIFACT_PROPERTY_BLESSED_KEY",
    "ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY",
    "ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY",
    "BLESSED_FILE_NAME",
    "BLESSED_VALUE",
    "EVALUATION_KEY",
    "NOT_BLESSED_FILE_NAME",
    "NOT_BLESSED_VALUE",
]
