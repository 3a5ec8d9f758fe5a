"""Obstacle charts: what blocks the open items, legible at the register's full size.

Pure functions from a DataFrame to an Altair chart, like :mod:`dashboard.charts` (whose status
colours and empty-frame handling they share); apart because the obstacle register is the one view
drawn at 145 x 44, so every label is drawn whole and ranked rather than thinned.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.charts import _empty, _with_status, status_color
from models.store.vocabulary import OKABE_ITO, human


def obstacle_bar(
    df: pd.DataFrame, title: str = "Obstacles blocking the most open recommendations"
) -> alt.Chart:
    """``df``: obstacle, title, category, open."""
    data = _empty(df, ["obstacle", "title", "category", "open"])
    return (
        alt.Chart(data, title=title)
        .mark_bar(color=OKABE_ITO["vermillion"])
        .encode(
            # drawn in half the Overview's width: longer labels left the bars a few pixels
            y=alt.Y("title:N", sort="-x", title=None, axis=alt.Axis(labelLimit=200)),
            x=alt.X("open:Q", title="Open recommendations blocked (count)"),
            tooltip=[
                alt.Tooltip("title:N", title="Obstacle"),
                alt.Tooltip("category:N", title="Category"),
                alt.Tooltip("open:Q", title="Open recommendations blocked"),
            ],
        )
        .properties(height=alt.Step(20))
    )


def obstacle_matrix(df: pd.DataFrame, title: str = "Obstacle × recommendation") -> alt.Chart:
    """``df``: obstacle_title, recommendation, recommendation_title, status, category."""
    data = _with_status(
        _empty(df, ["obstacle_title", "recommendation", "recommendation_title", "status", "category"])
    )
    return (
        alt.Chart(data, title=title)
        .mark_rect(stroke="white")
        .encode(
            x=alt.X(
                "recommendation:N",
                title="Recommendation (key)",
                axis=alt.Axis(labelAngle=-60, labelLimit=180),
            ),
            y=alt.Y("obstacle_title:N", title="Obstacle", axis=alt.Axis(labelLimit=420)),
            color=status_color(title="Recommendation status"),
            tooltip=[
                alt.Tooltip("obstacle_title:N", title="Obstacle"),
                alt.Tooltip("category:N", title="Category"),
                alt.Tooltip("recommendation:N", title="Recommendation"),
                alt.Tooltip("recommendation_title:N", title="Title"),
                alt.Tooltip("Status:N"),
            ],
        )
        .properties(height=alt.Step(16), width=alt.Step(14))
    )


def obstacle_ranking(
    df: pd.DataFrame, title: str = "Obstacles, ranked by the recommendations they block"
) -> alt.Chart:
    """``df``: title, category, open, recommendations — every obstacle on one legible list, open
    blocked in vermillion and the rest (closed) in grey, each label whole up to 420 px (the tooltip
    holds it whole always)."""
    data = _empty(df, ["title", "category", "open", "recommendations"]).copy()
    rows = []
    for r in data.to_dict("records"):
        rows.append({**r, "Blocked": "Open", "n": r["open"]})
        rows.append({**r, "Blocked": "Closed", "n": r["recommendations"] - r["open"]})
    long = pd.DataFrame(rows, columns=[*data.columns, "Blocked", "n"])
    long["Category"] = long["category"].map(lambda v: human("category", v)) if len(long) else []
    order = list(
        data.sort_values(["open", "recommendations", "title"], ascending=[False, False, True])["title"]
    )
    return (
        alt.Chart(long, title=title)
        .mark_bar()
        .encode(
            y=alt.Y("title:N", sort=order, title=None, axis=alt.Axis(labelLimit=420, labelOverlap=False)),
            x=alt.X("n:Q", stack="zero", title="Recommendations blocked (count)"),
            color=alt.Color(
                "Blocked:N",
                scale=alt.Scale(domain=["Open", "Closed"], range=[OKABE_ITO["vermillion"], "#BBBBBB"]),
                title="Recommendation",
                legend=alt.Legend(orient="bottom"),
            ),
            order=alt.Order("Blocked:N", sort="descending"),
            tooltip=[
                alt.Tooltip("title:N", title="Obstacle"),
                alt.Tooltip("Category:N"),
                alt.Tooltip("open:Q", title="Open recommendations blocked"),
                alt.Tooltip("recommendations:Q", title="All recommendations blocked"),
            ],
        )
        .properties(height=alt.Step(21))
    )


def obstacle_theme_heatmap(
    df: pd.DataFrame, title: str = "Obstacle × theme (open recommendations blocked)"
) -> alt.Chart:
    """``df``: obstacle_title, theme, open — 44 obstacles by 12 themes fit a screen, where 44 × 145
    recommendations do not; the drill-down lists the records of a cell."""
    data = _empty(df, ["obstacle_title", "theme", "open"]).copy()
    data["Theme"] = data["theme"].map(lambda v: human("theme", v)) if len(data) else []
    base = alt.Chart(data, title=title).encode(
        x=alt.X("Theme:N", title="Theme", axis=alt.Axis(labelAngle=-35, labelLimit=180)),
        y=alt.Y("obstacle_title:N", title=None, axis=alt.Axis(labelLimit=420, labelOverlap=False)),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color("open:Q", title="Open blocked", scale=alt.Scale(scheme="oranges")),
        tooltip=[
            alt.Tooltip("obstacle_title:N", title="Obstacle"),
            alt.Tooltip("Theme:N"),
            alt.Tooltip("open:Q", title="Open recommendations blocked"),
        ],
    )
    text = base.mark_text(fontSize=10).encode(text="open:Q")
    return (cells + text).properties(height=alt.Step(21))
