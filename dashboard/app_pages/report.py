"""Report: the course report's 15 results beside the runs in the store that reproduce them."""

import pandas as pd

import charts
from common import follow_runs, go_to_results, md, show_figure, show_warnings, st, store, test_labels, worker
from mnistlab.i18n import N_, _
from mnistlab.presets import PRESETS
from mnistlab.reproduce import CLAIMS, RunIndex, compare, finding_verdicts, reproduction_group, spread_row
from mnistlab.roles import Refused
from session_role import person
from tables import headed

ROW_PX = 35  # st.dataframe's row height
HEADERS = (N_("experiment"), N_("params"), N_("report accuracy"), N_("our accuracy"), N_("Δ (pp)"), N_("seeds"),
           N_("our mean"), N_("± std"), N_("report in our range"), N_("status"), N_("report precision"),
           N_("our precision"), N_("report recall"), N_("our recall"), N_("is, says the report,"), N_("holds up"),
           N_("Δ mean (pp)"), N_("p (seeds)"), N_("real difference"), N_("finding (report)"),
           N_("image by image (seed 42)"))  # the tables' column names, headed as _(name)
FOUR_PLACES = ("report accuracy", "our accuracy", "our mean", "± std", "report precision", "our precision",
               "report recall", "our recall")


def yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


st.title(_("The course report, reproduced"))
follow_runs("report")
st.caption(_("Each row is one of the report's experiments at its own settings (full training set, 30 epochs — "
             "CNN 1: 10 — batch 128, validation split 0.1). A run counts as a reproduction when its spec matches "
             "exactly and it trained to its end (a stopped run does not count); `python -m mnistlab reproduce` makes "
             "them from the terminal too, and `reproduce --seeds 3` repeats each with seeds 42, 43 and 44: the mean, "
             "spread and whether the report's number lies within our range then fill their columns."))

listing = store().list_runs()
show_warnings(listing.warnings)
index = RunIndex.of(listing.runs)  # the runs indexed once for every question below
comparisons = compare(index, list(PRESETS))

current = worker().current()
training_now = next((c.preset.name for c in comparisons if current and current.experiment == c.preset.experiment), None)
rows, quality = [], []
for c in comparisons:
    ours = c.ours or {}
    spread = spread_row(c.preset, reproduction_group(c.preset, index))  # over seeds: reproduce --seeds 3
    rows.append({
        "experiment": c.preset.name, "params": c.preset.params,
        "report accuracy": c.preset.report.accuracy, "our accuracy": ours.get("accuracy"),
        "Δ (pp)": None if c.difference("accuracy") is None else c.difference("accuracy") * 100,
        "seeds": spread["seeds"], "our mean": spread["mean"], "± std": spread["std"],
        "report in our range": None if spread["report_in_range"] is None else yes_no(spread["report_in_range"]),
        "status": c.status(training=c.preset.name == training_now),
    })
    quality.append({"experiment": c.preset.name,
                    "report precision": c.preset.report.precision, "our precision": ours.get("keras_precision"),
                    "report recall": c.preset.report.recall, "our recall": ours.get("keras_recall")})
# Accuracy first, precision and recall in a table of their own: in one table of fifteen columns a 1280-px screen
# cut it at "report prec…", and the findings' sentences, as a column, were never seen whole (they are listed below).
table = pd.DataFrame(rows)
st.dataframe(table, hide_index=True, width="stretch", key="report_table", placeholder="—",
             height=ROW_PX * (len(table) + 1) + 3,  # every row in sight: no scrolling inside the table
             column_config=headed(rows[0], FOUR_PLACES, **{
                 "Δ (pp)": st.column_config.NumberColumn(_("Δ (pp)"), format="localized", step=0.01),
                 "params": st.column_config.NumberColumn(_("params"), format="localized")}))
with st.expander(_("Precision and recall"), icon=":material/table:"):
    st.dataframe(pd.DataFrame(quality), hide_index=True, key="report_quality", placeholder="—",
                 height=ROW_PX * (len(quality) + 1) + 3, column_config=headed(quality[0], FOUR_PLACES))
with st.expander(_("What the report found, experiment by experiment"), icon=":material/description:"):
    st.markdown("\n".join(f"- **{c.preset.name}**: {md(_(c.preset.report.finding))}" for c in comparisons))

if training_now in {c.preset.name for c in comparisons}:
    st.page_link("app_pages/train.py", label=_("{name} is training now: watch it on the Train page").format(
        name=training_now),
                 icon=":material/model_training:")

done = [c for c in comparisons if c.run]
if done:
    show_figure(charts.accuracy_bars([c.preset.name for c in done], [c.ours["accuracy"] for c in done],
                                     [c.preset.report.accuracy for c in done],
                                     title=_("Our test accuracy, with the report's as diamonds")), key="report_chart")

verdicts = finding_verdicts(list(PRESETS), index, test_labels())
if verdicts:
    st.subheader(_("Do the report's findings hold up?"))
    st.caption(_("Each finding against the experiment it compares with, both reproduced over several seeds "
                 "(`python -m mnistlab reproduce --seeds 3`): Welch's t on the seeds' accuracies, and McNemar's test "
                 "on the report's seed image by image. A real difference is p < 0.05."))
    findings = [{  # the verdict first: at 1280 px the long sentences are cut at the right
        "experiment": row["experiment"], "is, says the report,": f"{_(CLAIMS[row['claim']])} {row['against']}",
        "holds up": yes_no(row["holds"]), "Δ mean (pp)": 100 * row["difference"],
        "p (seeds)": row["p_value"], "real difference": yes_no(row["real"]), "finding (report)": _(row["finding"]),
        "image by image (seed 42)": row["first_seed"]["sentence"] if row["first_seed"] else "—",
    } for row in verdicts]
    st.dataframe(pd.DataFrame(findings), hide_index=True, width="stretch", key="report_findings",
                 height=ROW_PX * (len(verdicts) + 1) + 3,
                 column_config=headed(findings[0], FOUR_PLACES, **{
                     "Δ mean (pp)": st.column_config.NumberColumn(_("Δ mean (pp)"), format="localized", step=0.01),
                     "p (seeds)": st.column_config.NumberColumn(_("p (seeds)"), format="%.3g")}))

st.info(_("**Why MLP 9 fails.** Adam at learning rate 0.2 takes steps two hundred times larger than its default. "
          "On the second batch the loss jumps from about 2.3 to over a thousand: the weights blow up, the ReLU units "
          "die, and the network ends up predicting the same digit for every image — the report's 0.101 accuracy. "
          "MNIST Lab stops such a run at once and marks it *diverged*."), icon=":material/error:")

missing = [c.preset for c in comparisons if not c.run]
queued_names = {name for _run_id, name in worker().queued()}
if current:
    queued_names.add(current.name)
if missing and person().runs_the_class:  # the report's reproductions are the teacher's to queue
    st.subheader(_("Reproduce the missing rows"))
    st.caption(_("Each is queued for the training worker at the report's full settings "
                 "(minutes each on a laptop CPU; the CNNs take longest)."))
    cols = st.columns(5)
    for i, preset in enumerate(missing):
        waiting = preset.name in queued_names
        if cols[i % 5].button(_("{name} (queued)").format(name=preset.name) if waiting else preset.name,
                              key=f"report_run_{preset.name}",
                              disabled=waiting):
            try:
                worker().submit(preset.experiment, person(), reproduction=True)
            except Refused as err:
                st.error(str(err), icon=":material/lock:")
            else:
                st.rerun()
if done:
    names = {c.run.run_id: c.preset.name for c in done}
    pick = st.selectbox(_("Open a reproduction in Results"), list(names), key="report_open_pick",
                        format_func=names.get)
    if st.button(_("Open"), key="report_open"):
        go_to_results(pick)
