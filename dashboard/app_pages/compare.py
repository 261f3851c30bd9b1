"""Compare: every run in one table; overlay curves and per-digit accuracy; rename, delete, fork, download."""

import hashlib

import charts
from callbacks import delete_run, delete_unreadable_run, remember_compare_selection, rename_run
from mnistlab.roles import may_change_run, owner_of
from session_role import person
from common import (distinct_names, follow_runs, fork_in_build, go_to_results, md, show_figure, show_warnings, st,
                    store, test_set)
from mnistlab.data import DataError
from mnistlab.groups import Group, groups
from mnistlab.i18n import N_, _
from mnistlab.runs_table import runs_table
from mnistlab.spec_diff import differences, told_apart
from mnistlab.store import StoreError
from mnistlab.verdict import Side, compare, group_digit_spread, group_table
from mnistlab.status import status_name
from tables import four_places, headed

COLUMNS = ["name", "accuracy", "report_accuracy", "status", "epochs", "params", "optimizer", "learning_rate",
           "batch_size", "train_images", "keras_precision", "keras_recall", "macro_f1", "train_seconds", "created",
           "layers"]  # what a student compares first, on the left; the long layers column last
CURVES = {"val_accuracy": N_("Validation accuracy"), "val_loss": N_("Validation loss"),
          "accuracy": N_("Training accuracy"), "loss": N_("Training loss")}  # shown as _(CURVES[key])
GROUP_NUMBERS = (N_("mean accuracy"), N_("std"), N_("min"), N_("max"), N_("mean precision (Keras)"),
                 N_("mean recall (Keras)"), N_("mean macro F1"))  # verdict.group_table's columns, headed as _(name)
GROUP_OTHERS = (N_("name"), N_("seeds"), N_("runs"), N_("95% interval"))

st.title(_("Compare runs"))
follow_runs("compare")
listing = store().list_runs()
show_warnings(listing.warnings)
if listing.unreadable and person().runs_the_class:
    with st.expander(_("Delete an unreadable run folder ({count})").format(count=len(listing.unreadable)),
                     icon=":material/delete:"):
        broken = st.selectbox(_("Unreadable run folder"), listing.unreadable, key="compare_broken")
        confirm_key = f"compare_confirm_broken_{broken}"
        sure = st.checkbox(_("Yes, delete the folder {folder} and its files").format(folder=md(broken)), key=confirm_key)
        st.button(_("Delete folder"), key="compare_delete_broken", disabled=not sure, on_click=delete_unreadable_run,
                  args=(broken, confirm_key))
table = runs_table(listing)
if table.empty:
    st.info(_("No runs yet. Train one from the Build page."), icon=":material/construction:")
    st.stop()

by_id = {run.run_id: run for run in listing.runs}
names = distinct_names(listing.runs)  # a name for every run, told apart when two share one; no ids in legends
ids = list(table["run_id"])
# The selection is kept as run ids. The table's own selection is by row position, so the table is a new widget
# whenever its rows change (a run deleted, added, reordered): positions never carry over to other runs.
table_key = "compare_table_" + hashlib.sha1("\n".join(ids).encode()).hexdigest()[:12]
selected = [run_id for run_id in st.session_state.get("compare_selected", []) if run_id in by_id]
st.session_state["compare_table_now"] = (table_key, ids)
st.dataframe(
    table.assign(name=[names[run_id] for run_id in ids], status=table["status"].map(status_name))[COLUMNS],
    key=table_key, hide_index=True, width="stretch",
    on_select=remember_compare_selection, selection_mode="multi-row", placeholder="—",
    selection_default={"selection": {"rows": [ids.index(run_id) for run_id in selected]}},
    column_config={
        "name": st.column_config.TextColumn(_("name")),
        "accuracy": four_places(_("accuracy")),
        "keras_precision": four_places(_("precision (Keras)")),
        "keras_recall": four_places(_("recall (Keras)")),
        "macro_f1": four_places(_("macro F1")),
        "report_accuracy": four_places(_("report acc."), help=_("the course report's accuracy for this preset")),
        "status": st.column_config.TextColumn(_("status")),
        "epochs": st.column_config.NumberColumn(_("epochs"), format="localized"),
        "optimizer": st.column_config.TextColumn(_("optimizer")),
        "learning_rate": st.column_config.NumberColumn(_("lr"), format="localized"),
        "train_seconds": st.column_config.NumberColumn(_("train s"), format="localized", step=0.1),
        "batch_size": st.column_config.NumberColumn(_("batch")),
        "params": st.column_config.NumberColumn(_("params"), format="localized"),
        "train_images": st.column_config.NumberColumn(_("train images"), format="localized"),
        "created": st.column_config.TextColumn(_("created")),
        "layers": st.column_config.TextColumn(_("layers")),
    })
st.download_button(_("Download CSV"), table.to_csv(index=False).encode(), file_name="mnistlab-runs.csv",
                   mime="text/csv", key="compare_csv", on_click="ignore")

seed_groups = groups(listing.runs)  # runs of one setup that differ only in their seed
in_group = {run.run_id: group for group in seed_groups for run in group.runs}
group_of = {run.run_id: in_group.get(run.run_id, Group((run,))) for run in listing.runs if run.metrics}  # a seed
# trained twice: the older run stands alone
chosen = [by_id[run_id] for run_id in selected] or [run for run in listing.runs if run.metrics][:3]
chosen = [run for run in chosen if run.metrics]
st.caption(_("Tick rows in the table to compare them below (showing the newest runs).") if not selected else
           _("Tick rows in the table to compare them below."))

if chosen:
    finished = table[table["accuracy"].notna()]
    show_figure(charts.accuracy_bars([names[run_id] for run_id in finished["run_id"]], list(finished["accuracy"]),
                                     [None if v != v else v for v in finished["report_accuracy"]],
                                     title=_("Test accuracy")),
                key="compare_accuracy")
    overlay, seeds = st.columns([7, 3], vertical_alignment="bottom")  # the four choices fit on one line
    curve_names = {key: _(name) for key, name in CURVES.items()}
    curve = overlay.segmented_control(_("Overlay"), list(CURVES), format_func=curve_names.get, key="compare_curve",
                                      default="val_accuracy") or "val_accuracy"
    curve_title = _("{curve} per epoch").format(curve=curve_names[curve])
    chosen_groups = {}  # one entry per group of the ticked runs, in their order
    for run in chosen:
        group = group_of[run.run_id]
        chosen_groups.setdefault(group.runs[0].run_id, group)
    as_groups = any(len(group.runs) > 1 for group in chosen_groups.values()) and seeds.toggle(
        _("Seeds as one line"), key="compare_as_groups", value=True,
        help=_("a ticked run that has been trained with other seeds (Repeat × N) is drawn as the mean of its group, "
               "with a band or error bars of ± one standard deviation"))
    left, right = st.columns(2)
    if as_groups:
        apart = told_apart({key: (group.name, group.runs[0].experiment) for key, group in chosen_groups.items()})
        labelled = {_("{name} ({count} seeds)").format(name=apart[key], count=len(group.runs))
                    if len(group.runs) > 1 else names[key]: group
                    for key, group in chosen_groups.items()}  # two groups called "MLP 1" told apart by their setup
        with left:
            show_figure(charts.group_curves({label: [run.history()["epochs"] for run in group.runs]
                                             for label, group in labelled.items()}, curve,
                                            curve_title), key="compare_curves")
        digits = {label: group_digit_spread(group) for label, group in labelled.items()}
        with right:
            show_figure(charts.per_class_bars({label: mean for label, (mean, _spread) in digits.items()},
                                              errors={label: std for label, (_mean, std) in digits.items() if std}),
                        key="compare_per_class")
    else:
        with left:
            show_figure(charts.compare_curves({names[r.run_id]: r.history()["epochs"] for r in chosen}, curve,
                                              curve_title), key="compare_curves")
        with right:
            show_figure(charts.per_class_bars({names[r.run_id]: r.metrics["per_class_accuracy"] for r in chosen}),
                        key="compare_per_class")

group_rows = group_table(seed_groups)
if group_rows:
    st.subheader(_("Groups of seeds"))
    st.dataframe(group_rows, hide_index=True, width="stretch", key="compare_groups",
                 column_config=headed(group_rows[0], GROUP_NUMBERS))
    st.caption(_("Runs of one network and training setup that differ only in their seed. The 95% interval is "
                 "Student's t over the seeds: where the setup's true mean accuracy lies, given this many seeds."))

pair = [by_id[run_id] for run_id in selected if by_id[run_id].metrics]
if len(pair) == 2:
    st.subheader(_("Which is better?"))
    a, b = pair
    changed = differences(a.experiment, b.experiment)
    st.caption(md(_("From {a} to {b}: {changes}.").format(a=names[a.run_id], b=names[b.run_id],
                                                         changes="; ".join(changed))) if changed else
               _("The same network, trained the same way with the same seed."))
    try:
        _images, test_labels = test_set()  # which test images each run got right
        st.markdown(md(compare(Side(names[a.run_id], Group((a,))), Side(names[b.run_id], Group((b,))),
                               test_labels)["sentence"]))
    except (StoreError, DataError) as err:  # a run without saved predictions; MNIST not found on this machine
        st.info(str(err), icon=":material/info:")
    group_a, group_b = group_of[a.run_id], group_of[b.run_id]
    if len(group_a.runs) > 1 and len(group_b.runs) > 1 and group_a != group_b:  # Welch's t: accuracies only
        apart = told_apart({"a": (a.name, a.experiment), "b": (b.name, b.experiment)})  # two "MLP 1" told apart
        groups = Side(apart["a"], group_a), Side(apart["b"], group_b)
        st.markdown(md(compare(*groups, labels=None)["sentence"]))
    else:
        st.caption(_("McNemar's exact test on the test images only one of the two gets right. To see how much of "
                     "the difference is the seed, train each several times (`python -m mnistlab train --preset "
                     "\"CNN 4\" --repeats 3`): their groups are then compared too."))
elif len(selected) != 2 and chosen:
    st.caption(_("Tick exactly two rows to ask which is better — and whether the difference is real."))

st.subheader(_("Manage runs"))
if "compare_error" in st.session_state:
    st.error(st.session_state.pop("compare_error"), icon=":material/warning:")
if "compare_notice" in st.session_state:
    st.success(st.session_state.pop("compare_notice"), icon=":material/delete:")
labels = {run_id: f"{by_id[run_id].name} · {run_id}" for run_id in ids}
# The target is kept as a run id. The box is a new widget whenever a label changes (a rename anywhere), because
# a box whose options keep their values shows its old labels; it then starts on the same run id.
kept = st.session_state.get("compare_target_id")
target = st.selectbox(_("Run"), ids, index=ids.index(kept) if kept in by_id else 0, format_func=labels.get,
                      key="compare_target_" + hashlib.sha1("\n".join(labels.values()).encode()).hexdigest()[:12])
st.session_state["compare_target_id"] = target
mine = may_change_run(person(), owner_of(by_id[target].info))
c1, c2, c3, c4 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
new_name = c1.text_input(_("New name"), key="compare_new_name", placeholder=by_id[target].name, disabled=not mine)
c2.button(_("Rename"), key="compare_rename", disabled=not (mine and new_name.strip()), on_click=rename_run, args=(target,))
if c3.button(_("Open in Results"), key="compare_open", disabled=not by_id[target].metrics):
    go_to_results(target)
if c4.button(_("Open in Build"), key="compare_fork", help=_("a new network with this run's layers and settings")):
    fork_in_build(by_id[target])
if mine:
    confirm_key = f"compare_confirm_{target}"  # a confirmation belongs to one run
    confirm = st.checkbox(_("Yes, delete {name} ({run_id}) and its files").format(name=md(by_id[target].name),
                                                                                 run_id=target), key=confirm_key)
    st.button(_("Delete run"), key="compare_delete", disabled=not confirm, type="primary", on_click=delete_run,
              args=(target, confirm_key))
else:
    st.caption(_("This run is someone else's: in a class, a student can rename or delete only the runs they queued "
                 "themselves."))
