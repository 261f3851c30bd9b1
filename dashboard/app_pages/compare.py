"""Compare: every run in one table; overlay curves and per-digit accuracy; rename, delete, download."""

import charts
from callbacks import delete_run, rename_run
from common import go_to_results, md, show_warnings, st, store
from mnistlab.store import runs_table

st.title("Compare runs")
listing = store().list_runs()
show_warnings(listing.warnings)
if listing.unreadable:
    with st.expander(f"Delete an unreadable run folder ({len(listing.unreadable)})", icon=":material/delete:"):
        broken = st.selectbox("Unreadable run folder", listing.unreadable, key="compare_broken")
        confirm_key = f"compare_confirm_broken_{broken}"
        sure = st.checkbox(f"Yes, delete the folder {broken} and its files", key=confirm_key)
        st.button("Delete folder", key="compare_delete_broken", disabled=not sure, on_click=delete_run,
                  args=(broken, confirm_key))
table = runs_table(listing)
if table.empty:
    st.info("No runs yet. Train one from the Build page.", icon=":material/construction:")
    st.stop()

by_id = {run.run_id: run for run in listing.runs}
shown = table.drop(columns=["run_id"])
selection = st.dataframe(
    shown, key="compare_table", hide_index=True, width="stretch", on_select="rerun", placeholder="—",
    selection_mode="multi-row",
    column_config={
        "accuracy": st.column_config.NumberColumn("accuracy", format="%.4f"),
        "keras_precision": st.column_config.NumberColumn("precision (Keras)", format="%.4f"),
        "keras_recall": st.column_config.NumberColumn("recall (Keras)", format="%.4f"),
        "macro_f1": st.column_config.NumberColumn("macro F1", format="%.4f"),
        "report_accuracy": st.column_config.NumberColumn("report acc.", format="%.4f",
                                                         help="the course report's accuracy for this preset"),
        "learning_rate": st.column_config.NumberColumn("lr", format="%g"),
        "train_seconds": st.column_config.NumberColumn("train s", format="%.1f"),
        "params": st.column_config.NumberColumn("params", format="localized"),
    })
st.download_button("Download CSV", table.to_csv(index=False).encode(), file_name="mnistlab-runs.csv",
                   mime="text/csv", key="compare_csv")

rows = selection.selection.rows if selection else []
chosen = [by_id[table.iloc[i]["run_id"]] for i in rows] or [run for run in listing.runs if run.metrics][:3]
chosen = [run for run in chosen if run.metrics]
st.caption("Select rows in the table to compare them below" + (" (showing the newest runs)." if not rows else "."))

if chosen:
    finished = table[table["accuracy"].notna()]
    st.plotly_chart(charts.accuracy_bars(list(finished["name"]), list(finished["accuracy"]),
                                         [None if v != v else v for v in finished["report_accuracy"]],
                                         tags=list(finished["run_id"].str[:15])),
                    key="compare_accuracy", width="stretch")
    labels = {run.run_id: f"{run.name} · {run.run_id[:15]}" for run in chosen}
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.compare_curves({labels[r.run_id]: r.history()["epochs"] for r in chosen}),
                        key="compare_curves", width="stretch")
    with right:
        st.plotly_chart(charts.per_class_bars({labels[r.run_id]: r.metrics["per_class_accuracy"] for r in chosen}),
                        key="compare_per_class", width="stretch")

st.subheader("Manage runs")
if "compare_error" in st.session_state:
    st.error(st.session_state.pop("compare_error"), icon=":material/warning:")
if "compare_notice" in st.session_state:
    st.success(st.session_state.pop("compare_notice"), icon=":material/delete:")
ids = list(table["run_id"])
names = {rid: f"{by_id[rid].name} · {rid}" for rid in ids}
target = st.selectbox("Run", ids, key="compare_target", format_func=names.get)
c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
new_name = c1.text_input("New name", key="compare_new_name", placeholder=by_id[target].name)
c2.button("Rename", key="compare_rename", disabled=not new_name.strip(), on_click=rename_run, args=(target,))
if c3.button("Open in Results", key="compare_open", disabled=not by_id[target].metrics):
    go_to_results(target)
confirm_key = f"compare_confirm_{target}"  # a confirmation belongs to one run
confirm = st.checkbox(f"Yes, delete {md(by_id[target].name)} ({target}) and its files", key=confirm_key)
st.button("Delete run", key="compare_delete", disabled=not confirm, type="primary", on_click=delete_run,
          args=(target, confirm_key))
