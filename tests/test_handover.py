"""Handover (issue 13, part 4): an admin hands an office's (or a person's) open records to a
successor in one audited batch, one event per record; closed records stay where they were."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlmodel import select

from models.rules.handover import batch_records, hand_over
from models.rules.users import operator_user, set_disabled
from models.store.db import read_session, write_session
from models.store.errors import InvalidInput, PermissionDenied
from models.store.tables import AuditEvent, User
from models.trail.verify import verify_store
from tests.helpers import change, close, event_count, make_rec, read_rec


def _user(s, name: str) -> User:
    return s.exec(select(User).where(User.username == name)).one()


def do_handover(engine, *, actor="adm", **kw):
    kw.setdefault("reason", "Lt Col Smith rotates out; Maj Jones takes the portfolio")
    with write_session(engine) as s:
        return hand_over(s, actor=_user(s, actor), **kw)


@pytest.fixture
def office_store(engine, users):
    """OSD Policy owns four records (one of them closed), SOUTHCOM J7 owns one."""
    for key in ("pol-1", "pol-2", "pol-3", "pol-closed"):
        make_rec(engine, key=key, owner="OSD Policy")
    make_rec(engine, key="j7-1", owner="SOUTHCOM J7")
    change(engine, "pol-2", status="accepted", reason="agreed")
    close(engine, "pol-closed", "not_implemented", reason="overtaken by events")
    return engine


def test_a_handover_of_one_office_moves_every_open_record_in_one_batch_each_with_one_event(office_store):
    engine = office_store
    before = event_count(engine)
    result = do_handover(engine, office="OSD Policy", to_user="ed2")
    assert result.keys == ["pol-1", "pol-2", "pol-3"]
    assert result.moved == 3
    for key in result.keys:
        assert read_rec(engine, key).responsible == "ed2"
    assert read_rec(engine, "pol-closed").responsible is None, "closed records stay as they were"
    assert read_rec(engine, "j7-1").responsible is None, "another office's records are not touched"
    with read_session(engine) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.seq > before).order_by(AuditEvent.seq)).all()
        handovers = [e for e in events if e.action == "handover"]
        assert [e.record_key for e in handovers] == result.keys, "one event per record"
        assert {e.actor for e in handovers} == {"adm"}
        assert handovers[0].seq == result.first_seq
        for e in handovers:
            assert json.loads(e.before)["responsible"] is None
            assert json.loads(e.after)["responsible"] == "ed2"
            assert e.reason == (
                "Lt Col Smith rotates out; Maj Jones takes the portfolio "
                f"(handover batch from event {result.first_seq}: 3 records)"
            )
        # the successor, an editor, now edits for the office (its own event)
        assert _user(s, "ed2").office == "OSD Policy"
        assert [e.action for e in events if e.record_type == "user"] == ["user_change"]
        assert verify_store(s).ok, verify_store(s).lines()
    assert result.office_set


def test_the_version_moves_so_a_colleague_with_the_record_open_is_told_of_the_handover(office_store):
    seen = read_rec(office_store, "pol-1").version
    do_handover(office_store, office="OSD Policy", to_user="ed2")
    from models.store.errors import StaleVersion

    with pytest.raises(StaleVersion, match="responsible"):
        change(office_store, "pol-1", version=seen, progress=10, reason="my edit")


def test_a_person_s_records_move_with_from_user_and_a_second_handover_names_the_predecessor(office_store):
    engine = office_store
    do_handover(engine, office="OSD Policy", to_user="ed2")
    result = do_handover(engine, from_user="ed2", to_user="ed", reason="ed2 on leave")
    assert result.keys == ["pol-1", "pol-2", "pol-3"]
    assert not result.office_set, "only a whole office's handover changes the successor's office"
    with read_session(engine) as s:
        last = s.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert (last.record_key, json.loads(last.before)) == ("pol-3", {"responsible": "ed2", "version": 2})
        assert verify_store(s).ok


def test_office_and_person_together_move_only_that_person_s_records_in_that_office(office_store):
    engine = office_store
    do_handover(engine, office="OSD Policy", to_user="ed2")
    do_handover(engine, office="SOUTHCOM J7", to_user="ed2")  # ed2 answers for a J7 record too
    result = do_handover(engine, office="SOUTHCOM J7", from_user="ed2", to_user="ed", reason="split")
    assert result.keys == ["j7-1"]
    assert read_rec(engine, "pol-1").responsible == "ed2"


def test_the_preview_counts_the_same_records_the_batch_moves(office_store):
    with read_session(office_store) as s:
        preview = [r.key for r in batch_records(s, office="OSD Policy", to_user="ed2")]
    assert preview == do_handover(office_store, office="OSD Policy", to_user="ed2").keys


@pytest.mark.parametrize(
    ("actor", "kw", "error", "message"),
    [
        ("ed", {"office": "OSD Policy", "to_user": "ed2"}, PermissionDenied, "may not handover"),
        ("aud", {"office": "OSD Policy", "to_user": "ed2"}, PermissionDenied, "may not handover"),
        ("adm", {"office": "OSD Policy", "to_user": "ed2", "reason": "  "}, InvalidInput, "reason"),
        ("adm", {"office": "OSD Policy", "to_user": "vic"}, InvalidInput, "role viewer"),
        ("adm", {"office": "OSD Policy", "to_user": "nobody"}, Exception, "no user 'nobody'"),
        ("adm", {"to_user": "ed2"}, InvalidInput, "give an office, an outgoing person, or both"),
        ("adm", {"office": "Nowhere Office", "to_user": "ed2"}, InvalidInput, "Nowhere Office owns no open"),
        ("adm", {"from_user": "ed", "to_user": "ed"}, InvalidInput, "cannot hand over to themselves"),
    ],
)
def test_refusals_change_nothing(office_store, actor, kw, error, message):
    before = event_count(office_store)
    with pytest.raises(error, match=message):
        do_handover(office_store, actor=actor, **kw)
    assert event_count(office_store) == before
    assert read_rec(office_store, "pol-1").responsible is None


def test_the_operator_cannot_hand_over_a_person_must_sign_in(office_store):
    with write_session(office_store) as s, pytest.raises(PermissionDenied, match="role operator"):
        hand_over(s, actor=operator_user(s), office="OSD Policy", to_user="ed2", reason="batch")


def test_a_disabled_successor_is_refused(office_store):
    with write_session(office_store) as s:
        set_disabled(s, username="ed2", disabled=True, actor=_user(s, "adm"))
    with pytest.raises(InvalidInput, match="'ed2' is disabled"):
        do_handover(office_store, office="OSD Policy", to_user="ed2")


def test_the_operator_and_loader_identities_cannot_be_successors(office_store):
    with write_session(office_store) as s:
        name = operator_user(s).username
    with pytest.raises(InvalidInput, match="not a person's account"):
        do_handover(office_store, office="OSD Policy", to_user=name)


def test_an_office_with_only_closed_records_or_already_handed_over_is_an_empty_batch(office_store):
    do_handover(office_store, office="OSD Policy", to_user="ed2")
    with pytest.raises(InvalidInput, match="OSD Policy owns no open recommendation that is not already"):
        do_handover(office_store, office="OSD Policy", to_user="ed2")


def test_responsible_set_by_sql_is_named_by_verify(office_store):
    do_handover(office_store, office="OSD Policy", to_user="ed2")
    with office_store.begin() as c:
        c.execute(text("UPDATE recommendation SET responsible = 'ed' WHERE key = 'pol-2'"))
    with read_session(office_store) as s:
        report = verify_store(s)
    assert not report.ok
    assert (
        "recommendation 'pol-2': responsible is 'ed' in the store but the trail implies 'ed2'"
        in report.lines()
    )


def test_watchers_of_the_office_hear_who_took_it_over(office_store):
    from models.reads.notifications import describe

    assert describe("handover", None, None, {"responsible": None}, {"responsible": "ed2"}) == (
        "handed over to ed2"
    )
    assert describe("handover", None, None, {"responsible": "ed"}, {"responsible": "ed2"}) == (
        "handed over to ed2 (was ed)"
    )
    from models.store.tables import Notification

    do_handover(office_store, office="OSD Policy", to_user="ed2")
    with read_session(office_store) as s:
        scoped = _user(s, "scoped")  # an editor of OSD Policy hears of each record's handover
        n = s.exec(select(Notification).where(Notification.user_id == scoped.id)).all()
    assert len(n) >= 3
