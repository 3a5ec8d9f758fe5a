"""Priority: leadership's list is set through the one write path (role, office, reason, version,
trail) and the four headline recommendations arrive marked from ``seeds/priority.yaml``."""

import json
import shutil
from pathlib import Path

import pytest
from helpers import change, make_rec, read_rec
from sqlmodel import select

from models.catalog.checks import CatalogError, check_against_sources, load_catalog
from models.catalog.loader import seed_catalog
from models.rules.users import operator_user
from models.store.db import read_session, write_session
from models.store.errors import PermissionDenied
from models.store.tables import AuditEvent, Recommendation

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO.parent / "shared" / "sources"
HEADLINE = [
    "deare09-unified-defense-ministry",
    "deare09-bwg-revival",
    "deare09-pme-expansion",
    "deare09-dto-issue-team",
]


def seed(engine, seeds_dir=REPO / "seeds"):
    catalog = load_catalog(seeds_dir)
    with write_session(engine) as s:
        return seed_catalog(s, catalog=catalog, actor=operator_user(s))


def last_event(engine, key):
    with read_session(engine) as s:
        return s.exec(
            select(AuditEvent).where(AuditEvent.record_key == key).order_by(AuditEvent.seq.desc())
        ).first()


def test_an_editor_marks_a_recommendation_priority_and_the_trail_says_who_when_and_why(engine, users):
    make_rec(engine, "rec-a")
    change(engine, "rec-a", priority=True, close_plan="A signed charter", reason="the Secretary asked for it")
    rec = read_rec(engine, "rec-a")
    assert rec.priority and rec.close_plan == "A signed charter" and rec.version == 2
    e = last_event(engine, "rec-a")
    assert (e.action, e.actor, e.reason) == ("priority_change", "ed", "the Secretary asked for it")
    assert json.loads(e.before) == {"priority": False, "close_plan": None, "version": 1}
    assert json.loads(e.after) == {"priority": True, "close_plan": "A signed charter", "version": 2}


def test_a_blank_close_plan_clears_it_and_is_recorded_as_an_update(engine, users):
    make_rec(engine, "rec-a")
    change(engine, "rec-a", close_plan="Evidence of a law", reason="owner's plan")
    change(engine, "rec-a", close_plan="   ", reason="no longer a plan")
    assert read_rec(engine, "rec-a").close_plan is None
    assert last_event(engine, "rec-a").action == "update"


@pytest.mark.parametrize("who", ["vic", "aud"])
def test_viewers_and_auditors_may_not_set_priority(engine, users, who):
    make_rec(engine, "rec-a")
    with pytest.raises(PermissionDenied):
        change(engine, "rec-a", actor=who, priority=True, reason="I want it")
    assert not read_rec(engine, "rec-a").priority


def test_an_editor_of_another_office_may_not_set_priority_but_the_owning_office_may(engine, users):
    make_rec(engine, "rec-a", owner="J5")
    with pytest.raises(PermissionDenied):
        change(engine, "rec-a", actor="scoped", priority=True, reason="not mine")
    make_rec(engine, "rec-b", owner="OSD Policy")
    change(engine, "rec-b", actor="scoped", priority=True, reason="ours")
    change(engine, "rec-a", actor="adm", priority=True, reason="admin decides")
    assert read_rec(engine, "rec-a").priority and read_rec(engine, "rec-b").priority


def test_seeding_marks_the_four_headline_items_priority_with_a_cited_reason(engine):
    report = seed(engine)
    assert report.added["priority marks"] == 4
    with read_session(engine) as s:
        marked = s.exec(select(Recommendation.key).where(Recommendation.priority == True)).all()  # noqa: E712
    assert sorted(marked) == sorted(HEADLINE)
    for key in HEADLINE:
        with read_session(engine) as s:
            e = s.exec(
                select(AuditEvent).where(AuditEvent.record_key == key, AuditEvent.action == "priority_change")
            ).one()
        assert "2009-deare-ndu-strategic-forum-243" in e.reason and e.actor == "catalog"
        assert read_rec(engine, key).close_plan


def test_a_second_seed_never_remarks_an_item_a_person_unmarked(engine, users):
    seed(engine)
    change(engine, HEADLINE[0], priority=False, reason="leadership dropped it", actor="adm")
    again = seed(engine)
    assert not again.changed
    assert not read_rec(engine, HEADLINE[0]).priority


def test_the_priority_file_passes_the_catalog_checks_and_copies_nothing():
    cat = load_catalog(REPO / "seeds")
    assert sorted(cat.priority) == sorted(HEADLINE)
    if SOURCES.exists():
        assert [p for p in check_against_sources(cat, SOURCES) if p.startswith("priority")] == []


def test_a_priority_entry_naming_no_recommendation_is_refused_with_its_file_and_key(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(REPO / "seeds", seeds)
    text = (
        (seeds / "priority.yaml")
        .read_text()
        .replace("key: deare09-bwg-revival", "key: deare09-no-such-thing")
    )
    (seeds / "priority.yaml").write_text(text)
    with pytest.raises(
        CatalogError, match=r"priority.yaml: priority \(key 'deare09-no-such-thing'\) field 'key'"
    ):
        load_catalog(seeds)


def test_a_copied_sentence_in_the_priority_file_is_reported(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(REPO / "seeds", seeds)
    text = (
        (seeds / "priority.yaml")
        .read_text()
        .replace(
            "Mexico enacts a law",
            "An innovative solution would be to create a pilot DTO Issue Team. Mexico enacts a law",
        )
    )
    (seeds / "priority.yaml").write_text(text)
    if not SOURCES.exists():
        pytest.fail("the source library is needed for this check")
    problems = check_against_sources(load_catalog(seeds), SOURCES)
    assert any(p.startswith("priority 'deare09-unified-defense-ministry': copies") for p in problems)


def test_marking_priority_leaves_every_past_status_as_it_was(engine):
    from models.trail.history import statuses_as_of

    seed(engine)
    with read_session(engine) as s:
        for key in HEADLINE:
            events = s.exec(
                select(AuditEvent)
                .where(AuditEvent.record_key == key, AuditEvent.record_type == "recommendation")
                .order_by(AuditEvent.seq)
            ).all()
            moves = [e for e in events if e.action != "priority_change"]
            for e in events:
                expected = [m.status_after for m in moves if m.effective_at <= e.effective_at][-1]
                assert statuses_as_of(s, e.effective_at, keys=[key])[key] == expected
