"""Test-set metrics from class probabilities, in plain numpy.

The report's "Precision" and "Recall" are Keras's `Precision()` and `Recall()` metrics on
one-hot targets at threshold 0.5: every (image, class) cell is a binary decision, so they
are micro-averages over cells, not the usual per-class macro averages. We compute both,
and name the Keras ones `keras_precision` / `keras_recall`.
"""

from __future__ import annotations

import numpy as np

NUM_CLASSES = 10


def evaluate_predictions(probabilities: np.ndarray, labels: np.ndarray, top_mistakes: int | None = None) -> dict:
    """All metrics for (N, 10) probabilities against (N,) integer labels, as a JSON-ready dict."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64)
    predicted = predicted_classes(probabilities)
    confusion = confusion_matrix(labels, predicted)
    per_class = per_class_scores(confusion)
    keras_precision, keras_recall = keras_precision_recall(probabilities, labels)
    return {
        "n": int(labels.size),
        "accuracy": float(np.mean(predicted == labels)) if labels.size else 0.0,
        "keras_precision": keras_precision,
        "keras_recall": keras_recall,
        "per_class_accuracy": per_class["recall"],
        "per_class_precision": per_class["precision"],
        "per_class_recall": per_class["recall"],
        "per_class_f1": per_class["f1"],
        "macro_precision": float(np.mean(per_class["precision"])),
        "macro_recall": float(np.mean(per_class["recall"])),
        "macro_f1": float(np.mean(per_class["f1"])),
        "confusion_matrix": confusion.tolist(),
        "mistakes": mistakes(probabilities, labels, predicted, top_mistakes),
    }


HEADLINE = ("accuracy", "keras_precision", "keras_recall", "macro_f1")


def metrics_problem(metrics) -> str | None:
    """What is wrong with a metrics dict read back from a file (None when it has the shape every page needs)."""
    number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
    if not isinstance(metrics, dict):
        return f"is a JSON {type(metrics).__name__}, not an object"
    for key in HEADLINE:
        if not number(metrics.get(key)):
            return f"has no number for {key}"
    per_class = metrics.get("per_class_accuracy")
    if not (isinstance(per_class, list) and len(per_class) == 10 and all(map(number, per_class))):
        return "has no 10 numbers for per_class_accuracy"
    confusion = metrics.get("confusion_matrix")
    if not (isinstance(confusion, list) and len(confusion) == 10
            and all(isinstance(row, list) and len(row) == 10 and all(map(number, row)) for row in confusion)):
        return "has no 10×10 confusion_matrix"
    mistakes = metrics.get("mistakes", [])
    fields = ("index", "true", "predicted", "confidence")
    if not (isinstance(mistakes, list)
            and all(isinstance(m, dict) and all(number(m.get(f)) for f in fields) for m in mistakes)):
        return "has a malformed mistakes list"
    return None


def predicted_classes(probabilities: np.ndarray) -> np.ndarray:
    """Argmax per row; a row with NaN (a diverged model) counts as predicting class 0, as numpy's argmax does."""
    safe = np.where(np.isfinite(probabilities), probabilities, -np.inf)
    return np.argmax(safe, axis=1)


def keras_precision_recall(probabilities: np.ndarray, labels: np.ndarray, threshold: float = 0.5):
    """Keras's Precision()/Recall() on one-hot targets: a cell is positive when its probability > threshold."""
    positive = probabilities > threshold  # NaN compares False, as in Keras
    truth = np.eye(NUM_CLASSES, dtype=bool)[labels]
    true_pos = np.sum(positive & truth)
    false_pos = np.sum(positive & ~truth)
    false_neg = np.sum(~positive & truth)
    return _ratio(true_pos, true_pos + false_pos), _ratio(true_pos, true_pos + false_neg)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """10×10 counts: rows are true digits, columns predicted digits."""
    matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def per_class_scores(confusion: np.ndarray) -> dict:
    """Per-digit precision, recall (= the report's accuracy per class) and F1 from the confusion matrix."""
    hits = np.diag(confusion).astype(np.float64)
    precision = [_ratio(h, p) for h, p in zip(hits, confusion.sum(axis=0))]
    recall = [_ratio(h, t) for h, t in zip(hits, confusion.sum(axis=1))]
    f1 = [_ratio(2 * p * r, p + r) for p, r in zip(precision, recall)]
    return {"precision": precision, "recall": recall, "f1": f1}


def mistakes(probabilities, labels, predicted, limit=None) -> list[dict]:
    """Misclassified images, most confident first: index, true label, predicted label, confidence."""
    wrong = np.flatnonzero(predicted != labels)
    confidence = np.nan_to_num(probabilities[wrong, predicted[wrong]], nan=0.0)
    order = np.argsort(-confidence, kind="stable")
    if limit is not None:
        order = order[:limit]
    return [{"index": int(wrong[i]), "true": int(labels[wrong[i]]), "predicted": int(predicted[wrong[i]]),
             "confidence": float(confidence[i])} for i in order]


def _ratio(numerator, denominator) -> float:
    return float(numerator / denominator) if denominator else 0.0
