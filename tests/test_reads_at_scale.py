"""The reads behind pages that must cost what they show, not what the store holds: the picker's
search, the paginated list, the timeline's lanes, and the trail heads the page caches key on."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from models.reads.records import find_records, recommendation_page, record_titles
from models.reads.timeline import timeline_counts, timeline_items
from models.reads.trail_page import trail_heads
from models.rules.auth import authenticate, reset_password
from models.store.db import read_session, write_session
from models.store.tables import User
from tests.helpers import change, make_rec


def _recs(engine):
    make_rec(engine, "alpha-1", title="Revive the Bilateral Working Group", target_date=date(2030, 1, 1))
    make_rec(engine, "alpha-2", title="A unified defense ministry", target_date=date(2030, 2, 1))
    make_rec(engine, "beta-1", title="Expand PME exchanges (100% of seats)", target_date=date(2030, 3, 1))
    make_rec(engine, "gamma-1", title="Working group on budgets")


def test_the_picker_finds_records_by_key_prefix_and_by_every_title_word(engine, users):
    _recs(engine)
    with read_session(engine) as s:
        assert [r["key"] for r in find_records(s, "alpha")["rows"]] == ["alpha-1", "alpha-2"]
        assert [r["key"] for r in find_records(s, "ALPHA-2")["rows"]] == ["alpha-2"]
        # every word, in any case and order, anywhere in the title
        assert [r["key"] for r in find_records(s, "group working")["rows"]] == ["alpha-1", "gamma-1"]
        assert [r["key"] for r in find_records(s, "  bilateral   GROUP ")["rows"]] == ["alpha-1"]
        assert find_records(s, "ministry budgets")["rows"] == []
        # LIKE's wildcards are text here: "100%" is not "100 then anything", "_" is not any letter
        assert [r["key"] for r in find_records(s, "100%")["rows"]] == ["beta-1"]
        assert find_records(s, "alph_")["rows"] == []
        assert record_titles(s, ("alpha-2", "nope")) == {"alpha-2": "A unified defense ministry"}


def test_the_picker_returns_one_screenful_in_key_order_and_says_there_are_more(engine, users):
    _recs(engine)
    with read_session(engine) as s:
        first = find_records(s, "", limit=3)
        assert [r["key"] for r in first["rows"]] == ["alpha-1", "alpha-2", "beta-1"] and first["more"]
        assert not find_records(s, "", limit=4)["more"]


def test_the_list_is_paged_in_the_store_with_the_total_of_all_matches(engine, users):
    _recs(engine)
    with read_session(engine) as s:
        p1 = recommendation_page(s, offset=0, limit=3)
        p2 = recommendation_page(s, offset=3, limit=3)
        assert p1["total"] == p2["total"] == 4
        assert [r.key for r in p1["rows"]] == ["alpha-1", "alpha-2", "beta-1"]
        assert [r.key for r in p2["rows"]] == ["gamma-1"]
        found = recommendation_page(s, search="working", limit=1)
        assert found["total"] == 2 and len(found["rows"]) == 1


def test_the_timeline_draws_at_most_its_limit_per_lane_and_counts_them_all(engine, users):
    _recs(engine)
    span = dict(start=date(2000, 1, 1), end=date(2040, 12, 31))
    with read_session(engine) as s:
        counts = timeline_counts(s, **span)
        items = timeline_items(s, **span, limit=2)
        every = timeline_items(s, **span)
    assert counts == {"Historical event": 0, "Recommendation made": 4, "Target date": 3}
    lanes = [i["lane"] for i in items]
    assert lanes.count("Recommendation made") == 2 and lanes.count("Target date") == 2
    assert [i["key"] for i in items if i["lane"] == "Target date"] == ["alpha-1", "alpha-2"]  # earliest
    assert len(every) == 7


def test_a_sign_in_moves_the_chain_head_but_not_the_head_record_reads_are_cached_by(engine, users):
    _recs(engine)
    with read_session(engine) as s:
        full0, records0 = trail_heads(s)
    assert full0 == records0 and full0[0] > 0
    with write_session(engine) as s:
        admin = s.exec(select(User).where(User.username == "adm")).one()
        password = reset_password(s, username="vic", actor=admin)
    with write_session(engine) as s:
        authenticate(s, username="vic", password=password)
    with read_session(engine) as s:
        full1, records1 = trail_heads(s)
    assert full1[0] == full0[0] + 2 and records1 == records0  # a sign-in leaves every figure cached
    change(engine, "alpha-1", progress=40)
    with read_session(engine) as s:
        full2, records2 = trail_heads(s)
    assert full2 == records2 and records2[0] == full1[0] + 1  # a change makes every read fresh
