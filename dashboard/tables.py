"""Tables with their column headers in the session's language: a table's data keep their English column names (what
tests and the CSV read), and each header is translated where the table is drawn (st.column_config's label)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mnistlab.i18n import _


def layer_frame(rows) -> pd.DataFrame:
    """A network's layers (spec.layer_table's or validate's rows): number, layer, output shape, parameters."""
    return pd.DataFrame([{"#": r.number, "layer": r.description, "output shape": str(r.output_shape),
                          "params": r.params} for r in rows])


def layer_columns() -> dict:
    return {"layer": st.column_config.TextColumn(_("layer")),
            "output shape": st.column_config.TextColumn(_("output shape")),
            "params": st.column_config.NumberColumn(_("params"), format="localized")}


def four_places(label: str, **options):
    """A number column shown with four decimals in the browser's own way of writing numbers ("0,9924" in a pt-BR
    browser): Streamlit's "localized" format, whose number of decimals follows the column's step."""
    return st.column_config.NumberColumn(label, format="localized", step=0.0001, **options)


def headed(names, four_decimals=(), **special) -> dict:
    """Column configs for a table whose column names are English messages (marked with N_ where the table is made):
    each headed by its translation, with four decimals for the names in `four_decimals`; `special` configs as given."""
    made = {name: four_places(_(name)) if name in four_decimals else st.column_config.Column(_(name))
            for name in names}
    return made | special


def lesson_table(rows: list[dict], choice_names: dict) -> pd.DataFrame:
    """The lesson's end (mnistlab.lesson.summary) as a table and its CSV: each step's question, the class's split in
    each vote ("Better 2 · The same 1 · Worse 0"), the answer and the share that predicted it."""
    def said(votes):
        return None if votes is None else " · ".join(f"{choice_names[c]} {n}" for c, n in votes.items())

    share = _("predicted it (%)")
    return pd.DataFrame([{
        _("step"): row["step"], _("question"): row["question"], _("first vote"): said(row["first_vote"]),
        _("second vote"): said(row["second_vote"]),
        _("answer"): choice_names[row["answer"]] if row["answer"] else None,
        share: None if row["right"] is None else round(100 * row["right"]),
    } for row in rows]).astype({share: "Int64"})  # whole percentages, blank where a step is not revealed yet
