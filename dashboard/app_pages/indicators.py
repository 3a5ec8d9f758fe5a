"""Indicators: every cited time series, with its unit and period; values that disagree are
drawn side by side and marked, never averaged; each point's tooltip names its source."""

import pandas as pd
import streamlit as st

from dashboard import charts, data, ui

ui.page_user("read", "the indicators")
st.title("Indicators")

catalog = data.read("indicator_catalog")
if not catalog:
    st.info("No indicators are recorded yet. They arrive with the catalog (`rectrack seed`).")
    st.stop()

categories = sorted({c["category"] for c in catalog})
default_cat = "security_assistance" if "security_assistance" in categories else categories[0]
c1, c2 = st.columns([1, 2])
category = c1.selectbox("Category", categories, index=categories.index(default_cat), key="ind_category")
in_cat = [c for c in catalog if c["category"] == category]
names = {
    c["key"]: f"{c['name']} ({c['country']}, {c['values']} value{'s' if c['values'] != 1 else ''})"
    for c in in_cat
}
default = [c["key"] for c in sorted(in_cat, key=lambda c: -c["values"])][:4]
picked = c2.multiselect(
    "Series", list(names), default=default, key="ind_series", format_func=lambda k: names[k]
)

if not picked:
    ui.no_results("series")
else:
    values = pd.DataFrame(data.read("indicator_values", tuple(picked)))
    meta = {c["key"]: c for c in in_cat}
    for k in picked:
        series = values[values["indicator"] == k] if len(values) else values
        with st.container():
            if series.empty:
                st.caption(ui.say("{name}: no values recorded.", name=meta[k]["name"]))
                continue
            st.altair_chart(charts.indicator_chart(series, meta[k]["name"], meta[k]["unit"]), width="stretch")
            n_conf = int(series["conflict"].sum())
            if n_conf:
                st.warning(
                    f"{n_conf} value(s) conflict: the sources disagree for the same period. Both are kept.",
                    icon=":material/warning:",
                )

st.subheader("Values in this category")
all_values = pd.DataFrame(data.read("indicator_values", tuple(c["key"] for c in in_cat)))
if all_values.empty:
    ui.no_results("values")
else:
    only_conf = st.toggle("Only conflicting values", key="ind_only_conflicts")
    shown = all_values[all_values["conflict"]] if only_conf else all_values
    st.dataframe(
        shown[
            [
                "name",
                "period",
                "value",
                "unit",
                "country",
                "source",
                "section",
                "lines",
                "conflict",
                "conflict_note",
                "note",
            ]
        ],
        hide_index=True,
        width="stretch",
        height=320,
    )
