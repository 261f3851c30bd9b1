"""Build: start from a preset or from scratch, edit the layers and the training config, queue a run."""

import pandas as pd

from common import st, worker
from mnistlab.i18n import N_, _, decimal, ngettext, number
from mnistlab.groups import repeat_seeds
from mnistlab.presets import PRESETS, STARTERS, get_preset
from mnistlab.roles import Refused
from mnistlab.spec import (HIDDEN_ACTIVATIONS, LAYER_TYPES, OPTIMIZERS, Experiment, SpecError, TrainConfig,
                           layer_from_dict, layer_table, layer_to_dict, validate_config)
from session_role import class_settings, person, within_budget
from tables import layer_columns, layer_frame

SCRATCH = N_("From scratch")  # an option's value, kept in English; shown as _(SCRATCH)
# Number boxes have no min/max: Streamlit's would silently keep the last good value while showing what was typed.
# Whatever is typed goes to the spec's validation, whose error names the layer and field and blocks Train.
EDITABLE_FIELDS = {  # field: (label, widget kind, step)
    "units": (N_("units"), "int", 1),
    "filters": (N_("filters"), "int", 1),
    "kernel_size": (N_("kernel"), "int", 1),
    "strides": (N_("stride"), "int", 1),
    "pool_size": (N_("pool"), "int", 1),
    "rate": (N_("dropout rate"), "float", 0.05),
    "factor": (N_("factor"), "float", 0.05),
    "activation": (N_("activation"), "choice", None),
}
DEFAULT_LAYERS = {"Dense": {"units": 64, "activation": "relu"},
                  "Conv2D": {"filters": 16, "kernel_size": 3, "strides": 1, "activation": "relu"},
                  "MaxPooling2D": {"pool_size": 2}, "Dropout": {"rate": 0.2}, "Flatten": {},
                  "RandomRotation": {"factor": 0.05}, "RandomTranslation": {"factor": 0.1}, "RandomZoom": {"factor": 0.1}}
SCRATCH_LAYERS = [{"type": "Flatten"}, {"type": "Dense", "units": 128, "activation": "relu"}]
OUTPUT = {"type": "Dense", "units": 10, "activation": "softmax"}


# ------------------------------------------------------------------ state
# Streamlit forgets a widget's value when its page is not shown, so every value also lives in
# `build_values` (widget key → value): restored into the widgets on return, updated on every run.

def _set(key: str, value) -> None:
    st.session_state[key] = value
    st.session_state["build_values"][key] = value


def _restore_and_remember() -> None:
    state = st.session_state
    for key, value in state["build_values"].items():
        if key in state:
            state["build_values"][key] = state[key]
        else:
            state[key] = value


def _load(layers: list[dict], config: TrainConfig, name: str) -> None:
    """Put a network into the editor's widgets (called from callbacks, before widgets render)."""
    st.session_state["build_layers"] = []
    st.session_state["build_values"] = {}
    for layer in layers:
        _append_layer(layer)
    _set("build_name", name)
    _set("cfg_optimizer", config.optimizer)
    _set("cfg_lr", float(config.effective_learning_rate))
    _set("cfg_epochs", config.epochs)
    _set("cfg_batch", config.batch_size)
    _set("cfg_val", float(config.validation_split))
    _set("cfg_early", config.early_stopping_patience is not None)
    _set("cfg_patience", config.early_stopping_patience or 3)
    _set("cfg_seed", config.seed)
    _set("cfg_limit_on", config.train_limit is not None)
    _set("cfg_limit", config.train_limit or 10_000)


def _append_layer(layer: dict) -> None:
    state = st.session_state
    uid = state.get("build_next_uid", 0)
    state["build_next_uid"] = uid + 1
    fields = [field for field in layer if field != "type"]
    for field in fields:
        _set(f"layer_{uid}_{field}", layer[field])
    state["build_layers"].append({"uid": uid, "type": layer["type"], "fields": fields})


def _on_preset_change() -> None:
    choice = st.session_state["build_preset"]
    if choice == SCRATCH:
        _load(SCRATCH_LAYERS, TrainConfig(optimizer="Adam", epochs=3), _("My network"))
        return
    experiment = STARTERS[choice] if choice in STARTERS else get_preset(choice).experiment
    hidden = [layer_to_dict(layer) for layer in experiment.layers[:-1]]
    _load(hidden, experiment.config, experiment.name)


def _move(index: int, delta: int) -> None:
    layers = st.session_state["build_layers"]
    target = index + delta
    if 0 <= target < len(layers):
        layers[index], layers[target] = layers[target], layers[index]


def _remove(index: int) -> None:
    st.session_state["build_layers"].pop(index)


def _add() -> None:
    kind = st.session_state["build_add_type"]
    _append_layer({"type": kind, **DEFAULT_LAYERS[kind]})


def _current_layers() -> list[dict]:
    state = st.session_state
    return [{"type": entry["type"], **{field: state[f"layer_{entry['uid']}_{field}"] for field in entry["fields"]}}
            for entry in state["build_layers"]]


def _experiment() -> Experiment:
    state = st.session_state
    layers = tuple(layer_from_dict(raw, i + 1) for i, raw in enumerate(_current_layers() + [OUTPUT]))
    config = TrainConfig(
        optimizer=state["cfg_optimizer"], learning_rate=float(state["cfg_lr"]), epochs=int(state["cfg_epochs"]),
        batch_size=int(state["cfg_batch"]), validation_split=float(state["cfg_val"]),
        early_stopping_patience=int(state["cfg_patience"]) if state["cfg_early"] else None,
        seed=int(state["cfg_seed"]), train_limit=int(state["cfg_limit"]) if state["cfg_limit_on"] else None)
    return Experiment(state["build_name"].strip() or _("Untitled"), layers, config)


def _problem(check, value) -> SpecError | None:
    try:
        check(value)
    except SpecError as err:
        return err
    return None


# ------------------------------------------------------------------ page

def _start_label(name: str) -> str:
    return _(SCRATCH) if name == SCRATCH else name


def _load_fork(fork: dict) -> None:
    """A run opened from Compare: its hidden layers and config, under the new name it was given."""
    experiment = Experiment.from_dict(fork["spec"])
    _load([layer_to_dict(layer) for layer in experiment.layers[:-1]], experiment.config, fork["name"])
    st.session_state["build_preset"] = SCRATCH
    st.session_state["build_values"]["build_preset"] = SCRATCH


if "build_fork" in st.session_state:
    _load_fork(st.session_state.pop("build_fork"))
if "build_layers" not in st.session_state:
    st.session_state["build_preset"] = "CNN 4"
    _on_preset_change()
if "build_preset" not in st.session_state:
    st.session_state["build_preset"] = st.session_state["build_values"].get("build_preset", SCRATCH)
st.session_state["build_values"]["build_preset"] = st.session_state["build_preset"]
_restore_and_remember()

st.title(_("Build a network"))
st.caption(_("Start from one of the course report's 15 experiments, or from scratch. "
             "Shapes and parameter counts update as you edit — the same numbers Keras's summary() prints."))

names = [SCRATCH] + [p.name for p in PRESETS] + list(STARTERS)
st.selectbox(_("Start from"), names, key="build_preset", on_change=_on_preset_change,
             format_func=_start_label)
if st.session_state["build_preset"] in STARTERS:
    st.info(_("**CNN 5 + augmentation**: the report's CNN 5 with three layers in front that turn, shift and zoom "
              "each training image a little at random (only while training). Compare it with CNN 5 on the Class test "
              "page: does it read your class's handwriting better?"), icon=":material/auto_awesome:")
elif st.session_state["build_preset"] != SCRATCH:
    preset = get_preset(st.session_state["build_preset"])
    st.info(_("**{name}** in the report: {finding} (test accuracy {accuracy})").format(
        name=preset.name, finding=_(preset.report.finding), accuracy=decimal(preset.report.accuracy)),
        icon=":material/description:")

experiment, build_error, config_error = None, None, None
try:
    experiment = _experiment()
    rows, build_error = layer_table(experiment)
    config_error = _problem(validate_config, experiment.config)
except SpecError as err:  # a field the form could not even turn into a layer
    rows, build_error = [], err

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader(_("Layers"))
    st.markdown(_("**Input** — a 28×28 grayscale image (28, 28, 1)"))
    for index, entry in enumerate(st.session_state["build_layers"]):
        uid, kind = entry["uid"], entry["type"]
        fields = entry["fields"]
        with st.container(border=True):
            # One row, the buttons as wide as their symbols (in columns of a tenth each they showed as fragments at
            # 1280×720, and stacked into three full-width rows on a phone).
            with st.container(horizontal=True, vertical_alignment="center"):
                st.markdown(f"**{index + 1}. {kind}**", width="stretch")
                st.button("↑", key=f"up_{uid}", on_click=_move, args=(index, -1), help=_("move up"),
                          disabled=index == 0, width="content")
                st.button("↓", key=f"down_{uid}", on_click=_move, args=(index, 1), help=_("move down"),
                          disabled=index == len(st.session_state["build_layers"]) - 1, width="content")
                st.button("✕", key=f"remove_{uid}", on_click=_remove, args=(index,), help=_("remove this layer"),
                          width="content")
            if fields:
                for col, field in zip(st.columns(4), fields):
                    label, widget, step = EDITABLE_FIELDS[field]
                    label = _(label)
                    key = f"layer_{uid}_{field}"
                    if widget == "choice":
                        col.selectbox(label, HIDDEN_ACTIVATIONS, key=key)
                    elif widget == "int":
                        col.number_input(label, step=step, key=key)
                    else:
                        col.number_input(label, step=step, format="%.2f", key=key)
            if build_error is not None and build_error.layer == index + 1:
                st.error(str(build_error), icon=":material/block:")
    output_number = len(st.session_state["build_layers"]) + 1
    st.markdown(_("**{number}. Dense(10, softmax)** — the output layer: one probability per digit").format(
        number=output_number))
    if build_error is not None and build_error.layer == output_number:
        st.error(str(build_error), icon=":material/block:")
    add_cols = st.columns([2, 1], vertical_alignment="bottom")
    add_cols[0].selectbox(_("Add a layer"), list(LAYER_TYPES), key="build_add_type")
    add_cols[1].button(_("Add layer"), key="build_add", on_click=_add, width="stretch")

with right:
    st.subheader(_("Shapes and parameters"))
    if rows:
        st.dataframe(layer_frame(rows), hide_index=True, width="stretch", key="build_shape_table",
                     column_config=layer_columns())
        total = sum(r.params for r in rows)
        st.metric(_("Total parameters") if build_error is None else _("Parameters so far"), number(total))
        if any(r.kind.startswith("Random") for r in rows):
            st.caption(_("The Random… layers change each training image at random, a new way every epoch; when the "
                         "network reads (the test set, Draw) they pass the image through unchanged."))
    if build_error is not None and build_error.layer is None and str(build_error) != str(config_error):
        st.error(str(build_error), icon=":material/block:")

st.subheader(_("Training"))
c1, c2, c3, c4 = st.columns(4)
c1.selectbox(_("Optimizer"), OPTIMIZERS, key="cfg_optimizer")
c2.number_input(_("Learning rate"), format="%.5f", step=0.001, key="cfg_lr")
c3.number_input(_("Epochs"), step=1, key="cfg_epochs")
c4.number_input(_("Batch size"), step=16, key="cfg_batch")
c1, c2, c3, c4 = st.columns(4)
c1.slider(_("Validation split"), 0.0, 0.5, step=0.05, key="cfg_val")
c2.number_input(_("Seed"), step=1, key="cfg_seed")
with c3:
    st.checkbox(_("Early stopping"), key="cfg_early", help=_("stop when validation loss has not improved for N epochs"))
    st.number_input(_("patience (epochs)"), step=1, key="cfg_patience", disabled=not st.session_state["cfg_early"])
with c4:
    st.checkbox(_("Train on a slice"), key="cfg_limit_on", help=_("for quick classroom demos"))
    st.number_input(_("training images"), step=1000, key="cfg_limit", disabled=not st.session_state["cfg_limit_on"])
if config_error is not None:
    st.error(str(config_error), icon=":material/block:")

name_column, repeat_column = st.columns([3, 1])
name_column.text_input(_("Run name"), key="build_name")
st.session_state.setdefault("build_repeats", 1)
repeat_column.number_input(_("Repeat × N"), step=1, key="build_repeats",
                           help=_("train N runs with seeds seed, seed + 1, …: Compare shows their spread and whether "
                                  "another network's difference is real"))
seeds, repeat_error = None, None
if experiment is not None:
    try:
        seeds = repeat_seeds(int(st.session_state["build_repeats"]), experiment.config.seed, _("Repeat ×"))
    except ValueError as err:
        repeat_error = str(err)
        st.error(repeat_error, icon=":material/block:")
if not person().runs_the_class:
    budget = class_settings().budget
    st.caption(_("In this class a student's run trains at most {epochs} epochs on at most {images} images (a longer "
                 "one is shortened to fit), {at_once} of yours at a time.").format(
        epochs=budget.epochs, images=number(budget.train_images), at_once=budget.runs_at_once)
               if budget.training else _("The teacher has turned student training off for now."))
if st.button(_("Train"), type="primary", key="build_train", disabled=build_error is not None or repeat_error is not None):
    run_ids, refusal = [], None
    try:
        for position, seed in enumerate(seeds, start=1):
            run_ids.append(worker().submit(within_budget(experiment.with_config(seed=seed)), person(),
                                           repeat=(position, len(seeds)) if len(seeds) > 1 else None))
    except (SpecError, Refused) as err:
        refusal = str(err)
    if run_ids:
        if refusal:  # said on Train, where the runs that were queued are
            st.session_state["train_error"] = ngettext("{queued} of {count} run queued.", "{queued} of {count} runs "
                                                       "queued.", len(seeds)).format(queued=len(run_ids),
                                                                                     count=len(seeds)) + " " + refusal
        st.session_state["train_watch"] = run_ids[0]
        st.switch_page("app_pages/train.py")
    st.error(refusal, icon=":material/block:")
if build_error is not None:
    st.caption(_("Fix the problem shown above to enable training."))
