"""What changed: computed from the trail for any two dates, the same in the read, the CLI and JSON."""

import json
from datetime import UTC, date, datetime, timedelta

from helpers import change, cli, close, make_rec

from models.reads.changes import changes_between, end_of_day, quarter_start, start_of_day
from models.reads.headline import headline
from models.store.db import read_session

TODAY = datetime.now(UTC).date()


def window(engine, since: date, until: date | None = None):
    with read_session(engine) as s:
        return changes_between(s, start_of_day(since), end_of_day(until or TODAY))


def test_a_status_change_appears_in_what_changed_and_in_the_tile_delta(engine, users):
    make_rec(engine, "rec-a")
    change(engine, "rec-a", status="accepted", reason="the board agreed")
    got = window(engine, TODAY - timedelta(days=1))
    assert got.counts["status_move"] == 1
    moved = [c for c in got.items if c.kind == "status_move"]
    assert [(c.key, c.status_before, c.status_after, c.actor, c.reason) for c in moved] == [
        ("rec-a", "proposed", "accepted", "ed", "the board agreed")
    ]
    assert got.delta("accepted") == 1 and got.delta("open") == 1  # created in the window, too
    assert got.counts["created"] == 1


def test_with_since_after_the_change_it_is_not_there(engine, users):
    make_rec(engine, "rec-a")
    change(engine, "rec-a", status="accepted", reason="the board agreed")
    got = window(engine, TODAY + timedelta(days=1), TODAY + timedelta(days=2))
    assert got.counts == {} and got.items == [] and got.delta("accepted") == 0


def test_closures_evidence_and_priority_are_listed_by_kind(engine, users):
    make_rec(engine, "rec-a")
    change(engine, "rec-a", priority=True, reason="leadership asked")
    close(engine, "rec-a", target="not_implemented", reason="overtaken by events")
    got = window(engine, TODAY)
    assert got.counts["closure_proposed"] == 1 and got.counts["closure_accepted"] == 1
    assert got.counts["priority"] == 1
    assert got.delta("not_implemented") == 1 and got.delta("closed") == 1
    assert any(c.kind == "priority" and c.detail == "marked priority" for c in got.items)


def test_an_open_item_whose_target_date_passed_in_the_window_became_overdue(engine, users):
    make_rec(engine, "rec-late", target_date=TODAY - timedelta(days=3))
    make_rec(engine, "rec-long-late", target_date=TODAY - timedelta(days=400))
    make_rec(engine, "rec-future", target_date=TODAY + timedelta(days=3))
    got = window(engine, TODAY - timedelta(days=30))
    assert [c.key for c in got.items if c.kind == "became_overdue"] == ["rec-late"]
    assert got.counts["became_overdue"] == 1


def test_the_quarter_starts_on_the_first_of_january_april_july_or_october():
    assert [quarter_start(date(2026, m, 15)) for m in (1, 5, 9, 12)] == [
        date(2026, 1, 1),
        date(2026, 4, 1),
        date(2026, 7, 1),
        date(2026, 10, 1),
    ]


def test_rectrack_changes_prints_the_moves_and_the_same_as_json(engine, users, monkeypatch):
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    from models.store.settings import get_settings

    get_settings.cache_clear()
    make_rec(engine, "rec-a")
    change(engine, "rec-a", status="accepted", reason="the board agreed")
    day = TODAY.isoformat()
    text = cli("changes", "--since", day, "--until", day)
    assert text.exit_code == 0, text.output
    assert f"changes from {day} to {day}: status moves 1, new recommendations 1" in text.output
    assert f"{day} status: rec-a Proposed → Accepted by ed (the board agreed)" in text.output
    assert f"{day} new: rec-a as Proposed by ed (test setup)" in text.output
    as_json = cli("changes", "--since", day, "--json")
    data = json.loads(as_json.output)
    assert data["counts"]["status_move"] == 1 and data["status_delta"]["accepted"] == 1
    assert data["items"][0]["key"] == "rec-a"
    later = cli(
        "changes",
        "--since",
        (TODAY + timedelta(days=1)).isoformat(),
        "--until",
        (TODAY + timedelta(days=1)).isoformat(),
    )
    assert "nothing moved" in later.output


def test_rectrack_changes_refuses_a_bad_date_in_one_line():
    got = cli("changes", "--since", "1 Oct")
    assert got.exit_code == 1 and "--since '1 Oct' is not a date; use YYYY-MM-DD" in got.output


def test_the_headline_panel_gives_status_owner_age_last_change_obstacles_and_close_plan(engine, users):
    make_rec(engine, "rec-a", target_date=TODAY + timedelta(days=40))
    change(engine, "rec-a", status="accepted", reason="agreed")
    change(engine, "rec-a", priority=True, close_plan="A signed charter", reason="leadership list")
    make_rec(engine, "rec-b")
    with read_session(engine) as s:
        panel = headline(s)
    assert panel["total"] == 1
    (item,) = panel["items"]
    assert item["key"] == "rec-a" and item["status"] == "accepted" and item["days_in_status"] == 0
    assert item["last_change"]["actor"] == "ed" and item["last_change"]["reason"] == "leadership list"
    assert item["close_plan"] == "A signed charter" and item["flagged_by"] == "ed"
    assert item["target_date"] == TODAY + timedelta(days=40) and not item["long_open"]
    with read_session(engine) as s:
        earlier = headline(s, as_of=datetime.now(UTC) - timedelta(days=1))
    assert earlier["items"] == []  # it did not exist yesterday
