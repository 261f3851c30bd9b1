import numpy as np
import pytest

from mnistlab.metrics import confusion_matrix, evaluate_predictions, keras_precision_recall


def _probs(rows):
    out = np.full((len(rows), 10), 0.0)
    for i, row in enumerate(rows):
        for cls, p in row.items():
            out[i, cls] = p
    return out


# Four images, true labels 0, 1, 2, 2.
LABELS = np.array([0, 1, 2, 2])
PROBS = _probs([{0: 0.9, 1: 0.1},          # right, confident
                {1: 0.4, 3: 0.35, 5: 0.25},  # right, under threshold
                {2: 0.2, 7: 0.8},          # wrong: 7, confidence 0.8
                {2: 0.6, 1: 0.4}])         # right


def test_hand_computed_metrics():
    m = evaluate_predictions(PROBS, LABELS)
    assert m["accuracy"] == 0.75
    # cells above 0.5: (0,0) TP, (2,7) FP, (3,2) TP → precision 2/3; positives 4 → recall 2/4
    assert m["keras_precision"] == pytest.approx(2 / 3)
    assert m["keras_recall"] == pytest.approx(0.5)
    assert m["per_class_accuracy"][:3] == [1.0, 1.0, 0.5]
    assert m["per_class_precision"][2] == 1.0 and m["per_class_precision"][7] == 0.0
    assert m["per_class_f1"][2] == pytest.approx(2 * 1 * 0.5 / 1.5)
    assert m["macro_f1"] == pytest.approx((1 + 1 + 2 / 3) / 10)
    assert m["confusion_matrix"][2][7] == 1 and m["confusion_matrix"][2][2] == 1
    assert m["mistakes"] == [{"index": 2, "true": 2, "predicted": 7, "confidence": 0.8}]


def test_mistakes_sorted_by_confidence_and_confusion_sums():
    labels = np.array([3, 3, 3, 1])
    probs = _probs([{5: 0.6, 3: 0.4}, {8: 0.9, 3: 0.1}, {3: 1.0}, {7: 0.55, 1: 0.45}])
    m = evaluate_predictions(probs, labels)
    assert [x["index"] for x in m["mistakes"]] == [1, 0, 3]
    assert np.array(m["confusion_matrix"]).sum() == 4
    assert confusion_matrix(labels, np.array([5, 8, 3, 7]))[3].tolist() == [0, 0, 0, 1, 0, 1, 0, 0, 1, 0]


def test_diverged_model_outputs_nan():
    probs = np.full((3, 10), np.nan)
    m = evaluate_predictions(probs, np.array([0, 1, 2]))
    assert m["keras_precision"] == 0.0 and m["keras_recall"] == 0.0
    assert m["accuracy"] == pytest.approx(1 / 3)


def test_matches_keras_precision_and_recall():
    import keras

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(500, 10)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 10, size=500)
    onehot = np.eye(10)[labels]
    kp, kr = keras.metrics.Precision(), keras.metrics.Recall()
    kp.update_state(onehot, probs)
    kr.update_state(onehot, probs)
    ours = keras_precision_recall(probs, labels)
    assert ours == pytest.approx((float(kp.result()), float(kr.result())), abs=1e-6)
