"""The Evaluator's metrics, computed with numpy from labels and model outputs, named as TFMA and
Keras name them. Model outputs may be probabilities or logits (rows that are not distributions are
put through a softmax, or a sigmoid for one column, before probability-based metrics)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

# TFMA metric class names -> the name the metric is reported under (TFMA's default names).
NAMES = {
    "ExampleCount": "example_count",
    "SparseCategoricalAccuracy": "sparse_categorical_accuracy",
    "CategoricalAccuracy": "categorical_accuracy",
    "BinaryAccuracy": "binary_accuracy",
    "Accuracy": "accuracy",
    "AUC": "auc",
    "Precision": "precision",
    "Recall": "recall",
    "MeanSquaredError": "mean_squared_error",
    "MeanAbsoluteError": "mean_absolute_error",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "BinaryCrossentropy": "binary_crossentropy",
    "MeanLabel": "mean_label",
    "MeanPrediction": "mean_prediction",
}


def metric_name(spec: dict[str, Any]) -> str:
    """The reported name of a metric spec (its `config` name if it sets one)."""
    import json

    config = spec.get("config")
    if config:
        try:
            name = json.loads(config).get("name") if isinstance(config, str) else config.get("name")
        except (ValueError, AttributeError):
            name = None
        if name:
            return str(name)
    cls = spec.get("class_name", "")
    return NAMES.get(cls, cls)


def _probabilities(outputs: np.ndarray, from_logits: bool | None = None) -> np.ndarray:
    """Probabilities of the outputs: as they are (from_logits false), through a softmax (a sigmoid
    for one column) when from_logits is true, and with no from_logits (headrace's detection) through
    that function only if they are not probabilities already (a row that is not a distribution)."""
    import numpy as np

    if from_logits is False:
        return outputs
    if outputs.ndim == 1 or outputs.shape[1] == 1:
        flat = outputs.reshape(-1)
        probabilities = flat.min(initial=0) >= 0 and flat.max(initial=0) <= 1
        return flat if (probabilities and not from_logits) else 1 / (1 + np.exp(-flat))
    rows = outputs.sum(axis=1)
    if not from_logits and np.all(outputs >= 0) and np.allclose(rows, 1, atol=1e-3):
        return outputs
    shifted = outputs - outputs.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC by ranks (ties averaged): the probability a positive outranks a negative."""
    import numpy as np

    pos = labels == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if not n_pos or not n_neg:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=float)
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


# Metrics TFMA 0.47 computes on a multi-class model's sparse labels by one-hot encoding them and
# flattening (metric_util.to_label_prediction_example_weight): each (row, class) pair counts as one
# binary example, i.e. micro-averaged over the classes.
FLATTENED = frozenset(
    {
        "Precision",
        "Recall",
        "AUC",
        "BinaryAccuracy",
        "MeanLabel",
        "MeanPrediction",
        "MeanSquaredError",
        "MeanAbsoluteError",
    }
)
FROM_LOGITS = frozenset({"SparseCategoricalCrossentropy", "BinaryCrossentropy"})
"""The metrics whose config may set `from_logits` (TFMA's other metrics raise on it)."""
MULTI_CLASS_ONLY = frozenset({"SparseCategoricalAccuracy", "SparseCategoricalCrossentropy", "CategoricalAccuracy"})
"""Metrics of a whole row of class scores, which a binarized (one-column) class does not have."""
_EPSILON = 1e-7  # Keras' backend epsilon, its crossentropies' clip


def compute(
    class_name: str,
    labels: np.ndarray,
    outputs: np.ndarray,
    from_logits: bool | None = None,
    class_id: int | None = None,
) -> float:
    """One metric over all rows of a slice, as TFMA 0.47.1 computes it.

    Args:
        class_name: The TFMA metric class.
        labels: One label per row (a class index for a multi-class model).
        outputs: The model's outputs, one row (or one value) per example.
        from_logits: The metric config's `from_logits`; None: headrace detects logits.
        class_id: A MetricsSpec's `binarize.class_ids` entry: the metric of that class alone
            (label == class_id against its output column).
    """
    import numpy as np

    n = len(labels)
    if class_name == "ExampleCount":
        return float(n)
    if not n:
        return float("nan")
    multi = outputs.ndim == 2 and outputs.shape[1] > 1
    probs = _probabilities(outputs, from_logits)
    if class_id is not None:
        if not multi or not 0 <= class_id < outputs.shape[1]:
            raise ValueError(
                f"binarize class_id {class_id}: the model outputs {outputs.shape[1:] or 'one value'} per example, "
                "not a score per class."
            )
        labels, outputs, probs = (
            (labels.reshape(-1) == class_id).astype(float),
            outputs[:, class_id],
            probs[:, class_id],
        )
        multi = False
    if multi and class_name in FLATTENED:
        labels = labels.reshape(n, -1)
        if labels.shape[1] == 1:  # sparse: one-hot, as TFMA does
            labels = np.eye(outputs.shape[1])[labels.reshape(-1).astype(int)]
        labels, outputs, probs = labels.reshape(-1), outputs.reshape(-1), probs.reshape(-1)
        multi = False
    if multi and class_name in ("Accuracy", "BinaryCrossentropy"):
        # TFMA raises for Accuracy; its BinaryCrossentropy compares the class index with every
        # class's probability (and raises with from_logits): neither is a number to threshold.
        instead = "SparseCategoricalAccuracy" if class_name == "Accuracy" else "SparseCategoricalCrossentropy"
        raise ValueError(
            f"metric {class_name} is for a binary model, and this model outputs {outputs.shape[1]} class scores "
            f"per example; use {instead}, or a MetricsSpec with binarize class_ids for one class against the rest."
        )
    if class_name in ("SparseCategoricalAccuracy", "Accuracy") and multi:
        return float(np.mean(np.argmax(outputs, axis=1) == labels.reshape(-1).astype(int)))
    if class_name == "CategoricalAccuracy":
        return float(np.mean(np.argmax(outputs, axis=1) == np.argmax(labels.reshape(n, -1), axis=1)))
    if class_name in ("BinaryAccuracy", "Accuracy"):
        return float(np.mean((probs.reshape(-1) > 0.5) == (labels.reshape(-1) > 0.5)))
    if class_name in ("Precision", "Recall"):
        predicted, actual = probs.reshape(-1) > 0.5, labels.reshape(-1) > 0.5
        true_pos = float(np.sum(predicted & actual))
        denominator = float(np.sum(predicted if class_name == "Precision" else actual))
        return true_pos / denominator if denominator else float("nan")  # TFMA's: undefined, not 0
    if class_name == "AUC":
        return _auc(labels.reshape(-1) > 0.5, probs.reshape(-1))
    if class_name == "SparseCategoricalCrossentropy":
        # Keras clips, then normalizes each row (a softmax of the logs): unnormalized scores count so.
        clipped = np.clip(probs.reshape(n, -1), _EPSILON, 1 - _EPSILON)
        picked = clipped[np.arange(n), labels.reshape(-1).astype(int)] / clipped.sum(axis=1)
        return float(-np.mean(np.log(picked)))
    if class_name == "BinaryCrossentropy":
        flat = probs.reshape(-1)
        if from_logits is False and (flat.min() < 0 or flat.max() > 1):
            raise ValueError(
                f"BinaryCrossentropy has from_logits false, but the model outputs values in "
                f"[{flat.min():.4g}, {flat.max():.4g}], not probabilities; set from_logits true for logits."
            )
        p, y = np.clip(flat, _EPSILON, 1 - _EPSILON), labels.reshape(-1)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    first = outputs.reshape(len(labels), -1)[:, 0]  # a regression model's (only) output
    if class_name == "MeanSquaredError":
        return float(np.mean((first - labels.reshape(-1)) ** 2))
    if class_name == "MeanAbsoluteError":
        return float(np.mean(np.abs(first - labels.reshape(-1))))
    if class_name == "MeanLabel":
        return float(np.mean(labels))
    if class_name == "MeanPrediction":
        return float(np.mean(first))
    raise ValueError(
        f"metric '{class_name}' is not computed by headrace's Evaluator; it computes {', '.join(sorted(NAMES))}."
    )


def per_class(labels: np.ndarray, outputs: np.ndarray) -> dict[str, float]:
    """Precision and recall of each class of a multi-class model (the argmax class is the predicted
    one: TFMA's Precision / Recall with class_id=k and top_k=1), and the loss (the crossentropy)."""
    import numpy as np

    if not (outputs.ndim == 2 and outputs.shape[1] > 1) or not len(labels):
        return {}
    predicted, actual = np.argmax(outputs, axis=1), labels.reshape(-1).astype(int)
    found = {}
    for k in range(outputs.shape[1]):
        tp = float(np.sum((predicted == k) & (actual == k)))
        p_den, r_den = float(np.sum(predicted == k)), float(np.sum(actual == k))
        # TFMA 0.47's figures where a slice has no such prediction (label): precision 0, recall undefined.
        found[f"precision/class_{k}"] = tp / p_den if p_den else 0.0
        found[f"recall/class_{k}"] = tp / r_den if r_den else float("nan")
    found["loss"] = compute("SparseCategoricalCrossentropy", labels, outputs)
    return found
