"""Chart builders: pure functions from a DataFrame to an Altair chart.

No Streamlit and no store here, so each builder is tested through ``chart.to_dict()``. Every
chart that shows a status uses :func:`status_color`, one colour-blind-safe mapping
(the Okabe-Ito palette) so "implemented" is the same green everywhere.
"""

from __future__ import annotations

import re

import altair as alt
import pandas as pd

from models.rules.lifecycle import STATUS_LABELS
from models.store.vocabulary import (  # noqa: F401  (STATUS_COLORS: used by ui)
    FIGURE_COLORS,
    FIGURE_STATUSES,
    NO_STATUS_CLAIMED,
    OKABE_ITO,
    STATUS_COLORS,
    STATUSES,
    UNCLAIMED,
    human,
    owners_shown,
)

# "No status claimed" (policies and old proposals no source gives a status) sits beside "Proposed"
STATUS_ORDER = [STATUS_LABELS.get(s, NO_STATUS_CLAIMED) for s in FIGURE_STATUSES]
LANE_COLORS = {
    "Historical event": OKABE_ITO["black"],
    "Recommendation made": OKABE_ITO["blue"],
    "Target date": OKABE_ITO["vermillion"],
}


def label(status: str) -> str:
    return NO_STATUS_CLAIMED if status == UNCLAIMED else STATUS_LABELS.get(status, status)


def status_color(title: str = "Status", legend: bool = True) -> alt.Color:
    """The one status colour encoding (field ``Status`` holds the human label)."""
    scale = alt.Scale(domain=STATUS_ORDER, range=[FIGURE_COLORS[s] for s in FIGURE_STATUSES])
    return alt.Color(
        "Status:N",
        scale=scale,
        sort=STATUS_ORDER,
        title=title,
        legend=alt.Legend(orient="bottom", columns=4) if legend else None,
    )


def _with_status(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["Status"] = out["status"].map(label)
    out["status_rank"] = out["status"].map({s: i for i, s in enumerate(FIGURE_STATUSES)})
    return out


def _empty(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return df if len(df) else pd.DataFrame(columns=cols)


def status_bar(df: pd.DataFrame, title: str = "Recommendations by status") -> alt.Chart:
    """``df``: status, count."""
    data = _with_status(_empty(df, ["status", "count"]))
    return (
        alt.Chart(data, title=title)
        .mark_bar()
        .encode(
            x=alt.X("count:Q", title="Recommendations (count)"),
            y=alt.Y("Status:N", sort=STATUS_ORDER, title="Status"),
            color=status_color(legend=False),
            tooltip=[alt.Tooltip("Status:N"), alt.Tooltip("count:Q", title="Recommendations")],
        )
        .properties(height=alt.Step(26))
    )


def progress_area(df: pd.DataFrame, title: str = "Recommendations by status over time") -> alt.Chart:
    """``df``: period (date), status, count — the count in each status at the end of each period."""
    data = _with_status(_empty(df, ["period", "status", "count"]))
    data["period"] = pd.to_datetime(data["period"])
    return (
        alt.Chart(data, title=title)
        .mark_area(interpolate="step-after", opacity=0.9)
        .encode(
            x=alt.X("period:T", title="Year (effective date of the change)"),
            y=alt.Y("count:Q", stack="zero", title="Recommendations (count)"),
            color=status_color(legend=True),
            order=alt.Order("status_rank:Q"),
            tooltip=[
                alt.Tooltip("period:T", title="Period", format="%Y"),
                alt.Tooltip("Status:N"),
                alt.Tooltip("count:Q", title="Recommendations"),
            ],
        )
        # Streamlit fits a stretched chart into this height, title, axes and legend included
        .properties(height=420)
    )


def status_heatmap(df: pd.DataFrame, row: str = "theme", title: str = "Theme × status") -> alt.Chart:
    """``df``: <row>, status, count. Each cell in its status colour, more opaque the more records."""
    data = _with_status(_empty(df, [row, "status", "count"]))
    data["label"] = data[row].map(lambda v: human(row, v)) if len(data) else []
    base = alt.Chart(data, title=title).encode(
        x=alt.X("Status:N", sort=STATUS_ORDER, title="Status", axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("label:N", title=row.replace("_", " ").capitalize(), axis=alt.Axis(labelLimit=320)),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=status_color(legend=False),
        opacity=alt.Opacity("count:Q", title="Recommendations (count)", scale=alt.Scale(range=[0.25, 1])),
        tooltip=[
            alt.Tooltip("label:N", title=row.replace("_", " ").capitalize()),
            alt.Tooltip("Status:N"),
            alt.Tooltip("count:Q", title="Recommendations"),
        ],
    )
    text = base.mark_text(fontSize=11, color="black").encode(text="count:Q")
    return (cells + text).properties(height=alt.Step(22))


def status_stacked_bar(
    df: pd.DataFrame, category: str, title: str, top: int = 20, marks: dict[str, list[int]] | None = None
) -> alt.Chart:
    """``df``: <category>, status, count — horizontal bars per category, stacked by status.
    ``marks`` (``{value: [inferred, total]}``, for owners) label a bar "(inferred)" or "(k of n
    inferred)" where the sources do not name the office for some of its records."""
    data = _with_status(_empty(df, [category, "status", "count"]))
    if len(data):
        totals = data.groupby(category)["count"].sum().sort_values(ascending=False)
        keep = list(totals.index[:top])
        data = data[data[category].isin(keep)].copy()
    else:
        keep = []
    marks = marks or {}

    def shown(v):
        return owners_shown(v, *marks[v]) if v in marks else v

    data["label"] = [shown(v) for v in data[category]] if len(data) else []
    name = category.replace("_", " ").capitalize()
    return (
        alt.Chart(data, title=title)
        .mark_bar()
        .encode(
            # long owner names are cut at 260 px on the axis; the tooltip and the drill-down hold them whole
            y=alt.Y("label:N", sort=[shown(v) for v in keep], title=name, axis=alt.Axis(labelLimit=260)),
            x=alt.X("count:Q", stack="zero", title="Recommendations (count)"),
            color=status_color(),
            order=alt.Order("status_rank:Q"),
            tooltip=[
                alt.Tooltip(f"{category}:N", title=name),
                *([alt.Tooltip("label:N", title="Owner named by the sources?")] if marks else []),
                alt.Tooltip("Status:N"),
                alt.Tooltip("count:Q", title="Recommendations"),
            ],
        )
        .properties(height=alt.Step(20))
    )


_SPAN = re.compile(
    r"total|cumulative|\b(?:FY)?((?:1[89]|20)\d\d)\s*[-–]\s*(?:FY)?((?:1[89]|20)\d\d)\b"
    r"|\bFY(\d\d)\s*[-–]\s*FY(\d\d)\b",
    re.I,
)


def is_multi_year(period: str) -> bool:
    """A value that covers several years: a total, a cumulative figure, "2008-2012", "FY08-FY12"
    (not "1996-05", a month, nor "P.L. 110-252", a law)."""
    m = _SPAN.search(period or "")
    if not m:
        return False
    first, last = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return first is None or first != last


def indicator_chart(df: pd.DataFrame, name: str, unit: str) -> alt.Chart:
    """One series; where it holds both yearly values and multi-year totals, the totals are drawn
    beside it on their own axis, never among the yearly values (where a five-year total reads as a
    spike). See :func:`_indicator_series` for the series itself."""
    data = _empty(
        df,
        [
            "period",
            "year",
            "value",
            "country",
            "source",
            "section",
            "lines",
            "conflict",
            "conflict_note",
            "note",
        ],
    ).copy()
    spans = data["period"].map(is_multi_year) if len(data) else pd.Series([], dtype=bool)
    if len(data) and spans.any() and not spans.all():
        yearly = _indicator_series(data[~spans], name, unit, "Yearly and single-period values")
        totals = _indicator_series(
            data[spans], "Multi-year totals", unit, "Own axis: not comparable with single years", line=False
        )
        return alt.hconcat(yearly, totals.properties(width=220)).resolve_scale(
            y="independent", color="shared", shape="shared"
        )
    return _indicator_series(data, name, unit)


def _indicator_series(
    df: pd.DataFrame, name: str, unit: str, subtitle: str | None = None, line: bool = True
) -> alt.Chart:
    """``df``: period, year, value, country, source, section, lines, conflict, conflict_note, note.

    One series: the x axis keeps the source's own period labels (ordered by year); conflicting
    values for the same period are both drawn, as hollow vermillion diamonds, never averaged."""
    cols = [
        "period",
        "year",
        "value",
        "country",
        "source",
        "section",
        "lines",
        "conflict",
        "conflict_note",
        "note",
    ]
    data = _empty(df, cols).copy()
    for col in ("section", "lines", "conflict_note", "note", "country", "source"):
        data[col] = data[col].map(
            lambda v: "—" if v is None or v == "" or (isinstance(v, float) and v != v) else v
        )
    data["Value"] = data["conflict"].map({True: "conflicting", False: "single source"}) if len(data) else []
    order = (
        list(dict.fromkeys(data.sort_values(["year", "period"], na_position="last")["period"]))
        if len(data)
        else []
    )
    base = alt.Chart(
        data, title=alt.Title(name, subtitle=f"Unit: {unit}" + (f" · {subtitle}" if subtitle else ""))
    ).encode(
        x=alt.X("period:N", sort=order, title="Period", axis=alt.Axis(labelAngle=-30, labelLimit=160)),
        y=alt.Y("value:Q", title=unit),
    )
    line_mark = base.mark_line(color=OKABE_ITO["blue"], opacity=0.5).encode(detail="country:N")
    points = base.mark_point(size=80, filled=True).encode(
        shape=alt.Shape(
            "Value:N",
            scale=alt.Scale(domain=["single source", "conflicting"], range=["circle", "diamond"]),
            title="Value",
            legend=alt.Legend(orient="bottom"),
        ),
        color=alt.Color(
            "Value:N",
            scale=alt.Scale(
                domain=["single source", "conflicting"], range=[OKABE_ITO["blue"], OKABE_ITO["vermillion"]]
            ),
            title="Value",
            legend=alt.Legend(orient="bottom"),
        ),
        tooltip=[
            alt.Tooltip("period:N", title="Period"),
            alt.Tooltip("value:Q", title=unit, format=",.4~f"),
            alt.Tooltip("country:N", title="Country"),
            alt.Tooltip("source:N", title="Source"),
            alt.Tooltip("section:N", title="Section"),
            alt.Tooltip("lines:N", title="Lines"),
            alt.Tooltip("conflict_note:N", title="Conflict"),
            alt.Tooltip("note:N", title="Note"),
        ],
    )
    return ((line_mark + points) if line else points).properties(height=380)


def timeline_chart(df: pd.DataFrame, title: str = "Timeline") -> alt.Chart:
    """``df``: date, lane, title, country, category, key."""
    data = _empty(df, ["date", "lane", "title", "country", "category", "key"]).copy()
    data["date"] = pd.to_datetime(data["date"])
    lanes = list(LANE_COLORS)
    return (
        alt.Chart(data, title=title)
        .mark_circle(size=90, opacity=0.8)
        .encode(
            x=alt.X("date:T", title="Date"),
            y=alt.Y("lane:N", sort=lanes, title=None, axis=alt.Axis(labelLimit=220)),
            yOffset=alt.YOffset("country:N"),
            color=alt.Color(
                "lane:N",
                scale=alt.Scale(domain=lanes, range=[LANE_COLORS[k] for k in lanes]),
                title="What",
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("date:T", title="Date", format="%Y-%m-%d"),
                alt.Tooltip("lane:N", title="What"),
                alt.Tooltip("title:N", title="Title"),
                alt.Tooltip("country:N", title="Country"),
                alt.Tooltip("category:N", title="Category"),
                alt.Tooltip("key:N", title="Key"),
            ],
        )
        .properties(height=260)
        .interactive(bind_y=False)
    )


def history_chart(df: pd.DataFrame, title: str = "History") -> alt.Chart:
    """One recommendation's events: ``df``: effective_at, action, status_after, actor, reason."""
    data = _empty(df, ["effective_at", "action", "status_after", "actor", "reason"]).copy()
    data["effective_at"] = pd.to_datetime(data["effective_at"], utc=True)
    data["status"] = data["status_after"].fillna("")
    data = _with_status(data) if len(data) else data.assign(Status=[], status_rank=[])
    return (
        alt.Chart(data, title=title)
        .mark_point(size=120, filled=True)
        .encode(
            x=alt.X("effective_at:T", title="Effective date"),
            y=alt.Y("action:N", title="Event"),
            color=status_color(title="Status after"),
            tooltip=[
                alt.Tooltip("effective_at:T", title="Effective", format="%Y-%m-%d"),
                alt.Tooltip("action:N", title="Event"),
                alt.Tooltip("Status:N", title="Status after"),
                alt.Tooltip("actor:N", title="By"),
                alt.Tooltip("reason:N", title="Reason"),
            ],
        )
        .properties(height=160)
    )


def time_in_status_bar(df: pd.DataFrame, title: str = "Time in each status") -> alt.Chart:
    """``df``: status, days (from the trail's effective dates)."""
    data = _with_status(_empty(df, ["status", "days"]))
    return (
        alt.Chart(data, title=title)
        .mark_bar()
        .encode(
            x=alt.X("days:Q", title="Time (days)"),
            y=alt.Y("Status:N", sort=STATUS_ORDER, title="Status"),
            color=status_color(legend=False),
            tooltip=[alt.Tooltip("Status:N"), alt.Tooltip("days:Q", title="Days", format=",.0f")],
        )
        .properties(height=alt.Step(26))
    )
