"""The standard artifact types TFX users know, under the same names."""

from __future__ import annotations

import json
from typing import Any

from headrace.errors import DefinitionError
from headrace.types.artifact import Artifact, Property, PropertyType, ValueArtifact

_SPAN = Property(PropertyType.INT)
_VERSION = Property(PropertyType.INT)
_SPLIT_NAMES = Property(PropertyType.STRING)


class Examples(Artifact):
    """Training or serving examples, by split. `split_names` is a JSON list, as in TFX."""

    TYPE_NAME = "Examples"
    PROPERTIES = {
        "span": _SPAN,
        "version": _VERSION,
        "split_names": _SPLIT_NAMES,
        "payload_format": Property(PropertyType.STRING),
    }


class ExampleStatistics(Artifact):
    """Per-split data statistics."""

    TYPE_NAME = "ExampleStatistics"
    PROPERTIES = {"span": _SPAN, "split_names": _SPLIT_NAMES}


class Schema(Artifact):
    """A data schema."""

    TYPE_NAME = "Schema"


class ExampleAnomalies(Artifact):
    """Anomalies of examples against a schema, by split."""

    TYPE_NAME = "ExampleAnomalies"
    PROPERTIES = {"span": _SPAN, "split_names": _SPLIT_NAMES}


class Model(Artifact):
    """A trained model."""

    TYPE_NAME = "Model"


class ModelRun(Artifact):
    """Logs and summaries of a training run."""

    TYPE_NAME = "ModelRun"


class ModelEvaluation(Artifact):
    """Evaluation results of a model."""

    TYPE_NAME = "ModelEvaluation"


class ModelBlessing(Artifact):
    """Whether a model passed evaluation (custom property `blessed` = 1 or 0)."""

    TYPE_NAME = "ModelBlessing"


class InfraBlessing(Artifact):
    """Whether a model passed infra validation."""

    TYPE_NAME = "InfraBlessing"


class PushedModel(Artifact):
    """A model pushed to a serving destination."""

    TYPE_NAME = "PushedModel"


class InferenceResult(Artifact):
    """Batch inference results."""

    TYPE_NAME = "InferenceResult"


class HyperParameters(Artifact):
    """Hyperparameters for training."""

    TYPE_NAME = "HyperParameters"


class ExternalArtifact(Artifact):
    """Anything registered from outside the pipeline, usually with an Importer."""

    TYPE_NAME = "ExternalArtifact"


class ExampleValidationMetrics(Artifact):
    """Metrics of example validation, by split."""

    TYPE_NAME = "ExampleValidationMetrics"
    PROPERTIES = {"span": _SPAN, "split_names": _SPLIT_NAMES}


class ExamplesDiff(Artifact):
    """Differences between two sets of examples."""

    TYPE_NAME = "ExamplesDiff"


class TransformGraph(Artifact):
    """A preprocessing graph to apply to examples."""

    TYPE_NAME = "TransformGraph"


class TransformCache(Artifact):
    """Cached analyzer state of a preprocessing step, reused across spans."""

    TYPE_NAME = "TransformCache"


class TunerResults(Artifact):
    """The results of a hyperparameter search."""

    TYPE_NAME = "TunerResults"


class Config(Artifact):
    """A configuration file."""

    TYPE_NAME = "Config"


class DataView(Artifact):
    """A view over data (how to decode or read it)."""

    TYPE_NAME = "DataView"


class String(ValueArtifact):
    """A str value."""

    TYPE_NAME = "String"

    def check_value(self, value: Any) -> str:
        return _checked(self, value, str)


class Bytes(ValueArtifact):
    """A bytes value (recorded in ML Metadata as base64 text)."""

    TYPE_NAME = "Bytes"

    def check_value(self, value: Any) -> bytes:
        if not isinstance(value, bytes):
            raise DefinitionError(f"Bytes artifact value must be bytes, got {value!r} ({type(value).__name__}).")
        return value

    def encode(self, value: Any) -> bytes:
        return bytes(value)

    def decode(self, data: bytes) -> bytes:
        return data

    def encode_mlmd(self, value: Any) -> str:
        import base64

        return base64.b64encode(value).decode()

    def decode_mlmd(self, stored: Any) -> bytes:
        import base64

        return base64.b64decode(stored)


class Integer(ValueArtifact):
    """An int value."""

    TYPE_NAME = "Integer"

    def check_value(self, value: Any) -> int:
        return _checked(self, value, int)

    def decode(self, data: bytes) -> int:
        return int(data.decode())

    def decode_mlmd(self, stored: Any) -> int:
        return int(stored)  # a wide int is stored as a double or a string (see metadata.values.set_value)


class Float(ValueArtifact):
    """A float value."""

    TYPE_NAME = "Float"

    def check_value(self, value: Any) -> float:
        return float(_checked(self, value, (float, int)))

    def encode(self, value: Any) -> bytes:
        return repr(float(value)).encode()

    def decode(self, data: bytes) -> float:
        return float(data.decode())


class Boolean(ValueArtifact):
    """A bool value."""

    TYPE_NAME = "Boolean"

    def check_value(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise DefinitionError(f"Boolean artifact value must be a bool, got {value!r}.")
        return value

    def encode(self, value: Any) -> bytes:
        return b"1" if value else b"0"

    def decode(self, data: bytes) -> bool:
        return data.strip() == b"1"

    def decode_mlmd(self, stored: Any) -> bool:
        return bool(stored)


class JsonValue(ValueArtifact):
    """Any JSON-serializable value (dict, list, number, str, bool, None)."""

    TYPE_NAME = "JsonValue"

    def check_value(self, value: Any) -> Any:
        try:
            json.dumps(value)
        except (TypeError, ValueError) as e:
            raise DefinitionError(f"JsonValue artifact value must be JSON-serializable: {e}") from None
        return value

    def encode(self, value: Any) -> bytes:
        return json.dumps(value).encode()

    def decode(self, data: bytes) -> Any:
        return json.loads(data)

    def encode_mlmd(self, value: Any) -> str:
        return json.dumps(value)

    def decode_mlmd(self, stored: Any) -> Any:
        return json.loads(stored)


def _checked(art: ValueArtifact, value: Any, types: type | tuple[type, ...]) -> Any:
    if isinstance(value, bool) or not isinstance(value, types):
        raise DefinitionError(f"{art.TYPE_NAME} artifact value must be {art.TYPE_NAME.lower()}, got {value!r}.")
    return value


__all__ = [
    "Boolean",
    "Bytes",
    "Config",
    "DataView",
    "ExampleAnomalies",
    "ExampleStatistics",
    "ExampleValidationMetrics",
    "Examples",
    "ExamplesDiff",
    "ExternalArtifact",
    "Float",
    "HyperParameters",
    "InferenceResult",
    "InfraBlessing",
    "Integer",
    "JsonValue",
    "Model",
    "ModelBlessing",
    "ModelEvaluation",
    "ModelRun",
    "PushedModel",
    "Schema",
    "String",
    "TransformCache",
    "TransformGraph",
    "TunerResults",
]
