"""Obstacles: the register of what blocks cooperation, and which recommendations each blocks."""

import pandas as pd
import streamlit as st

from dashboard import data, obstacle_charts, ui, watching
from models.store.vocabulary import human

user = ui.page_user("read", "the obstacles")
ALL = "All"
st.title("Obstacles")

register = data.read("obstacle_register")
if not register:
    st.info("No obstacles are recorded yet. They arrive with the catalog (`rectrack seed`).")
    st.stop()

categories = sorted({r["category"] for r in register})
c1, c2 = st.columns(2)
category = c1.selectbox(
    "Category",
    [ALL, *categories],
    key="obs_category",
    format_func=lambda v: v if v == ALL else human("category", v),
)
themes = data.read("filter_options")["theme"]
theme = c2.selectbox(
    "Theme of the recommendation (matrix)",
    [ALL, *themes],
    key="obs_theme",
    format_func=lambda v: v if v == ALL else human("theme", v),
)
cat = None if category == ALL else category

rows = [r for r in register if cat is None or r["category"] == cat]
st.subheader(f"Register ({len(rows)})")
table = pd.DataFrame(rows)[["title", "category", "side", "open", "recommendations", "summary", "key"]]
table["category"] = table["category"].map(lambda v: human("category", v))
table["side"] = table["side"].map(lambda v: human("side", v))
st.dataframe(
    ui.no_blanks(table.rename(columns={"open": "open recs blocked", "recommendations": "recs linked"})),
    hide_index=True,
    width="stretch",
    height=300,
    column_config={"summary": st.column_config.TextColumn("Summary", width="large")},
)

# what blocks most, legible at 145 recommendations × 44 obstacles: a ranked list, then obstacle × theme;
# the record-level matrix only once a theme or category narrows it to what fits a screen
st.altair_chart(obstacle_charts.obstacle_ranking(pd.DataFrame(rows)), width="stretch")
by_theme = data.read("obstacle_by_theme", category=cat)
if by_theme:
    st.altair_chart(obstacle_charts.obstacle_theme_heatmap(pd.DataFrame(by_theme)), width="stretch")
MATRIX_MAX = 60
matrix = data.read("obstacle_matrix", category=cat, theme=None if theme == ALL else theme)
n_recs = len({m["recommendation"] for m in matrix})
if not matrix:
    ui.no_results("obstacle links")
elif theme == ALL and cat is None:
    st.caption("Pick a theme or a category above for the obstacle × recommendation matrix of those records.")
elif n_recs > MATRIX_MAX:
    st.caption(
        f"{n_recs} recommendations match: narrow by theme and category to at most {MATRIX_MAX} for the matrix."
    )
else:
    st.altair_chart(
        obstacle_charts.obstacle_matrix(
            pd.DataFrame(matrix), "Obstacle × recommendation (colour: status now)"
        ),
        width="stretch",
    )

obstacle_titles = {r["key"]: r["title"] for r in rows}
with st.expander("Recommendations blocked by one obstacle", expanded=False):
    pick = st.selectbox(
        "Obstacle", list(obstacle_titles), key="obs_pick", format_func=lambda k: obstacle_titles[k]
    )
    watching.flash()
    if pick:
        watching.toggle(user, "obstacle", pick, key="watch_obstacle")
    only_open = st.toggle("Only open recommendations", key="obs_open")
    if pick:
        ui.records_table(
            data.read("segment_records", None, obstacle=pick, open_only=only_open), key="obs_recs"
        )
