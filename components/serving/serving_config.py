"""What model servers read: a TF Serving model config and a KServe InferenceService manifest, written
beside a model's versions after every push, alias change and rollback.

``<model_dir>/model_server.config`` is a TF Serving ``ModelServerConfig`` text proto (built with
``tensorflow-serving-api``'s own protos): one model whose base path is the model directory.
Without aliases it serves the latest version (TF Serving's default). With aliases it serves exactly
the aliased versions, labelled: ``stable`` is the champion, ``canary`` the challenger, any other alias
keeps its name. Start TF Serving with ``--model_config_file=<model_dir>/model_server.config`` (and
``--model_config_file_poll_wait_seconds`` to follow changes).

``<model_dir>/inferenceservice.yaml`` is a KServe ``InferenceService`` (serving.kserve.io/v1beta1)
for the TensorFlow runtime. KServe rolls out a canary by updating the service: the predictor's
``storageUri`` becomes the new model and ``canaryTrafficPercent`` sends that share of requests to it,
the rest to the revision rolled out before (the champion). So with a challenger the manifest names
the challenger's version with ``canaryTrafficPercent``; without one it names the champion (or the
latest version) and all traffic goes to it. The versions' URIs are ``<storage_uri>/<version>``, where
`storage_uri` is where the cluster sees the model directory (a ``pvc://``, ``s3://`` or ``gs://``
URI); by default the local path, which a cluster can only read through such a mount.

Both files are written atomically (a temporary file renamed into place). TF Serving ignores names in
the model directory that are not version numbers.
"""

from __future__ import annotations

import os
import re
import tempfile
from typing import Any

from headrace.errors import DefinitionError, MissingDependencyError
from headrace.metadata.model_aliases import CHALLENGER, CHAMPION

TF_SERVING_CONFIG = "model_server.config"
KSERVE_MANIFEST = "inferenceservice.yaml"
LABELS = {CHAMPION: "stable", CHALLENGER: "canary"}
DEFAULT_CANARY_PERCENT = 10


def protos_available() -> bool:
    """Whether tensorflow-serving-api (the `[tf]` extra) is installed here."""
    import importlib.util

    return importlib.util.find_spec("tensorflow_serving") is not None


def tf_serving_config(model_name: str, model_dir: str, aliases: dict[str, int]) -> str:
    """The ModelServerConfig text proto serving `model_name` from `model_dir`: the aliased versions,
    labelled, or the latest version when there is no alias."""
    try:
        from google.protobuf import text_format
        from tensorflow_serving.config import model_server_config_pb2
    except ImportError as e:
        raise MissingDependencyError("tensorflow-serving-api", "tf", "the TF Serving model config") from e
    config = model_server_config_pb2.ModelServerConfig()
    model = config.model_config_list.config.add()
    model.name = model_name
    model.base_path = model_dir
    model.model_platform = "tensorflow"
    if aliases:
        model.model_version_policy.specific.versions.extend(sorted(set(aliases.values())))
        for alias, version in sorted(aliases.items()):
            model.version_labels[LABELS.get(alias, alias)] = version
    else:
        model.model_version_policy.latest.num_versions = 1
    return text_format.MessageToString(config)


def kserve_manifest(
    model_name: str,
    model_dir: str,
    aliases: dict[str, int],
    latest: int | None,
    storage_uri: str | None = None,
    canary_percent: int = DEFAULT_CANARY_PERCENT,
) -> dict[str, Any]:
    """The InferenceService (as a dict) serving the champion (else the latest version), with the
    challenger as its canary taking `canary_percent` of the traffic."""
    base = (storage_uri or model_dir).rstrip("/")
    challenger = aliases.get(CHALLENGER)
    served = challenger if challenger is not None else aliases.get(CHAMPION, latest)
    predictor: dict[str, Any] = {
        "model": {
            "modelFormat": {"name": "tensorflow"},
            "storageUri": f"{base}/{served}",
        }
    }
    if challenger is not None and challenger != aliases.get(CHAMPION):
        predictor["canaryTrafficPercent"] = int(canary_percent)
    annotations = {f"headrace.dev/{alias}-version": str(v) for alias, v in sorted(aliases.items())}
    metadata: dict[str, Any] = {"name": kserve_name(model_name)}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": metadata,
        "spec": {"predictor": predictor},
    }


def kserve_name(model_name: str) -> str:
    """The model name as a Kubernetes DNS-1035 label (what an InferenceService's name must be)."""
    name = re.sub(r"[^a-z0-9-]+", "-", model_name.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = f"model-{name}".rstrip("-")
    return name[:63].rstrip("-")


def check_canary_percent(value: Any) -> int:
    """A canary traffic share: a whole number from 1 to 99."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 99:
        raise DefinitionError(f"canary_traffic_percent must be a whole number from 1 to 99, got {value!r}.")
    return value


def write_serving_configs(
    model_name: str,
    model_dir: str,
    aliases: dict[str, int],
    latest: int | None,
    storage_uri: str | None = None,
    canary_percent: int = DEFAULT_CANARY_PERCENT,
) -> tuple[str, str]:
    """Writes both files into `model_dir`, atomically; returns their paths."""
    import yaml

    manifest = kserve_manifest(model_name, model_dir, aliases, latest, storage_uri, canary_percent)
    written = []
    for name, text in (
        (TF_SERVING_CONFIG, tf_serving_config(model_name, model_dir, aliases)),
        (KSERVE_MANIFEST, yaml.safe_dump(manifest, sort_keys=False)),
    ):
        path = os.path.join(model_dir, name)
        fd, tmp = tempfile.mkstemp(prefix=".headrace-config-", dir=model_dir)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        written.append(path)
    return written[0], written[1]
