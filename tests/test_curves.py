"""Per-batch loss recovered from Keras's running means, and TensorBoard's smoothing."""

import math

import pytest

from mnistlab.curves import batch_losses, smoothed


def _recorded(losses_per_epoch, every):
    """History rows as the training records them: Keras's running mean, every `every` batches and at the end."""
    rows = []
    for epoch, losses in enumerate(losses_per_epoch, start=1):
        for batch in range(1, len(losses) + 1):
            if batch % every == 0 or batch == len(losses):
                rows.append({"epoch": epoch, "batch": batch, "loss": sum(losses[:batch]) / batch})
    return rows


def test_the_batches_own_losses_come_back_from_the_running_means():
    epochs = [[2.0, 1.8, 1.6, 1.4, 1.2, 1.0, 0.9], [0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.25]]
    rows = batch_losses(_recorded(epochs, every=2), steps_per_epoch=7)
    assert [round(r["loss"], 6) for r in rows] == [1.9, 1.5, 1.1, 0.9, 0.75, 0.55, 0.35, 0.25]  # pairs, then the last
    assert [r["batches"] for r in rows] == [2, 2, 2, 1, 2, 2, 2, 1]
    assert rows[3]["x"] == 1.0 and rows[4]["x"] == pytest.approx(1 + 2 / 7)
    running = [r["loss"] for r in _recorded(epochs, every=2)]
    assert running[4] < running[3] - 0.5  # the running mean drops at the epoch boundary…
    assert all(b["loss"] <= a["loss"] for a, b in zip(rows, rows[1:]))  # …the batches' own losses do not jump


def test_smoothing_is_debiased_and_skips_what_is_not_finite():
    assert smoothed([3.0, 3.0, 3.0]) == pytest.approx([3.0, 3.0, 3.0])  # no pull towards zero at the start
    values = smoothed([1.0, 0.0], weight=0.5)
    assert values == pytest.approx([1.0, (0.5 * 0.5) / (1 - 0.25)])
    out = smoothed([1.0, float("nan"), 1.0])
    assert math.isnan(out[1]) and out[2] == pytest.approx(1.0)
