"""One meaning of "stale" (open, no recorded change for N days) on the Overview, in My items and in
the reminders, and the Overview's count of open items without a target date (the catalog sets none,
so "0 overdue" alone would read as "on schedule")."""

from __future__ import annotations

from datetime import UTC, datetime

from models.catalog.checks import load_catalog
from models.catalog.loader import seed_catalog
from models.reads.digests import digests
from models.reads.figures import summary
from models.rules.recommendations import update_recommendation
from models.rules.records import get_recommendation
from models.rules.users import get_user
from models.store.db import read_session, write_session
from models.store.schemas import RecommendationUpdate
from models.store.settings import get_settings


def stale_in_reminders(engine) -> set[str]:
    today = datetime.now(UTC).date()
    with read_session(engine) as s:
        return {i.key for d in digests(s, today) for i in d.stale}


def test_the_overview_and_the_reminders_count_the_same_stale_items(engine, users):
    with write_session(engine) as s:
        seed_catalog(s, catalog=load_catalog("seeds"), actor=get_user(s, "adm"))
    days = get_settings().stale_after_days
    with read_session(engine) as s:
        figures = summary(s, stale_after_days=days)
    in_reminders = stale_in_reminders(engine)
    assert figures["stale"] > 0  # the sources report nothing recent
    assert len(in_reminders) == figures["stale"]

    key = sorted(in_reminders)[0]
    with write_session(engine) as s:
        r = get_recommendation(s, key)
        update_recommendation(
            s,
            key=key,
            actor=get_user(s, "ed"),
            change=RecommendationUpdate(expected_version=r.version, reason="reviewed today", progress=10),
        )
    with read_session(engine) as s:
        assert summary(s, stale_after_days=days)["stale"] == figures["stale"] - 1
    assert stale_in_reminders(engine) == in_reminders - {key}


def test_open_items_without_a_target_date_are_counted(engine, users):
    with write_session(engine) as s:
        seed_catalog(s, catalog=load_catalog("seeds"), actor=get_user(s, "adm"))
    with read_session(engine) as s:
        before = summary(s)
    assert before["no_target"] == before["open"]  # the catalog sets no target dates
    key = "deare09-pme-expansion"
    with write_session(engine) as s:
        r = get_recommendation(s, key)
        update_recommendation(
            s,
            key=key,
            actor=get_user(s, "ed"),
            change=RecommendationUpdate(
                expected_version=r.version,
                reason="planned",
                target_date=datetime.now(UTC).date().replace(year=2030),
            ),
        )
    with read_session(engine) as s:
        assert summary(s)["no_target"] == before["no_target"] - 1
