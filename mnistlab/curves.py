"""Series for training plots, derived from a run's history.

Keras reports a batch's loss as the running mean over the epoch so far, which restarts at every
epoch: plotted as is, it drops at each epoch boundary, and students read that as a jump in
learning. The loss of the batches themselves can be recovered from two running means: if the mean
after batch p is m_p and after batch b it is m_b, the batches p+1..b averaged
(b·m_b − p·m_p) / (b − p).
"""

from __future__ import annotations

import math

SMOOTHING = 0.6  # TensorBoard's default weight


def batch_losses(batches: list[dict], steps_per_epoch: int) -> list[dict]:
    """For each recorded batch, the mean loss of the batches since the previous record in its epoch.

    Returns rows {"x": fractional epoch at that batch, "loss": that mean, "epoch", "batch", "batches": how many
    batches the mean covers}. `batches` are history rows with 1-based "epoch" and "batch" and the running "loss".
    """
    rows, previous = [], {}
    for row in batches:
        epoch, batch, running = row["epoch"], row["batch"], row["loss"]
        before, mean_before = previous.get(epoch, (0, 0.0))
        if batch <= before:  # out of order or repeated: nothing new to recover
            continue
        loss = (batch * running - before * mean_before) / (batch - before)
        rows.append({"x": epoch - 1 + batch / steps_per_epoch, "loss": loss, "epoch": epoch, "batch": batch,
                     "batches": batch - before})
        previous[epoch] = (batch, running)
    return rows


def smoothed(values: list[float], weight: float = SMOOTHING) -> list[float]:
    """TensorBoard's smoothing: an exponential moving average, debiased so the first points are not pulled
    towards zero. Values that are not finite pass through without disturbing the average."""
    out, last, count = [], 0.0, 0
    for value in values:
        if not math.isfinite(value):
            out.append(value)
            continue
        count += 1
        last = last * weight + (1 - weight) * value
        out.append(last / (1 - weight ** count))
    return out
