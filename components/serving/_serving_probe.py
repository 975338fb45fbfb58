"""InfraValidator's serving backend of last resort: TensorFlow's own SavedModel loader, in a
process of its own. It loads the model, sends the requests, checks the answers and writes a verdict.

    python -m headrace.components.serving._serving_probe MODEL_DIR REQUESTS.pkl VERDICT.json

REQUESTS.pkl holds {"signature_names": [...], "tag_set": [...], "serialized": [bytes] | None,
"features": {name: list}, "count": int, "warmup_file": path | None, "model_name": str}; an empty
tag_set loads the default (serving) MetaGraph. With a `warmup_file`, a blessed model's requests are
also written there as TF Serving's warmup file (TFRecord of PredictionLog, one PredictRequest per
signature), as TFX's InfraValidator does for `make_warmup`.
The verdict is {"ok": bool, "reason": str, "signatures": [...], "outputs": {name: shape}}.
Run as a separate process so that a model that crashes, hangs or leaks cannot take the
pipeline's worker with it, and a timeout can end it.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
from typing import Any


def _feed(fn: Any, request: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments a signature takes, built from the request's examples."""
    import numpy as np
    import tensorflow as tf

    _, kwargs = fn.structured_input_signature
    features = request.get("features", {})
    feed = {}
    for name, spec in kwargs.items():
        if name not in features and spec.dtype == tf.string and len(kwargs) == 1 and request.get("serialized"):
            feed[name] = tf.constant(
                request["serialized"]
            )  # a tf.Example parsing signature (TFX's serve_tf_examples_fn)
            continue
        values = features.get(name)
        if values is None:
            raise ValueError(
                f"the serving signature takes input '{name}' ({spec.dtype.name}, shape {spec.shape}), which the "
                "request examples do not have"
            )
        array = np.asarray(values, dtype=object if spec.dtype == tf.string else spec.dtype.as_numpy_dtype)
        if spec.shape.rank is not None and spec.shape.rank == 2 and array.ndim == 1:
            array = array.reshape(-1, 1)
        feed[name] = tf.constant(array, dtype=spec.dtype)
    return feed


def probe(model_dir: str, request: dict[str, Any]) -> dict[str, Any]:
    """Loads the model and calls each requested signature with the request examples."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    try:
        model = tf.saved_model.load(model_dir, tags=request.get("tag_set") or None)
    except Exception as e:  # noqa: BLE001 - any load failure is the verdict
        return {"ok": False, "reason": f"the model does not load as a SavedModel: {type(e).__name__}: {e}"[:2000]}
    available = sorted(getattr(model, "signatures", {}) or {})
    if not available:
        return {
            "ok": False,
            "reason": "the SavedModel has no serving signature (save it with signatures={'serving_default': ...} or "
            "Keras 3's model.export()); a server could not call it",
            "signatures": [],
        }
    wanted = request.get("signature_names") or ["serving_default"]
    missing = [s for s in wanted if s not in available]
    if missing:
        return {"ok": False, "reason": f"signature(s) {missing} not in the model (it has {available})"}
    count = request.get("count", 0)
    outputs: dict[str, Any] = {}
    feeds: dict[str, dict[str, Any]] = {}
    for name in wanted:
        fn = model.signatures[name]
        if not count:
            continue  # load-only validation: no examples to send
        try:
            feeds[name] = _feed(fn, request)
            result = fn(**feeds[name])
        except Exception as e:  # noqa: BLE001 - a failed prediction is the verdict
            return {
                "ok": False,
                "reason": f"signature '{name}' failed on the request examples: {type(e).__name__}: {e}",
            }
        for key, tensor in result.items():
            shape = list(tensor.shape)
            if not shape or shape[0] != count:
                return {
                    "ok": False,
                    "reason": f"signature '{name}' output '{key}' has shape {shape}; expected one row per request "
                    f"example ({count})",
                }
            outputs[f"{name}/{key}"] = shape
    if request.get("warmup_file") and feeds:
        write_warmup(request["warmup_file"], request.get("model_name") or "", feeds)
    return {"ok": True, "reason": "", "signatures": available, "outputs": outputs}


def write_warmup(path: str, model_name: str, feeds: dict[str, dict[str, Any]]) -> None:
    """TF Serving's warmup file: a TFRecord of PredictionLog, one PredictRequest per signature
    with the request examples as its input tensors."""
    import tensorflow as tf

    try:
        from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2
    except ImportError:
        raise ImportError(
            "Package 'tensorflow-serving-api' must be installed for request_spec make_warmup: "
            "pip install tensorflow-serving-api"
        ) from None
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for signature, feed in feeds.items():
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature),
                inputs={key: tf.make_tensor_proto(tensor.numpy()) for key, tensor in feed.items()},
            )
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())


def main(argv: list[str]) -> int:
    model_dir, request_path, verdict_path = argv
    with open(request_path, "rb") as f:
        request = pickle.load(f)
    verdict = probe(model_dir, request)
    with open(verdict_path, "w") as f:
        json.dump(verdict, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
