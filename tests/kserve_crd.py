"""KServe's InferenceService schema, as the Kubernetes API server would apply it to what headrace writes.

The schema is the `openAPIV3Schema` of KServe's own CRD (v1beta1), vendored by scripts/kserve_schema.py
into tests/golden (its source and commit are in the file's `x-headrace-source`). Two things the API
server checks beyond the CRD's schema are added here, and only these:
- unknown fields are errors (kubectl's default, `--validate=strict`): every object the schema gives
  properties, and does not mark `x-kubernetes-preserve-unknown-fields`, gets `additionalProperties: false`;
- `apiVersion` and `kind` are this CRD's, and `metadata.name` is a DNS-1035 label (KServe's webhook).
No Kubernetes cluster runs here.
"""

from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_FILE = Path(__file__).parent / "golden" / "kserve_inferenceservice_v1beta1.json.gz"


def _strict(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _strict(v) for k, v in node.items()}
        if "properties" in node and "additionalProperties" not in node:
            if not node.get("x-kubernetes-preserve-unknown-fields"):
                node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


@functools.cache
def inference_service_schema() -> dict[str, Any]:
    with gzip.open(SCHEMA_FILE, "rt") as f:
        schema = _strict(json.load(f))
    schema["required"] = ["apiVersion", "kind", "metadata", "spec"]
    schema["properties"]["apiVersion"] = {"const": "serving.kserve.io/v1beta1"}
    schema["properties"]["kind"] = {"const": "InferenceService"}
    schema["properties"]["metadata"] = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "pattern": "^[a-z]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
            "namespace": {"type": "string"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    return schema


def validate_inference_service(manifest: Any) -> None:
    """Raises jsonschema.ValidationError where KServe's CRD (made strict, as above) refuses `manifest`."""
    jsonschema.validate(manifest, inference_service_schema())
