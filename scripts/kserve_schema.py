"""Extracts the InferenceService v1beta1 OpenAPI schema from KServe's CRD, for the tests.

    python scripts/kserve_schema.py serving.kserve.io_inferenceservices.yaml \
        tests/golden/kserve_inferenceservice_v1beta1.json.gz

The CRD is KServe's `config/crd/full/serving.kserve.io_inferenceservices.yaml` (Apache-2.0). The
output is its `spec.versions[v1beta1].schema.openAPIV3Schema`, as gzipped JSON, unchanged, with the
CRD's source recorded under `x-headrace-source`.
"""

from __future__ import annotations

import gzip
import json
import sys

import yaml


def main(crd_path: str, out_path: str, source: str = "") -> None:
    with open(crd_path) as f:
        crd = yaml.safe_load(f)
    if crd.get("kind") != "CustomResourceDefinition" or crd["spec"]["names"]["kind"] != "InferenceService":
        raise SystemExit(f"{crd_path} is not KServe's InferenceService CRD.")
    [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1beta1"]
    schema = dict(version["schema"]["openAPIV3Schema"])
    schema["x-headrace-source"] = source or crd_path
    with gzip.GzipFile(out_path, "wb", mtime=0) as out:
        out.write(json.dumps(schema, sort_keys=True, separators=(",", ":")).encode())


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
