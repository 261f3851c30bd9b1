"""What a network will cost in memory to train and evaluate, known before TensorFlow starts.

Parameters alone say little: Conv2D(1024, 3×3) → MaxPooling2D(26) → Flatten → Dense(10) has
20,490 of them, yet each image's first feature map holds 692,224 floats, so a training batch
of 2,000 passed 5 GB. A training step keeps every layer's output for the batch and a gradient
of the same size (a third copy covers what TensorFlow's kernels hold meanwhile: pre-activations,
pooling indices, workspace); the weights come with their gradients and the optimizer's slots.
Evaluation keeps only two consecutive layers' outputs per image at a time (twice that, with the
kernels' workspace), in batches sized here to fit the budget. Figures exclude TensorFlow's own few hundred megabytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

FLOAT_BYTES = 4
DEFAULT_BUDGET = 2 * 2**30
BUDGET_VAR = "MNISTLAB_MEMORY_BUDGET_MB"
TRAINING_COPIES = 3     # each activation: the output, its gradient, and what the kernels hold meanwhile
EVALUATION_COPIES = 2   # a layer's input and output, and as much again for the kernels' workspace
OPTIMIZER_SLOTS = {"SGD": 0, "Adam": 2}  # per weight, besides the weight and its gradient
MAX_EVALUATION_BATCH = 1000
INPUT_FLOATS = 28 * 28


def budget_bytes() -> int:
    """The memory budget for one network: $MNISTLAB_MEMORY_BUDGET_MB, or 2 GiB."""
    value = os.environ.get(BUDGET_VAR, "")
    return int(value) * 2**20 if value.isdigit() and int(value) > 0 else DEFAULT_BUDGET


@dataclass(frozen=True)
class MemoryEstimate:
    training_bytes: int       # one training step at the spec's batch size
    evaluation_batch: int     # images per evaluation batch that fit the budget
    largest_layer: int        # 1-based number of the layer with the largest output
    largest_floats: int       # its output per image, in floats


def estimate(rows, batch_size: int, optimizer: str, budget: int) -> MemoryEstimate:
    """From a spec's layer rows (output_shape and params per layer, as `spec.validate` makes them)."""
    outputs = [_size(row.output_shape) for row in rows]
    per_image = (INPUT_FLOATS + sum(outputs)) * FLOAT_BYTES * TRAINING_COPIES
    weights = sum(row.params for row in rows) * FLOAT_BYTES * (2 + OPTIMIZER_SLOTS.get(optimizer, 2))
    largest = max(range(len(outputs)), key=outputs.__getitem__)
    pairs = [a + b for a, b in zip([INPUT_FLOATS] + outputs, outputs)]
    per_image_evaluated = max(pairs) * FLOAT_BYTES * EVALUATION_COPIES
    fits = max(1, (budget - weights) // per_image_evaluated) if budget > weights else 1
    return MemoryEstimate(batch_size * per_image + weights, int(min(MAX_EVALUATION_BATCH, fits)),
                          rows[largest].number, outputs[largest])


def _size(shape: tuple[int, ...]) -> int:
    size = 1
    for side in shape:
        size *= side
    return size
