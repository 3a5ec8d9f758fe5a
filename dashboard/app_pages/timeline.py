"""Timeline: historical events and the dates of recommendations (when each was made, from the
audit trail; target dates) on one axis, filtered by country and period."""

from datetime import date

import pandas as pd
import streamlit as st

from dashboard import charts, data, ui
from dashboard.picker import record_picker

ui.page_user("read", "the timeline")
st.title("Timeline")

bounds = data.read("timeline_bounds")
if bounds is None:
    st.info(
        "Nothing to place on the timeline yet. Events and recommendations arrive with the catalog (`rectrack seed`)."
    )
    st.stop()

lo, hi = bounds
c1, c2 = st.columns([1, 2])
countries = c1.multiselect(
    "Country (events) / who must act (recommendations)",
    data.read("timeline_countries"),
    key="tl_countries",
    placeholder="All",
)
period = c2.slider(
    "Period", min_value=lo, max_value=max(hi, lo + 1), value=(max(lo, 1900), max(hi, lo + 1)), key="tl_period"
)
LANE_LIMIT = 1000  # items drawn per lane: the chart and the list stay one screenful at any store size
span = dict(start=date(period[0], 1, 1), end=date(period[1], 12, 31), countries=tuple(sorted(countries)))
items = data.read("timeline_items", **span, limit=LANE_LIMIT)
if not items:
    ui.no_results("events or dates")
    st.stop()

totals = data.read("timeline_counts", **span)
df = pd.DataFrame(items)
counts = df["lane"].value_counts().to_dict()
st.caption(
    " · ".join(
        f"{k}: {v:,}" if totals.get(k, v) == v else f"{k}: the first {v:,} of {totals[k]:,}"
        for k, v in counts.items()
    )
    + ". Drag to pan, scroll to zoom."
    + (
        " Narrow the period or the countries to see every item."
        if any(totals[k] > v for k, v in counts.items())
        else ""
    )
)
st.altair_chart(
    charts.timeline_chart(df, f"Events and recommendation dates, {period[0]}–{period[1]}"), width="stretch"
)

lanes = st.multiselect("List", sorted(counts), default=sorted(counts), key="tl_lanes")
st.dataframe(
    df[df["lane"].isin(lanes)].sort_values("date")[["date", "lane", "title", "country", "category", "key"]],
    hide_index=True,
    width="stretch",
    height=320,
)
if any(r["lane"] != "Historical event" for r in items):
    with st.expander("Open a recommendation from the timeline"):
        key = record_picker(
            "Recommendation",
            key="tl_pick",
            rows=[{"key": r["key"], "title": r["title"]} for r in items if r["lane"] != "Historical event"],
        )
        if key and st.button("Open detail", key="tl_open"):
            ui.open_detail(key)
