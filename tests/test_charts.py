"""Chart builders are pure functions DataFrame -> Altair chart, checked through to_dict()."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from dashboard import charts, obstacle_charts
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
    return [
        enc["scale"]
        for enc in find_all(spec(chart), "color")
        if isinstance(enc, dict) and enc.get("field") == "Status" and "scale" in enc
    ]


def tooltip_fields(chart) -> set[str]:
    out = set()
    for tips in find_all(spec(chart), "tooltip"):
        for t in tips if isinstance(tips, list) else [tips]:
            if isinstance(t, dict) and "field" in t:
                out.add(t["field"])
    return out


COUNTS = pd.DataFrame({"status": list(STATUSES), "count": range(1, len(STATUSES) + 1)})
FLOW = pd.DataFrame(
    [{"period": date(2000 + i, 1, 1), "status": s, "count": i} for i in range(3) for s in STATUSES]
)
THEMES = pd.DataFrame(
    [{"theme": t, "status": s, "count": 2} for t in ("counter_drug", "research") for s in STATUSES[:3]]
)
OWNERS = THEMES.rename(columns={"theme": "owner"})
MATRIX = pd.DataFrame(
    [
        {
            "obstacle_title": "Mistrust",
            "recommendation": "rec-a",
            "recommendation_title": "A",
            "status": "proposed",
            "category": "historical",
        }
    ]
)
HISTORY = pd.DataFrame(
    [
        {
            "effective_at": "2009-07-01T00:00:00Z",
            "action": "create",
            "status_after": "proposed",
            "actor": "catalog",
            "reason": "from the catalog",
        }
    ]
)

STATUS_CHARTS = {
    "status_bar": lambda: charts.status_bar(COUNTS),
    "progress_area": lambda: charts.progress_area(FLOW),
    "status_heatmap": lambda: charts.status_heatmap(THEMES, "theme"),
    "status_stacked_bar": lambda: charts.status_stacked_bar(OWNERS, "owner", "By owner"),
    "obstacle_matrix": lambda: obstacle_charts.obstacle_matrix(MATRIX),
    "history_chart": lambda: charts.history_chart(HISTORY),
}


def test_status_colours_are_one_colour_blind_safe_mapping_used_by_every_chart():
    # "No status claimed" (policies, old proposals) sits beside "Proposed" in a neutral grey
    figure = ("proposed", "unclaimed", *STATUSES[1:])
    assert charts.STATUS_ORDER[:2] == ["Proposed", "No status claimed"]
    expected = {"domain": charts.STATUS_ORDER, "range": [charts.FIGURE_COLORS[s] for s in figure]}
    assert charts.FIGURE_COLORS["unclaimed"] not in charts.STATUS_COLORS.values()
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
    empty = {
        "status_bar": lambda: charts.status_bar(COUNTS.iloc[0:0]),
        "progress_area": lambda: charts.progress_area(FLOW.iloc[0:0]),
        "status_heatmap": lambda: charts.status_heatmap(THEMES.iloc[0:0], "theme"),
        "status_stacked_bar": lambda: charts.status_stacked_bar(OWNERS.iloc[0:0], "owner", "t"),
        "obstacle_matrix": lambda: obstacle_charts.obstacle_matrix(MATRIX.iloc[0:0]),
        "history_chart": lambda: charts.history_chart(HISTORY.iloc[0:0]),
    }[name]
    assert spec(empty())


def test_the_progress_area_stacks_counts_over_time_in_status_order():
    s = spec(charts.progress_area(FLOW))
    assert s["mark"]["type"] == "area"
    assert s["encoding"]["y"]["stack"] == "zero" and s["encoding"]["x"]["type"] == "temporal"
    assert s["encoding"]["order"]["field"] == "status_rank"


VALUES = pd.DataFrame(
    [
        {
            "period": "FY2008",
            "year": 2008,
            "value": 1.0,
            "country": "mexico",
            "source": "Martinez 2014",
            "section": "Table 3",
            "lines": "100-104",
            "conflict": False,
            "conflict_note": "",
            "note": "",
        },
        {
            "period": "FY2009",
            "year": 2009,
            "value": 2.0,
            "country": "mexico",
            "source": "Martinez 2014",
            "section": "Table 3",
            "lines": "100-104",
            "conflict": True,
            "conflict_note": "",
            "note": "",
        },
        {
            "period": "FY2009",
            "year": 2009,
            "value": 2.5,
            "country": "mexico",
            "source": "Curry 2017",
            "section": "II.B",
            "lines": "300-301",
            "conflict": True,
            "conflict_note": "differs from Martinez",
            "note": "",
        },
    ]
)


def test_indicator_tooltips_name_the_source_section_and_lines_and_keep_both_conflicting_values():
    chart = charts.indicator_chart(VALUES, "IMET students", "students")
    s = spec(chart)
    assert {"source", "section", "lines", "conflict_note", "period", "value"} <= tooltip_fields(chart)
    assert any(
        t == "IMET students" or (isinstance(t, dict) and t.get("text") == "IMET students")
        for t in find_all(s, "title")
    )
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
    df = pd.DataFrame(
        [
            {
                "date": date(1848, 2, 2),
                "lane": "Historical event",
                "title": "Treaty",
                "country": "mexico",
                "category": "war",
                "key": "ev-1",
            },
            {
                "date": date(2009, 7, 1),
                "lane": "Recommendation made",
                "title": "BWG",
                "country": "both",
                "category": "bilateral_mechanisms",
                "key": "rec-1",
            },
            {
                "date": date(2027, 1, 1),
                "lane": "Target date",
                "title": "BWG",
                "country": "both",
                "category": "bilateral_mechanisms",
                "key": "rec-1",
            },
        ]
    )
    chart = charts.timeline_chart(df)
    s = spec(chart)
    assert s["encoding"]["x"]["type"] == "temporal"
    assert {"title", "country", "lane", "date"} <= tooltip_fields(chart)
    assert s["encoding"]["color"]["scale"]["domain"] == list(charts.LANE_COLORS)


def test_the_owner_chart_keeps_the_top_owners_by_total():
    df = pd.DataFrame([{"owner": f"o{i}", "status": "proposed", "count": i} for i in range(30)])
    s = spec(charts.status_stacked_bar(df, "owner", "t", top=5))
    assert s["encoding"]["y"]["sort"] == ["o29", "o28", "o27", "o26", "o25"]


def test_the_owner_chart_marks_offices_whose_ownership_the_sources_do_not_name():
    df = pd.DataFrame(
        [
            {"owner": "NORTHCOM", "status": "proposed", "count": 10},
            {"owner": "NORTHCOM", "status": "unclaimed", "count": 6},
            {"owner": "NPS", "status": "proposed", "count": 8},
            {"owner": "DSCA", "status": "proposed", "count": 1},
        ]
    )
    marks = {"NORTHCOM": [6, 16], "NPS": [8, 8], "DSCA": [0, 1]}
    chart = charts.status_stacked_bar(df, "owner", "By owner", marks=marks)
    s = spec(chart)
    assert s["encoding"]["y"]["sort"] == ["NORTHCOM (6 of 16 inferred)", "NPS (inferred)", "DSCA"]
    rows = datasets(chart)
    assert {r["owner"]: r["label"] for r in rows}["NPS"] == "NPS (inferred)"
    assert {r["Status"] for r in rows} == {"Proposed", "No status claimed"}
    assert "owner" in tooltip_fields(chart)  # the whole office name, as the register spells it


def test_time_in_status_uses_the_shared_status_colours_and_days_axis():
    import pandas as pd

    from dashboard import charts

    spec = charts.time_in_status_bar(
        pd.DataFrame([{"status": "in_progress", "days": 130.0}, {"status": "on_hold", "days": 30.0}])
    ).to_dict()
    assert spec["encoding"]["x"]["title"] == "Time (days)"
    assert spec["encoding"]["color"]["scale"]["range"] == [
        charts.FIGURE_COLORS[s] for s in charts.FIGURE_STATUSES
    ]


# ---------------------------------------------------------------- charts a reader can read (issue 14)


def datasets(chart) -> list[dict]:
    return [row for rows in spec(chart).get("datasets", {}).values() for row in rows]


def test_the_theme_heatmap_shows_human_labels_never_identifiers():
    df = pd.DataFrame([{"theme": "bilateral_mechanisms", "status": "proposed", "count": 3}])
    d = spec(charts.status_heatmap(df, "theme"))
    rows = datasets(charts.status_heatmap(df, "theme"))
    assert rows[0]["label"] == "Bilateral mechanisms"
    assert "label" in [e.get("field") for e in find_all(d, "y")]


def test_every_axis_that_cuts_labels_keeps_the_whole_text_in_the_tooltip():
    owners = pd.DataFrame([{"owner": "A very long office name " * 4, "status": "proposed", "count": 1}])
    obstacles = pd.DataFrame(
        [{"obstacle": "o", "title": "An obstacle with a long title " * 3, "category": "political", "open": 2}]
    )
    for chart, field in (
        (charts.status_stacked_bar(owners, "owner", "By owner"), "owner"),
        (obstacle_charts.obstacle_bar(obstacles), "title"),
    ):
        d = spec(chart)
        assert any(isinstance(a, dict) and a.get("labelLimit") for a in find_all(d, "axis"))
        assert field in [t.get("field") for tips in find_all(d, "tooltip") for t in tips]


def test_the_obstacle_ranking_lists_every_obstacle_with_open_and_closed_counts():
    df = pd.DataFrame(
        [
            {"title": f"Obstacle {i}", "category": "political", "open": i % 5, "recommendations": i % 5 + 1}
            for i in range(44)
        ]
    )
    rows = datasets(obstacle_charts.obstacle_ranking(df))
    assert len({r["title"] for r in rows}) == 44
    assert {r["Blocked"] for r in rows} == {"Open", "Closed"} and rows[0]["Category"] == "Political"
    assert spec(obstacle_charts.obstacle_ranking(df))["encoding"]["y"]["axis"]["labelLimit"] >= 400


def test_the_obstacle_theme_view_is_44_rows_by_12_columns_at_most():
    df = pd.DataFrame(
        [
            {"obstacle_title": f"O{i}", "theme": t, "open": 1}
            for i in range(44)
            for t in ("counter_drug", "education_training")
        ]
    )
    rows = datasets(obstacle_charts.obstacle_theme_heatmap(df))
    assert {r["Theme"] for r in rows} == {"Counter-drug", "Education and training"}


def indicator_rows(periods):
    return pd.DataFrame(
        [
            {
                "period": p,
                "year": y,
                "value": v,
                "country": "mexico",
                "source": "Martinez 2014",
                "section": "Data",
                "lines": "1-2",
                "conflict": False,
                "conflict_note": "",
                "note": None,
            }
            for p, y, v in periods
        ]
    )


def test_a_multi_year_total_is_drawn_on_its_own_axis_never_among_yearly_values():
    df = indicator_rows([("FY08", 2008, 10), ("FY09", 2009, 12), ("FY08-FY12 total", 2012, 60)])
    d = spec(charts.indicator_chart(df, "IMET students", "students"))
    assert "hconcat" in d and d["resolve"]["scale"]["y"] == "independent"
    left, right = d["hconcat"]

    def periods(part):
        return {row["period"] for row in d["datasets"][part["data"]["name"]]}

    assert periods(left) == {"FY08", "FY09"} and periods(right) == {"FY08-FY12 total"}


def test_a_series_of_only_yearly_values_or_only_totals_stays_one_chart():
    yearly = spec(charts.indicator_chart(indicator_rows([("FY08", 2008, 1), ("FY09", 2009, 2)]), "x", "u"))
    totals = spec(charts.indicator_chart(indicator_rows([("2000-2012 cumulative", 2012, 9)]), "x", "u"))
    assert "hconcat" not in yearly and "hconcat" not in totals


@pytest.mark.parametrize(
    "period, span",
    [
        ("FY08-FY12 total", True),
        ("Account totals FY2008-FY2012", True),
        ("2008-2012", True),
        ("FY2008 Supp. (P.L. 110-252)", False),
        ("1996-05", False),
        ("FY08", False),
        ("2000-2012 cumulative", True),
    ],
)
def test_multi_year_periods_are_told_from_single_ones(period, span):
    assert charts.is_multi_year(period) is span


def test_an_indicator_value_without_a_note_shows_a_dash_not_none():
    rows = datasets(charts.indicator_chart(indicator_rows([("FY08", 2008, 1)]), "x", "u"))
    assert all(r["note"] == "—" for r in rows)
