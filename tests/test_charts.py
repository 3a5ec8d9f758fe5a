"""Chart builders are pure functions DataFrame -> Altair chart, checked through to_dict()."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from dashboard import charts
from models.store.vocabulary import STATUSES


def spec(chart) -> dict:
    return chart.to_dict()


def find_all(node, key):
    """Every value stored under ``key`` anywhere in a Vega-Lite spec."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from find_all(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from find_all(v, key)


def status_scales(chart) -> list[dict]:
    return [enc["scale"] for enc in find_all(spec(chart), "color")
            if isinstance(enc, dict) and enc.get("field") == "Status" and "scale" in enc]


def tooltip_fields(chart) -> set[str]:
    out = set()
    for tips in find_all(spec(chart), "tooltip"):
        for t in tips if isinstance(tips, list) else [tips]:
            if isinstance(t, dict) and "field" in t:
                out.add(t["field"])
    return out


COUNTS = pd.DataFrame({"status": list(STATUSES), "count": range(1, len(STATUSES) + 1)})
FLOW = pd.DataFrame([{"period": date(2000 + i, 1, 1), "status": s, "count": i} for i in range(3) for s in STATUSES])
THEMES = pd.DataFrame([{"theme": t, "status": s, "count": 2} for t in ("counter_drug", "research") for s in STATUSES[:3]])
OWNERS = THEMES.rename(columns={"theme": "owner"})
MATRIX = pd.DataFrame([{"obstacle_title": "Mistrust", "recommendation": "rec-a", "recommendation_title": "A",
                        "status": "proposed", "category": "historical"}])
HISTORY = pd.DataFrame([{"effective_at": "2009-07-01T00:00:00Z", "action": "create", "status_after": "proposed",
                         "actor": "catalog", "reason": "from the catalog"}])

STATUS_CHARTS = {
    "status_bar": lambda: charts.status_bar(COUNTS),
    "progress_area": lambda: charts.progress_area(FLOW),
    "status_heatmap": lambda: charts.status_heatmap(THEMES, "theme"),
    "status_stacked_bar": lambda: charts.status_stacked_bar(OWNERS, "owner", "By owner"),
    "obstacle_matrix": lambda: charts.obstacle_matrix(MATRIX),
    "history_chart": lambda: charts.history_chart(HISTORY),
}


def test_status_colours_are_one_colour_blind_safe_mapping_used_by_every_chart():
    expected = {"domain": charts.STATUS_ORDER, "range": [charts.STATUS_COLORS[s] for s in STATUSES]}
    assert set(charts.STATUS_COLORS.values()) <= set(charts.OKABE_ITO.values())
    assert len(set(charts.STATUS_COLORS.values())) == len(STATUSES)
    for name, build in STATUS_CHARTS.items():
        scales = status_scales(build())
        assert scales, f"{name} has no status colour scale"
        for scale in scales:
            assert scale == expected, name


@pytest.mark.parametrize("name", list(STATUS_CHARTS))
def test_every_status_chart_has_a_title_axis_titles_and_tooltips(name):
    chart = STATUS_CHARTS[name]()
    s = spec(chart)
    assert list(find_all(s, "title")), name
    assert tooltip_fields(chart), name
    for axis in ("x", "y"):
        encs = [e for e in find_all(s, axis) if isinstance(e, dict) and "field" in e]
        assert encs and all("title" in e for e in encs), (name, axis)


@pytest.mark.parametrize("name", list(STATUS_CHARTS))
def test_charts_draw_an_empty_frame_without_error(name):
    empty = {"status_bar": lambda: charts.status_bar(COUNTS.iloc[0:0]),
             "progress_area": lambda: charts.progress_area(FLOW.iloc[0:0]),
             "status_heatmap": lambda: charts.status_heatmap(THEMES.iloc[0:0], "theme"),
             "status_stacked_bar": lambda: charts.status_stacked_bar(OWNERS.iloc[0:0], "owner", "t"),
             "obstacle_matrix": lambda: charts.obstacle_matrix(MATRIX.iloc[0:0]),
             "history_chart": lambda: charts.history_chart(HISTORY.iloc[0:0])}[name]
    assert spec(empty())


def test_the_progress_area_stacks_counts_over_time_in_status_order():
    s = spec(charts.progress_area(FLOW))
    assert s["mark"]["type"] == "area"
    assert s["encoding"]["y"]["stack"] == "zero" and s["encoding"]["x"]["type"] == "temporal"
    assert s["encoding"]["order"]["field"] == "status_rank"


VALUES = pd.DataFrame([
    {"period": "FY2008", "year": 2008, "value": 1.0, "country": "mexico", "source": "Martinez 2014",
     "section": "Table 3", "lines": "100-104", "conflict": False, "conflict_note": "", "note": ""},
    {"period": "FY2009", "year": 2009, "value": 2.0, "country": "mexico", "source": "Martinez 2014",
     "section": "Table 3", "lines": "100-104", "conflict": True, "conflict_note": "", "note": ""},
    {"period": "FY2009", "year": 2009, "value": 2.5, "country": "mexico", "source": "Curry 2017",
     "section": "II.B", "lines": "300-301", "conflict": True, "conflict_note": "differs from Martinez", "note": ""},
])


def test_indicator_tooltips_name_the_source_section_and_lines_and_keep_both_conflicting_values():
    chart = charts.indicator_chart(VALUES, "IMET students", "students")
    s = spec(chart)
    assert {"source", "section", "lines", "conflict_note", "period", "value"} <= tooltip_fields(chart)
    assert any(t == "IMET students" or (isinstance(t, dict) and t.get("text") == "IMET students")
               for t in find_all(s, "title"))
    assert "Unit: students" in json.dumps(s)
    y_titles = [e.get("title") for e in find_all(s, "y") if isinstance(e, dict) and e.get("field") == "value"]
    assert y_titles and set(y_titles) == {"students"}
    rows = list(s["datasets"].values())[0]
    assert sorted(r["value"] for r in rows if r["period"] == "FY2009") == [2.0, 2.5]  # never averaged
    assert {r["Value"] for r in rows} == {"single source", "conflicting"}


def test_periods_keep_the_sources_labels_in_year_order():
    shuffled = VALUES.iloc[::-1]
    s = spec(charts.indicator_chart(shuffled, "x", "u"))
    sorts = [e.get("sort") for e in find_all(s, "x") if isinstance(e, dict) and e.get("field") == "period"]
    assert sorts[0] == ["FY2008", "FY2009"]


def test_the_timeline_puts_events_and_recommendation_dates_on_one_axis():
    df = pd.DataFrame([
        {"date": date(1848, 2, 2), "lane": "Historical event", "title": "Treaty", "country": "mexico",
         "category": "war", "key": "ev-1"},
        {"date": date(2009, 7, 1), "lane": "Recommendation made", "title": "BWG", "country": "both",
         "category": "bilateral_mechanisms", "key": "rec-1"},
        {"date": date(2027, 1, 1), "lane": "Target date", "title": "BWG", "country": "both",
         "category": "bilateral_mechanisms", "key": "rec-1"},
    ])
    chart = charts.timeline_chart(df)
    s = spec(chart)
    assert s["encoding"]["x"]["type"] == "temporal"
    assert {"title", "country", "lane", "date"} <= tooltip_fields(chart)
    assert s["encoding"]["color"]["scale"]["domain"] == list(charts.LANE_COLORS)


def test_the_owner_chart_keeps_the_top_owners_by_total():
    df = pd.DataFrame([{"owner": f"o{i}", "status": "proposed", "count": i} for i in range(30)])
    s = spec(charts.status_stacked_bar(df, "owner", "t", top=5))
    assert s["encoding"]["y"]["sort"] == ["o29", "o28", "o27", "o26", "o25"]


def test_time_in_status_uses_the_shared_status_colours_and_days_axis():
    import pandas as pd

    from dashboard import charts
    spec = charts.time_in_status_bar(pd.DataFrame([{"status": "in_progress", "days": 130.0},
                                                   {"status": "on_hold", "days": 30.0}])).to_dict()
    assert spec["encoding"]["x"]["title"] == "Time (days)"
    assert spec["encoding"]["color"]["scale"]["range"] == [charts.STATUS_COLORS[s] for s in charts.STATUSES]
