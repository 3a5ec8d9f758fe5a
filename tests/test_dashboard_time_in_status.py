"""The overview's time-in-status section shows the trail's figures for today."""

from __future__ import annotations

from models.reads.durations import longest_stuck, median_open_age_days
from models.store.db import make_engine, read_session
from models.store.settings import get_settings
from tests.test_dashboard_pages import open_page, templates, use_store  # noqa: F401  (fixtures)


def test_the_section_shows_median_age_and_the_longest_stuck_with_obstacles(use_store):
    use_store("seeded")
    at = open_page("overview")
    assert not at.dataframe or all("days in status" not in str(d.value.columns) for d in at.dataframe)
    at.toggle(key="tis_on").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    engine = make_engine(get_settings().url)
    with read_session(engine) as s:
        median = median_open_age_days(s)
        stuck = longest_stuck(s, 10)
    engine.dispose()
    metric = next(m for m in at.metric if m.label == "Median age of open recommendations")
    assert metric.value == f"{median:,.0f} days"
    table = next(d.value for d in at.dataframe if "days in status" in d.value.columns)
    assert list(table["key"]) == [i.key for i in stuck]
    assert list(table["obstacles"]) == ["; ".join(i.obstacles) or "—" for i in stuck]
    at.radio(key="tis_group").set_value("theme").run()
    assert not at.exception
    pivot = at.dataframe[-1].value
    assert "counter_drug" in pivot.index and "Proposed" in pivot.columns


def test_the_section_says_it_covers_today_when_an_as_of_date_is_set(use_store):
    import datetime as dt

    use_store("seeded")
    at = open_page("overview")
    at.date_input(key="as_of").set_value(dt.date(2015, 1, 1)).run()
    assert not at.exception
    assert any("computed for today" in c.value for c in at.caption)
