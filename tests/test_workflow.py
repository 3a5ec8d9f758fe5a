"""Verified closure, evidence dates and reuse, and time in status."""

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from helpers import change, make_rec, read_rec
from sqlmodel import select

from models.reads.durations import longest_stuck, median_open_age_days, time_in_status, time_in_status_by
from models.rules.closure import decide_closure, pending_for_verifier, propose_closure
from models.rules.evidence_files import store_file
from models.rules.lifecycle import RuleViolation
from models.rules.recommendations import attach_evidence, supersede_evidence
from models.rules.records import evidence_count, get_recommendation
from models.store.db import read_session, write_session
from models.store.errors import InvalidInput, PermissionDenied
from models.store.schemas import EvidenceCreate
from models.store.tables import AuditEvent, ClosureProposal, EvidenceItem, User


def user(s, name):
    return s.exec(select(User).where(User.username == name)).one()


def propose(engine, key, target="implemented", actor="ed", reason="all done"):
    with write_session(engine) as s:
        rec = get_recommendation(s, key)
        return propose_closure(
            s, key=key, target=target, reason=reason, expected_version=rec.version, actor=user(s, actor)
        )


def decide(engine, key, accept, actor="aud", reason="checked the minutes"):
    with write_session(engine) as s:
        return decide_closure(s, key=key, accept=accept, reason=reason, actor=user(s, actor))


def add_evidence(engine, keys=("rec-a",), title="Minutes", data=b"minutes", observed=None, actor="ed"):
    stored = store_file(io.BytesIO(data), f"{title.lower()}.txt")
    with write_session(engine) as s:
        return attach_evidence(
            s,
            keys=list(keys),
            actor=user(s, actor),
            reason="proof",
            files=[stored],
            evidence=EvidenceCreate(title=title, observed_on=observed),
        )


@pytest.fixture
def in_progress(engine, users):
    make_rec(engine)
    change(engine, "rec-a", status="accepted")
    change(engine, "rec-a", status="in_progress")
    return engine


def test_an_editor_cannot_close_directly(in_progress):
    add_evidence(in_progress)
    with pytest.raises(RuleViolation, match="closing needs verification"):
        change(in_progress, "rec-a", status="implemented")


def test_closure_by_the_proposer_is_refused(in_progress):
    add_evidence(in_progress)
    propose(in_progress, "rec-a", actor="adm")
    with pytest.raises(PermissionDenied, match="someone other than the person who proposed it"):
        decide(in_progress, "rec-a", True, actor="adm")
    assert read_rec(in_progress, "rec-a").status == "in_progress"


def test_an_editor_without_the_verifier_flag_cannot_verify(in_progress):
    add_evidence(in_progress)
    propose(in_progress, "rec-a")
    with pytest.raises(PermissionDenied):
        decide(in_progress, "rec-a", True, actor="ed2")
    with write_session(in_progress) as s:
        user(s, "ed2").can_verify = True
    assert decide(in_progress, "rec-a", True, actor="ed2").status == "implemented"


def test_accepting_records_the_evidence_hashes_in_the_closing_event(in_progress):
    ev = add_evidence(in_progress, data=b"signed minutes")
    propose(in_progress, "rec-a")
    rec = decide(in_progress, "rec-a", True)
    assert rec.status == "implemented"
    with read_session(in_progress) as s:
        last = s.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        proposal = s.exec(select(ClosureProposal)).one()
    import hashlib

    after = json.loads(last.after)
    assert last.action == "closure_accepted" and last.actor == "aud"
    assert after["evidence"][0]["key"] == ev.key
    assert after["evidence"][0]["files"][0]["sha256"] == hashlib.sha256(b"signed minutes").hexdigest()
    assert proposal.state == "accepted" and json.loads(proposal.evidence_hashes) == after["evidence"]


def test_a_returned_closure_leaves_the_item_open_with_the_reason(in_progress):
    add_evidence(in_progress)
    propose(in_progress, "rec-a")
    rec = decide(in_progress, "rec-a", False, reason="the minutes are unsigned")
    assert rec.status == "in_progress"
    with read_session(in_progress) as s:
        last = s.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (last.action, last.reason) == ("closure_returned", "the minutes are unsigned")
    propose(in_progress, "rec-a", reason="now signed")  # it can be proposed again


def test_a_pending_closure_blocks_other_status_moves_and_shows_to_verifiers_only(in_progress):
    add_evidence(in_progress)
    propose(in_progress, "rec-a")
    with pytest.raises(RuleViolation, match="waiting for verification"):
        change(in_progress, "rec-a", status="on_hold")
    with read_session(in_progress) as s:
        assert [r.key for _, r in pending_for_verifier(s, user(s, "aud"))] == ["rec-a"]
        assert pending_for_verifier(s, user(s, "ed")) == []
        assert pending_for_verifier(s, user(s, "vic")) == []


def test_proposing_bumps_the_version_so_a_stale_form_conflicts(in_progress):
    from models.store.errors import StaleVersion

    seen = read_rec(in_progress, "rec-a").version
    add_evidence(in_progress)
    propose(in_progress, "rec-a")
    with pytest.raises(StaleVersion, match="changed by ed"):
        change(in_progress, "rec-a", version=seen, owner="Someone else")


def test_one_evidence_item_supports_several_recommendations_and_holds_several_files(engine, users):
    make_rec(engine, key="rec-a")
    make_rec(engine, key="rec-b")
    files = [
        store_file(io.BytesIO(b"%PDF-1.4 page one"), "p1.pdf"),
        store_file(io.BytesIO(b"%PDF-1.4 page two"), "p2.pdf"),
    ]
    with write_session(engine) as s:
        item = attach_evidence(
            s,
            keys=["rec-a", "rec-b"],
            actor=user(s, "ed"),
            reason="joint minutes",
            files=files,
            evidence=EvidenceCreate(title="Joint minutes"),
        )
    with read_session(engine) as s:
        for key in ("rec-a", "rec-b"):
            assert evidence_count(s, get_recommendation(s, key).id) == 1
    from models.reads.records import recommendation_detail

    with read_session(engine) as s:
        detail = recommendation_detail(s, "rec-b")
    assert [f.filename for f in detail.evidence[0]["files"]] == ["p1.pdf", "p2.pdf"] and detail.evidence[0][
        "item"
    ].key == item.key


def test_a_correction_supersedes_evidence_and_both_stay_in_the_trail(engine, users):
    make_rec(engine)
    old = add_evidence(engine, title="Minutes", data=b"first draft")
    fixed = store_file(io.BytesIO(b"corrected"), "minutes-v2.txt")
    with write_session(engine) as s:
        new = supersede_evidence(
            s,
            old_key=old.key,
            actor=user(s, "ed"),
            reason="typo in the date",
            files=[fixed],
            evidence=EvidenceCreate(title="Minutes (corrected)"),
        )
    with read_session(engine) as s:
        assert evidence_count(s, get_recommendation(s, "rec-a").id) == 1  # only the correction counts
        items = s.exec(select(EvidenceItem).order_by(EvidenceItem.id)).all()
        actions = [
            e.action for e in s.exec(select(AuditEvent).where(AuditEvent.record_type == "evidence")).all()
        ]
    assert [i.key for i in items] == [old.key, new.key] and items[1].supersedes_id == items[0].id
    assert actions == ["evidence_add", "evidence_supersede"]
    with pytest.raises(InvalidInput, match="already been superseded"):
        with write_session(engine) as s:
            supersede_evidence(
                s,
                old_key=old.key,
                actor=user(s, "ed"),
                reason="again",
                files=[fixed],
                evidence=EvidenceCreate(title="x"),
            )


def test_evidence_observed_dates_drive_the_as_of_views(engine, users):
    make_rec(engine)
    item = add_evidence(engine, observed=date(2025, 3, 10))
    from models.reads.records import evidence_as_of

    with read_session(engine) as s:
        assert evidence_as_of(s, "rec-a", datetime(2025, 3, 9, tzinfo=UTC)) == []
        assert [e.key for e in evidence_as_of(s, "rec-a", datetime(2025, 3, 11, tzinfo=UTC))] == [item.key]
        event = s.exec(select(AuditEvent).where(AuditEvent.record_key == item.key)).one()
    assert event.effective_at == datetime(2025, 3, 10, tzinfo=UTC)


def test_time_in_status_matches_a_hand_computed_case(engine, users):
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    from models.rules.recommendations import create_recommendation, update_recommendation
    from models.store.schemas import RecommendationCreate, RecommendationUpdate

    with write_session(engine) as s:
        ed = user(s, "ed")
        create_recommendation(
            s,
            data=RecommendationCreate(
                key="rec-t", title="t", summary="s", theme="research", who_must_act="us", owner="J5"
            ),
            actor=ed,
            reason="r",
            effective_at=t0,
        )
        for days, status in ((10, "accepted"), (40, "in_progress"), (100, "on_hold"), (130, "in_progress")):
            rec = get_recommendation(s, "rec-t")
            update_recommendation(
                s,
                key="rec-t",
                actor=ed,
                effective_at=t0 + timedelta(days=days),
                change=RecommendationUpdate(expected_version=rec.version, status=status, reason="r"),
            )
    now = t0 + timedelta(days=200)
    with read_session(engine) as s:
        spent = time_in_status(s, "rec-t", now=now)
        by_owner = time_in_status_by(s, "owner", now=now)
        stuck = longest_stuck(s, now=now)
        median = median_open_age_days(s, now=now)
    # proposed 0-10, accepted 10-40, in_progress 40-100 and 130-200, on_hold 100-130
    assert {k: v.days for k, v in spent.items()} == {
        "proposed": 10,
        "accepted": 30,
        "in_progress": 130,
        "on_hold": 30,
    }
    assert by_owner["J5"] == {"proposed": 10.0, "accepted": 30.0, "in_progress": 130.0, "on_hold": 30.0}
    assert stuck[0].key == "rec-t" and stuck[0].days == 70 and stuck[0].status == "in_progress"
    assert median == 200.0
