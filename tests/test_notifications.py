"""Watch and notify: whoever watches a recommendation, an office or an obstacle hears of every change
someone else makes to it, in the change's own transaction; office members hear by default."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models.reads.notifications import notifications_page, unread_count, watches_of
from models.rules.notifications import fan_out, mark_read, set_preferences, unwatch, watch
from models.rules.obstacles import create_obstacle, link_obstacle
from models.rules.recommendations import attach_evidence, update_recommendation
from models.rules.steps import add_step
from models.rules.users import get_user
from models.store.db import read_session, write_session
from models.store.errors import InvalidInput, NotFound
from models.store.schemas import EvidenceCreate, ObstacleCreate, RecommendationUpdate, StepCreate
from models.store.tables import Notification, Source
from models.trail.chain import AFTER_APPEND
from tests.helpers import change, close, make_rec

CITE = {"source_id": "src-a", "section": "Chapter 2", "line_start": 10, "line_end": 14}


def watching(engine, who, kind, target):
    with write_session(engine) as s:
        return watch(s, user=get_user(s, who), kind=kind, target=target)


def inbox(engine, who):
    with read_session(engine) as s:
        return notifications_page(s, who)


def what(engine, who):
    return [(r.record_key, r.actor, r.what) for r in inbox(engine, who)["rows"]]


@pytest.fixture
def rec(engine, users):
    with write_session(engine) as s:
        s.add(
            Source(
                id="src-a", short="Source A", title="A", author="x", publisher="y", published="2020",
                file="a.md", reproduction="cite",
            )
        )  # fmt: skip
    make_rec(engine, "rec-a", owner="Joint Staff J5")
    return "rec-a"


def test_the_fan_out_is_registered_on_the_chain_once():
    assert AFTER_APPEND.count(fan_out) == 1


def test_a_watcher_hears_of_a_status_change_by_someone_else_and_not_of_their_own(engine, rec):
    assert watching(engine, "vic", "recommendation", rec) is True
    assert watching(engine, "ed2", "recommendation", rec) is True
    change(engine, rec, actor="ed2", status="under_review")
    assert what(engine, "vic") == [("rec-a", "ed2", "status proposed → under review")]
    assert what(engine, "ed2") == []  # their own change
    assert what(engine, "aud") == []  # watches nothing
    row = inbox(engine, "vic")["rows"][0]
    assert (row.rec, row.reason, row.read) == ("rec-a", "because", False)


def test_office_members_hear_of_their_office_records_without_watching_and_may_opt_out(engine, users):
    make_rec(engine, "osd-1", owner="OSD Policy")
    change(engine, "osd-1", actor="ed", progress=30)
    assert what(engine, "scoped") == [
        ("osd-1", "ed", "progress: 0 → 30"),
        ("osd-1", "ed", "created, owned by OSD Policy"),
    ]
    with write_session(engine) as s:
        set_preferences(s, user=get_user(s, "scoped"), own_office=False)
    change(engine, "osd-1", actor="ed", progress=40)
    assert inbox(engine, "scoped")["total"] == 2


def test_moving_a_record_to_another_office_tells_both_offices(engine, users):
    make_rec(engine, "j5-1", owner="Joint Staff J5")
    change(engine, "j5-1", actor="ed", owner="OSD Policy")  # scoped's office gains it
    change(engine, "j5-1", actor="ed", owner="Joint Staff J5")  # and loses it
    assert [r.what for r in inbox(engine, "scoped")["rows"]] == [
        "owner: OSD Policy → Joint Staff J5",
        # an officer's assignment clears the catalog's "inferred" mark, and the notice says so
        "owner: Joint Staff J5 → OSD Policy; owner inferred: yes → no",
    ]


def test_office_and_obstacle_watchers_hear_of_evidence_obstacles_and_steps(engine, rec):
    watching(engine, "vic", "office", "Joint Staff J5")
    with write_session(engine) as s:
        ed = get_user(s, "ed")
        create_obstacle(
            s,
            data=ObstacleCreate(
                key="ob-x", title="Budget cut", category="budgetary", side="us", summary="No money."
            ),
            actor=ed,
            reason="seen",
            citations=[CITE],
        )
    watching(engine, "aud", "obstacle", "ob-x")
    with write_session(engine) as s:
        ed = get_user(s, "ed")
        link_obstacle(s, key=rec, obstacle_key="ob-x", actor=ed, reason="it blocks")
        attach_evidence(
            s, keys=[rec], evidence=EvidenceCreate(title="Memo", kind="citation"), actor=ed,
            reason="found", citations=[CITE],
        )  # fmt: skip
        add_step(s, key=rec, step=StepCreate(title="Draft plan"), actor=ed, reason="plan")
    assert [w for _, _, w in what(engine, "vic")] == [
        "step 1 “Draft plan” added",
        "evidence “Memo” attached",
        "obstacle “Budget cut” linked",
    ]
    assert what(engine, "aud") == [("rec-a", "ed", "obstacle “Budget cut” linked")]


def test_a_change_that_rolls_back_leaves_no_notification(engine, rec):
    watching(engine, "vic", "recommendation", rec)
    with pytest.raises(RuntimeError):
        with write_session(engine) as s:
            update_recommendation(
                s,
                key=rec,
                change=RecommendationUpdate(expected_version=1, reason="r", progress=5),
                actor=get_user(s, "ed"),
            )
            raise RuntimeError("the save fails after the change")
    assert inbox(engine, "vic")["total"] == 0


def test_disabled_accounts_and_sign_ins_make_no_notifications(engine, rec):
    watching(engine, "vic", "recommendation", rec)
    watching(engine, "aud", "recommendation", rec)
    with write_session(engine) as s:
        get_user(s, "aud").disabled = True
    change(engine, rec, actor="ed", progress=10)
    with read_session(engine) as s:
        assert [n.user_id for n in s.exec(select(Notification)).all()] == [get_user(s, "vic").id]


def test_marking_one_read_then_all_read_counts_down(engine, rec):
    watching(engine, "vic", "recommendation", rec)
    for p in (10, 20, 30):
        change(engine, rec, actor="ed", progress=p)
    with read_session(engine) as s:
        assert unread_count(s, "vic") == 3
    newest = inbox(engine, "vic")["rows"][0]
    with write_session(engine) as s:
        assert mark_read(s, user=get_user(s, "vic"), ids=[newest.id]) == 1
        assert mark_read(s, user=get_user(s, "aud"), ids=[newest.id]) == 0  # not theirs
    with read_session(engine) as s:
        assert unread_count(s, "vic") == 2
        assert notifications_page(s, "vic", unread_only=True)["total"] == 2
    with write_session(engine) as s:
        assert mark_read(s, user=get_user(s, "vic")) == 2
    with read_session(engine) as s:
        assert unread_count(s, "vic") == 0
        assert notifications_page(s, "vic", limit=2, offset=2)["rows"][0].what == "progress: 0 → 10"


def test_watching_checks_the_target_and_unwatching_stops_notifications(engine, rec):
    with pytest.raises(NotFound):
        watching(engine, "vic", "recommendation", "no-such")
    with pytest.raises(NotFound):
        watching(engine, "vic", "office", "Nobody's Office")
    with pytest.raises(InvalidInput):
        watching(engine, "vic", "theme", "x")
    assert watching(engine, "vic", "recommendation", rec) is True
    assert watching(engine, "vic", "recommendation", rec) is False
    with read_session(engine) as s:
        assert watches_of(s, "vic") == [("recommendation", "rec-a")]
    with write_session(engine) as s:
        assert unwatch(s, user=get_user(s, "vic"), kind="recommendation", target=rec) is True
    change(engine, rec, actor="ed", progress=10)
    assert inbox(engine, "vic")["total"] == 0


def test_a_closure_proposed_and_accepted_reaches_the_watcher_with_both_steps(engine, rec):
    watching(engine, "vic", "recommendation", rec)
    close(engine, rec, proposer="ed", verifier="aud")
    assert what(engine, "vic") == [
        ("rec-a", "aud", "closure accepted: now not implemented"),
        ("rec-a", "ed", "closure as not implemented proposed"),
    ]
    assert [w for _, _, w in what(engine, "ed")] == []  # ed watches nothing; J5 is not ed's office


def test_the_catalog_loaders_changes_notify_nobody(engine, rec):
    from models.rules.permissions import seeding
    from models.rules.users import system_user

    watching(engine, "vic", "recommendation", rec)
    with write_session(engine) as s, seeding():
        update_recommendation(
            s,
            key=rec,
            change=RecommendationUpdate(expected_version=1, reason="catalog", progress=5),
            actor=system_user(s),
        )
    assert inbox(engine, "vic")["total"] == 0
