"""Obstacles: the register of what blocks cooperation, and which recommendations each blocks."""

import pandas as pd
import streamlit as st

from dashboard import charts, data, ui

ui.page_user("read", "the obstacles")
ALL = "All"
st.title("Obstacles")

register = data.read("obstacle_register")
if not register:
    st.info("No obstacles are recorded yet. They arrive with the catalog (`rectrack seed`).")
    st.stop()

categories = sorted({r["category"] for r in register})
c1, c2 = st.columns(2)
category = c1.selectbox("Category", [ALL, *categories], key="obs_category")
themes = data.read("filter_options")["theme"]
theme = c2.selectbox("Theme of the recommendation (matrix)", [ALL, *themes], key="obs_theme")
cat = None if category == ALL else category

rows = [r for r in register if cat is None or r["category"] == cat]
st.subheader(f"Register ({len(rows)})")
st.dataframe(pd.DataFrame(rows)[["title", "category", "side", "open", "recommendations", "summary", "key"]]
             .rename(columns={"open": "open recs blocked", "recommendations": "recs linked"}),
             hide_index=True, width="stretch", height=300,
             column_config={"summary": st.column_config.TextColumn("Summary", width="large")})

matrix = data.read("obstacle_matrix", category=cat, theme=None if theme == ALL else theme)
if matrix:
    st.altair_chart(charts.obstacle_matrix(pd.DataFrame(matrix), "Obstacle × recommendation (colour: status now)"),
                    width="content")
else:
    ui.no_results("obstacle links")

obstacle_titles = {r["key"]: r["title"] for r in rows}
with st.expander("Recommendations blocked by one obstacle", expanded=False):
    pick = st.selectbox("Obstacle", list(obstacle_titles), key="obs_pick",
                        format_func=lambda k: obstacle_titles[k])
    only_open = st.toggle("Only open recommendations", key="obs_open")
    if pick:
        ui.records_table(data.read("segment_records", None, obstacle=pick, open_only=only_open), key="obs_recs")
