"""The briefing's charts: Altair specs drawn for paper, rendered offline to SVG by vl-convert.

Why not ``dashboard/charts.py``: those builders are for a screen (tooltips, stretch to the page,
interaction) and live in the dashboard, which ``models`` never imports; the mailed digest needs the
PDF without a dashboard. These draw the same figures with the same vocabulary and colours
(:mod:`models.store.vocabulary`), fixed in size for an A4 column, every label whole (wrapped, never
cut), and no tooltips (paper has none).
"""

from __future__ import annotations

import textwrap

import altair as alt
import pandas as pd

from models.store.vocabulary import (
    FIGURE_COLORS,
    FIGURE_STATUSES,
    OKABE_ITO,
    STATUS_COLORS,
    STATUS_LABELS,
    STATUSES,
    UNCLAIMED,
    status_shown,
)

WIDTH = 430  # points; an A4 text column at the briefing's margins, less the axis
FONT = "Libertinus Serif"  # embedded in Typst, so the PDF looks the same on every machine
_ORDER = [STATUS_LABELS[s] for s in STATUSES]


def _config(chart: alt.Chart) -> alt.Chart:
    return (
        chart.configure(font=FONT)
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=10, titleFontSize=10)
    )


def _wrap(text: str, width: int = 34) -> list[str]:
    """A long label as lines (Vega draws an array as a multi-line label), never truncated."""
    return textwrap.wrap(str(text), width) or [""]


def status_bars(by_status: dict[str, int]) -> alt.Chart:
    """``by_status`` may count ``unclaimed`` (policies no source gives a status): a grey "No status
    claimed" bar beside "Proposed"."""
    shown = [s for s in FIGURE_STATUSES if s != UNCLAIMED or by_status.get(UNCLAIMED)]
    order = [status_shown(s) for s in shown]
    data = pd.DataFrame([{"Status": status_shown(s), "count": by_status.get(s, 0)} for s in shown])
    scale = alt.Scale(domain=order, range=[FIGURE_COLORS[s] for s in shown])
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("Status:N", sort=order, title=None),
            x=alt.X("count:Q", title="Recommendations (count)", axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color("Status:N", scale=scale, legend=None),
        )
    )
    text = bars.mark_text(align="left", dx=3, fontSize=10).encode(text="count:Q", color=alt.value("black"))
    return _config((bars + text).properties(width=WIDTH, height=150, title="Recommendations by status"))


def progress_area(flow: list[dict]) -> alt.Chart:
    """``flow``: period (date), status, count — the stock in each status at the end of each year."""
    data = pd.DataFrame(flow or [], columns=["period", "status", "count"])
    data["Status"] = data["status"].map(STATUS_LABELS)
    data["rank"] = data["status"].map({s: i for i, s in enumerate(STATUSES)})
    data["period"] = pd.to_datetime(data["period"])
    scale = alt.Scale(domain=_ORDER, range=[STATUS_COLORS[s] for s in STATUSES])
    chart = (
        alt.Chart(data)
        .mark_area(interpolate="step-after")
        .encode(
            x=alt.X("period:T", title="Year (effective date of the change)"),
            y=alt.Y("count:Q", stack="zero", title="Recommendations (count)"),
            color=alt.Color(
                "Status:N",
                scale=scale,
                sort=_ORDER,
                legend=alt.Legend(orient="bottom", columns=4, title=None),
            ),
            order=alt.Order("rank:Q"),
        )
    )
    return _config(chart.properties(width=WIDTH, height=150, title="Recommendations by status over time"))


def obstacle_ranking(blocking: list[dict], top: int = 8) -> alt.Chart:
    """``blocking``: title, open — the obstacles blocking most open items, each title whole
    (wrapped onto lines by the axis, never cut)."""
    rows = sorted(blocking, key=lambda b: -b["open"])[:top]
    data = pd.DataFrame(
        [{"label": "|".join(_wrap(b["title"])), "open": b["open"]} for b in rows], columns=["label", "open"]
    )
    order = list(data["label"])
    y = alt.Y(
        "label:N",
        sort=order,
        title=None,
        axis=alt.Axis(labelExpr="split(datum.value, '|')", labelLimit=0, labelFontSize=9),
    )
    bars = (
        alt.Chart(data)
        .mark_bar(color=OKABE_ITO["vermillion"])
        .encode(
            y=y,
            x=alt.X(
                "open:Q",
                title="Open recommendations blocked (count)",
                axis=alt.Axis(tickMinStep=1, format="d"),
            ),
        )
    )
    text = bars.mark_text(align="left", dx=3, fontSize=10).encode(text="open:Q", color=alt.value("black"))
    return _config(
        (bars + text).properties(
            width=WIDTH - 170, height=alt.Step(28), title="Obstacles blocking the most open recommendations"
        )
    )


def to_svg(chart: alt.Chart) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_dict())
