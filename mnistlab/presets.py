"""The course report's 15 experiments, exactly as it trained them, with its published results.

Source: ../shared/seed/mnist-mlp-cnn-report.txt. Every experiment uses batch 128 and a
validation split of 0.1; 30 epochs, except CNN 1 (10). Hidden Dense and Conv2D layers
with no activation in the report use Keras's default, linear.
"""

from __future__ import annotations

from dataclasses import dataclass

from .i18n import N_, _, decimal_mark, number, percent
from .spec import (Conv2D, Dense, Dropout, Experiment, Flatten, MaxPooling2D, RandomRotation, RandomTranslation,
                   RandomZoom, TrainConfig)


@dataclass(frozen=True)
class ReportResult:
    """What the report published for one experiment (Keras's metrics on the 10,000 test images)."""
    accuracy: float
    precision: float
    recall: float
    finding: str  # in English, marked for the catalog: show it as _(finding), the report's own sentence in Portuguese
    per_class_accuracy: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Preset:
    experiment: Experiment
    report: ReportResult
    params: int

    @property
    def name(self) -> str:
        return self.experiment.name


OUT = Dense(10, "softmax")
MLP_DROPOUT = (Flatten(), Dropout(0.2), Dense(400, "relu"), Dropout(0.2), Dense(300, "relu"), OUT)
CNN_TWO_CONV = (Conv2D(32, 3, 1, "relu"), MaxPooling2D(2), Conv2D(64, 3, 1, "relu"), MaxPooling2D(2), Flatten())


def _preset(name, layers, optimizer, lr, params, acc, prec, rec, finding, per_class=None, epochs=30):
    config = TrainConfig(optimizer=optimizer, learning_rate=lr, epochs=epochs, batch_size=128,
                         validation_split=0.1, seed=42)
    return Preset(Experiment(name, tuple(layers), config), ReportResult(acc, prec, rec, finding, per_class), params)


PRESETS: tuple[Preset, ...] = (
    _preset("MLP 1", (Flatten(), Dense(50), OUT), "SGD", 0.01, 39_760,
            0.9206, 0.939435, 0.9043,
            N_("A single hidden layer of 50 linear units already classifies most digits correctly."),
            per_class=(0.978571, 0.977093, 0.894380, 0.909901, 0.935845,
                       0.867713, 0.943633, 0.915370, 0.883984, 0.888999)),
    _preset("MLP 2", (Flatten(), Dense(400), OUT), "SGD", 0.01, 318_010,
            0.9208, 0.940401, 0.9057,
            N_("Eight times more hidden units barely help (about 0.001 more precision and accuracy).")),
    _preset("MLP 3", (Flatten(), Dense(300), Dense(100), OUT), "SGD", 0.01, 266_610,
            0.9223, 0.939184, 0.9096,
            N_("A second linear hidden layer gains only 0.001 accuracy and makes training slower.")),
    _preset("MLP 4", (Flatten(), Dense(400, "sigmoid"), OUT), "SGD", 0.01, 318_010,
            0.9074, 0.939803, 0.8774,
            N_("A sigmoid activation makes the network clearly worse than the linear one.")),
    _preset("MLP 5", (Flatten(), Dense(400, "relu"), OUT), "SGD", 0.01, 318_010,
            0.9478, 0.962239, 0.9352,
            N_("ReLU lifts accuracy considerably over the linear and sigmoid activations.")),
    _preset("MLP 6", (Flatten(), Dense(400, "relu"), Dense(300, "relu"), OUT), "SGD", 0.01, 437_310,
            0.9609, 0.969051, 0.9550,
            N_("Two ReLU hidden layers train slower but gain accuracy considerably.")),
    _preset("MLP 7", (Flatten(), Dense(400, "relu"), Dense(300, "relu"), OUT), "SGD", 0.2, 437_310,
            0.9822, 0.982785, 0.9819,
            N_("Raising SGD's learning rate from 0.01 to 0.2 converges faster within the 30 epochs.")),
    _preset("MLP 8", MLP_DROPOUT, "SGD", 0.2, 437_310,
            0.9851, 0.987164, 0.9844,
            N_("Dropout of 0.2 before each hidden layer regularises and adds about 0.003 accuracy.")),
    _preset("MLP 9", MLP_DROPOUT, "Adam", 0.2, 437_310,
            0.101, 0.0, 0.0,
            N_("Adam at learning rate 0.2 fails completely: the network never learns (accuracy 0.101).")),
    _preset("MLP 10", MLP_DROPOUT, "Adam", 0.001, 437_310,
            0.9843, 0.985276, 0.9837,
            N_("Adam at its default learning rate matches SGD at 0.2: no significant gain.")),
    _preset("CNN 1", (Conv2D(32, 3, 1, "relu"), MaxPooling2D(2), Flatten(), OUT), "Adam", 0.001, 54_410,
            0.9816, 0.983743, 0.9803,
            N_("One convolution and one pooling layer give good accuracy after only 10 epochs."),
            epochs=10),
    _preset("CNN 2", (Conv2D(64, 3, 1, "relu"), MaxPooling2D(2), Flatten(), OUT), "Adam", 0.001, 108_810,
            0.9821, 0.982878, 0.9816,
            N_("Twice the filters (64) improve accuracy slightly.")),
    _preset("CNN 3", (Conv2D(32, 3, 2, "relu"), MaxPooling2D(2), Flatten(), OUT), "Adam", 0.001, 11_850,
            0.9801, 0.981249, 0.9786,
            N_("A stride of 2 shrinks the network to 11,850 parameters at almost the same accuracy.")),
    _preset("CNN 4", CNN_TWO_CONV + (OUT,), "Adam", 0.001, 34_826,
            0.9907, 0.990897, 0.9906,
            N_("A second convolution block improves accuracy considerably, to 0.9907.")),
    _preset("CNN 5", CNN_TWO_CONV + (Dropout(0.2), OUT), "Adam", 0.001, 34_826,
            0.9924, 0.992499, 0.9924,
            N_("Dropout before the output layer gives the report's best accuracy, 0.9924."),
            per_class=(0.994898, 1.0, 0.988372, 0.994059, 0.994908,
                       0.988789, 0.989562, 0.994163, 0.993840, 0.984143)),
)

BY_NAME = {preset.name: preset for preset in PRESETS}


FINDING_COMPARES = {  # what each one-line finding says of the experiment against the one(s) it compares with
    "MLP 2": (("MLP 1", "same"),), "MLP 3": (("MLP 2", "same"),),  # "barely help", "gains only 0.001"
    "MLP 4": (("MLP 2", "worse"),),  # MLP 4 is MLP 2 with sigmoid units
    "MLP 5": (("MLP 2", "better"), ("MLP 4", "better")), "MLP 6": (("MLP 5", "better"),),
    "MLP 7": (("MLP 6", "better"),), "MLP 8": (("MLP 7", "better"),),
    "MLP 10": (("MLP 8", "same"),),  # MLP 8's network, with Adam instead of SGD at 0.2: "no significant gain"
    "CNN 2": (("CNN 1", "better"),), "CNN 3": (("CNN 1", "same"),),  # "slightly", "almost the same accuracy"
    "CNN 4": (("CNN 2", "better"),), "CNN 5": (("CNN 4", "better"),),
}


def get_preset(name: str) -> Preset:
    """Look a preset up by name, forgiving case and spacing ("cnn5", "CNN 5")."""
    wanted = _normalise(name)
    for preset in PRESETS:
        if _normalise(preset.name) == wanted:
            return preset
    raise KeyError(f"No preset named {name!r}; the presets are {', '.join(BY_NAME)}.")


def _normalise(name: str) -> str:
    return "".join(name.lower().split())


def matching_preset(experiment: Experiment) -> Preset | None:
    """The preset whose network and optimizer this experiment reproduces, if any.

    Epochs, seed and training-set size may differ: a shortened run still "is" MLP 1.
    """
    for preset in PRESETS:
        ours, theirs = experiment.config, preset.experiment.config
        if (experiment.layers == preset.experiment.layers and ours.optimizer == theirs.optimizer
                and ours.effective_learning_rate == theirs.effective_learning_rate):
            return preset
    return None


def epochs_text(epochs: float) -> str:
    """Epochs trained, for a sentence: "30", "1.33", "0.004" (a run stopped in its first epoch); with the language's
    decimal mark ("1,33")."""
    text = f"{epochs:.2f}".rstrip("0").rstrip(".") if epochs >= 0.01 or epochs == 0 else f"{epochs:.1g}"
    return text.replace(".", decimal_mark())


def differences_from_report(preset: Preset, experiment: Experiment, epochs_run: float) -> list[str]:
    """How a run of the preset's network differs from the report's own run, as phrases ("trained 1.3 of the
    report's 30 epochs"); empty when the comparison is like for like (the seed aside)."""
    ours, theirs = experiment.config, preset.experiment.config
    found = []
    if epochs_run < ours.epochs:
        found.append(_("stopped after {run} of its {planned} epochs").format(run=epochs_text(epochs_run),
                                                                             planned=ours.epochs))
    if ours.epochs != theirs.epochs:
        found.append(_("planned {ours} epochs where the report trained {theirs}").format(ours=ours.epochs,
                                                                                        theirs=theirs.epochs))
    if (ours.train_limit or 60_000) != (theirs.train_limit or 60_000):
        found.append(_("trained on {images} of the {all} training images").format(
            images=number(ours.train_limit or 60_000), all=number(60_000)))
    if ours.batch_size != theirs.batch_size:
        found.append(_("used batches of {ours} (the report: {theirs})").format(ours=ours.batch_size,
                                                                              theirs=theirs.batch_size))
    if ours.validation_split != theirs.validation_split:
        found.append(_("held out {ours} for validation (the report: {theirs})").format(
            ours=percent(ours.validation_split, 0), theirs=percent(theirs.validation_split, 0)))
    if ours.early_stopping_patience != theirs.early_stopping_patience:
        found.append(_("used early stopping") if ours.early_stopping_patience else _("ran without early stopping"))
    return found


QUICK_CNN = Experiment(
    "Quick CNN",
    (Conv2D(16, 3, 1, "relu"), MaxPooling2D(2), Flatten(), OUT),
    TrainConfig(optimizer="Adam", learning_rate=0.004, epochs=2, batch_size=64, validation_split=0.1, seed=42,
                train_limit=10_000),
)
"""A small CNN that trains in seconds on a slice of MNIST: the Draw page's one-click model. 95.3–96.1% over seeds
42–46 in about 2 s each (bench/quick_cnn.py); at Adam's default rate on 12,000 images it reached 92.5–92.9%. Its
10,000 images are within a student's default budget, so a student trains it as it is."""

CNN5_AUGMENTED = Experiment(
    "CNN 5 + augmentation",
    (RandomRotation(0.05), RandomTranslation(0.1), RandomZoom(0.1)) + get_preset("CNN 5").experiment.layers,
    get_preset("CNN 5").experiment.config)
"""The report's best network trained on digits turned (±18°), shifted (±10%) and zoomed (±10%) at random, a new
way each epoch: the same test accuracy, and handwriting that is not MNIST's (the Class test) read better."""

STARTERS = {CNN5_AUGMENTED.name: CNN5_AUGMENTED}  # Build's starting points beyond the report's fifteen
