"""The runs as one table, for the Compare page and `mnistlab runs --csv`."""

from __future__ import annotations

from .spec import summarize_layers
from .store import Listing


def runs_table(listing: Listing):
    """One row per run, for the comparison table (pandas DataFrame)."""
    import pandas as pd

    from .presets import matching_preset

    rows = []
    for run in listing.runs:
        metrics = run.metrics or {}
        config = run.experiment.config
        preset = matching_preset(run.experiment)
        rows.append({
            "run_id": run.run_id,
            "name": run.name,
            "layers": summarize_layers(run.experiment),
            "params": run.info.get("params"),
            "optimizer": config.optimizer,
            "learning_rate": config.effective_learning_rate,
            "epochs": run.info.get("epochs_run", 0),
            "batch_size": config.batch_size,
            "train_images": config.train_limit or 60000,
            "accuracy": metrics.get("accuracy"),
            "keras_precision": metrics.get("keras_precision"),
            "keras_recall": metrics.get("keras_recall"),
            "macro_f1": metrics.get("macro_f1"),
            "report_accuracy": preset.report.accuracy if preset else None,
            "train_seconds": run.info.get("train_seconds"),
            "status": run.status,
            "created": run.info.get("created"),
        })
    columns = ["run_id", "name", "layers", "params", "optimizer", "learning_rate", "epochs", "batch_size",
               "train_images", "accuracy", "keras_precision", "keras_recall", "macro_f1", "report_accuracy",
               "train_seconds", "status", "created"]
    return pd.DataFrame(rows, columns=columns)

