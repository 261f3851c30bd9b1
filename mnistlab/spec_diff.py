"""What differs between two networks' specs, in the words a student reads them: "Dense(400, sigmoid) →
Dense(400, relu)", "learning rate 0.01 → 0.2". Compare says it of two runs (or groups) that share a name;
a lesson asks its question about it.

Layers are lined up as sequences (difflib), so a layer added in the middle reads as one addition, not as
every later layer changed."""

from __future__ import annotations

from difflib import SequenceMatcher

from .i18n import N_, _, number, short
from .spec import Experiment, Layer, TrainConfig, describe_layer


def differences(before: Experiment, after: Experiment, seed: bool = True) -> list[str]:
    """One line per change from `before` to `after`: layers first, then training settings; [] if the two
    train the same network the same way (with `seed=False`, runs that differ only in their seed)."""
    return _layer_changes(before.layers, after.layers) + _config_changes(before.config, after.config, seed)


def _layer_changes(before: tuple[Layer, ...], after: tuple[Layer, ...]) -> list[str]:
    old, new = [describe_layer(layer) for layer in before], [describe_layer(layer) for layer in after]
    changes = []
    for op, i1, i2, j1, j2 in SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "replace":
            changes.append(f"{' + '.join(old[i1:i2])} → {' + '.join(new[j1:j2])}")
        elif op == "insert" and i2 < len(old):
            changes.append(_("added {layers} before {layer}").format(layers=" + ".join(new[j1:j2]), layer=old[i2]))
        elif op == "insert":
            changes.append(_("added {layers} at the end").format(layers=" + ".join(new[j1:j2])))
        elif op == "delete":
            changes.append(_("removed {layers}").format(layers=" + ".join(old[i1:i2])))
    return changes


def _config_changes(before: TrainConfig, after: TrainConfig, seed: bool) -> list[str]:
    return [f"{_(label)} {value(before)} → {value(after)}" for label, value in _settings(seed)
            if value(before) != value(after)]


def _settings(seed: bool) -> list:
    """(label, how the setting reads) for every training setting a student may change; labels are shown as _(label),
    values in the session's language."""
    return [
        (N_("optimizer"), lambda c: c.optimizer),
        (N_("learning rate"), lambda c: short(c.effective_learning_rate)),
        (N_("epochs"), lambda c: str(c.epochs)),
        (N_("batch"), lambda c: str(c.batch_size)),
        (N_("validation split"), lambda c: short(c.validation_split)),
        (N_("early stopping"), lambda c: _("off") if c.early_stopping_patience is None
         else _("after {count} epochs without gain").format(count=c.early_stopping_patience)),
        (N_("training images"), lambda c: _("all") if c.train_limit is None else number(c.train_limit)),
    ] + ([(N_("seed"), lambda c: str(c.seed))] if seed else [])


def told_apart(named: dict) -> dict:
    """A label for each (name, experiment), keyed as given: its name, and where several share a name, what sets
    each apart from the others of that name ("MLP 1 · learning rate 0.2 · epochs 5", "MLP 1 · Dense(400, relu)").
    The name is the run's own (a run renamed keeps its spec's). Seeds are left out: runs of one setup are one
    group. Labels that still collide get " (2)", " (3)"…"""
    by_name: dict[str, list] = {}
    for key, (name, _experiment) in named.items():
        by_name.setdefault(name, []).append(key)
    labels = {}
    for name, keys in by_name.items():
        for key in keys:
            mine, others = named[key][1], [named[other][1] for other in keys if other != key]
            labels[key] = " · ".join([name, *_own_layers(mine, others), *_own_settings(mine, others)])
    return _numbered(labels)


def _own_layers(experiment: Experiment, others: list[Experiment]) -> list[str]:
    """This experiment's layers that some other of its name does not have."""
    theirs = [{describe_layer(layer) for layer in other.layers} for other in others]
    return [layer for layer in dict.fromkeys(describe_layer(layer) for layer in experiment.layers)
            if any(layer not in described for described in theirs)]


def _own_settings(experiment: Experiment, others: list[Experiment]) -> list[str]:
    return [f"{_(label)} {value(experiment.config)}" for label, value in _settings(seed=False)
            if any(value(other.config) != value(experiment.config) for other in others)]


def _numbered(labels: dict) -> dict:
    seen: dict[str, int] = {}
    numbered = {}
    for key, label in labels.items():
        seen[label] = seen.get(label, 0) + 1
        numbered[key] = label if seen[label] == 1 else f"{label} ({seen[label]})"
    return numbered
