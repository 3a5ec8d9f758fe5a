"""The one write path, on SQLite and PostgreSQL: rules, versions, permissions, the trail."""

import io

import pytest
from helpers import change, close, event_count, make_rec, read_rec
from pydantic import ValidationError
from sqlmodel import select

from models.rules.evidence_files import store_file
from models.rules.lifecycle import RuleViolation
from models.rules.recommendations import attach_evidence
from models.store.db import read_session, write_session
from models.store.errors import InvalidInput, PermissionDenied, StaleVersion
from models.store.schemas import EvidenceCreate, RecommendationUpdate
from models.store.tables import AuditEvent, EvidenceFile, User
from models.trail.chain import verify_chain


def _nothing_written(engine, key, events_before, version=1, status="proposed"):
    rec = read_rec(engine, key)
    assert (rec.version, rec.status) == (version, status)
    assert event_count(engine) == events_before


def test_a_status_change_bumps_the_version_and_appends_one_event(engine, users):
    make_rec(engine)
    before = event_count(engine)
    rec = change(engine, "rec-a", status="accepted", reason="agreed at the BWG")
    assert (rec.status, rec.version) == ("accepted", 2)
    assert event_count(engine) == before + 1
    with read_session(engine) as s:
        last = s.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert (last.actor, last.action, last.status_after, last.reason) == (
            "ed",
            "status_change",
            "accepted",
            "agreed at the BWG",
        )
        assert verify_chain(s) is None


def test_unknown_status_is_refused_before_anything_is_written(engine, users):
    make_rec(engine)
    with pytest.raises(ValidationError, match="unknown status 'finished'"):
        RecommendationUpdate(expected_version=1, status="finished", reason="x")


def test_a_forbidden_transition_is_refused_and_nothing_is_written(engine, users):
    make_rec(engine)
    before = event_count(engine)
    with pytest.raises(RuleViolation, match="cannot move from 'proposed' to 'in_progress'"):
        change(engine, "rec-a", status="in_progress")
    _nothing_written(engine, "rec-a", before)


def test_closing_as_implemented_without_evidence_is_refused(engine, users):
    make_rec(engine)
    change(engine, "rec-a", status="accepted")
    change(engine, "rec-a", status="in_progress")
    before = event_count(engine)
    with pytest.raises(RuleViolation, match="evidence"):
        close(engine, "rec-a", "implemented")
    _nothing_written(engine, "rec-a", before, version=3, status="in_progress")


def test_an_empty_reason_is_refused(engine, users):
    make_rec(engine)
    with pytest.raises(ValidationError, match="reason"):
        RecommendationUpdate(expected_version=1, status="accepted", reason="  ")


def test_a_stale_version_is_refused_naming_who_changed_it_and_nothing_is_overwritten(engine, users):
    make_rec(engine)
    seen_by_both = read_rec(engine, "rec-a").version
    change(
        engine, "rec-a", actor="ed", version=seen_by_both, owner="J5 Western Hemisphere", reason="reassigned"
    )
    before = event_count(engine)
    with pytest.raises(StaleVersion) as err:
        change(engine, "rec-a", actor="ed2", version=seen_by_both, owner="SOUTHCOM J7", reason="mine")
    msg = str(err.value)
    assert "changed by ed at" in msg and "owner: 'OSD Policy' -> 'J5 Western Hemisphere'" in msg
    assert err.value.changed_by == "ed" and err.value.current_version == 2
    assert read_rec(engine, "rec-a").owner == "J5 Western Hemisphere"
    assert event_count(engine) == before


def test_reopening_a_closed_recommendation_is_recorded_as_a_reopen(engine, users):
    make_rec(engine)
    close(engine, "rec-a", "not_implemented", reason="overtaken by events")
    change(engine, "rec-a", status="under_review", reason="new administration asks again")
    with read_session(engine) as s:
        last = s.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert last.action == "reopen" and last.status_after == "under_review"


def test_a_viewer_cannot_change_anything(engine, users):
    make_rec(engine)
    with pytest.raises(PermissionDenied, match="role viewer"):
        change(engine, "rec-a", actor="vic", status="accepted")


def test_an_office_editor_cannot_change_another_offices_recommendation(engine, users):
    make_rec(engine, key="rec-osd", owner="OSD Policy")
    make_rec(engine, key="rec-sc", owner="SOUTHCOM J7")
    change(engine, "rec-osd", actor="scoped", status="accepted")
    with pytest.raises(PermissionDenied, match="owned by 'SOUTHCOM J7'"):
        change(engine, "rec-sc", actor="scoped", status="accepted")


def _attach(engine, stored, actor="ed", keys=("rec-a",)):
    with write_session(engine) as s:
        user = s.exec(select(User).where(User.username == actor)).one()
        return attach_evidence(
            s,
            keys=list(keys),
            actor=user,
            reason="proof",
            files=[stored],
            evidence=EvidenceCreate(title="Signed minutes"),
        )


def test_evidence_then_closing_as_implemented_works_and_the_file_is_hashed(engine, users):
    make_rec(engine)
    change(engine, "rec-a", status="accepted")
    change(engine, "rec-a", status="in_progress")
    stored = store_file(io.BytesIO(b"minutes of the 2013 meeting"), "minutes.txt")
    _attach(engine, stored)
    rec = close(engine, "rec-a", "implemented", reason="minutes show it done")
    assert rec.status == "implemented"
    import hashlib

    assert stored["sha256"] == hashlib.sha256(b"minutes of the 2013 meeting").hexdigest()
    from models.store.settings import get_settings

    assert (get_settings().data_dir / stored["stored_path"]).read_bytes() == b"minutes of the 2013 meeting"


def test_an_evidence_file_over_the_size_limit_is_refused_and_nothing_is_stored(engine, users, monkeypatch):
    monkeypatch.setenv("RECTRACK_UPLOAD_LIMIT_MB", "1")
    from models.store.settings import get_settings

    get_settings.cache_clear()
    with pytest.raises(InvalidInput, match="larger than the 1 MB limit"):
        store_file(io.BytesIO(b"%PDF-" + b"x" * (1024 * 1024)), "big.pdf")
    evidence_dir = get_settings().evidence_dir
    assert not evidence_dir.exists() or not any(p.is_file() for p in evidence_dir.rglob("*"))
    with read_session(engine) as s:
        assert s.exec(select(EvidenceFile)).all() == []


@pytest.mark.parametrize(
    "hostile", ["../../etc/passwd.txt", "..\\..\\windows\\system.ini.txt", "/etc/passwd.txt"]
)
def test_a_path_in_a_filename_cannot_escape_the_evidence_store(engine, users, hostile):
    stored = store_file(io.BytesIO(b"data"), hostile)
    from models.store.settings import get_settings

    root = get_settings().data_dir.resolve()
    assert "/" not in stored["filename"] and "\\" not in stored["filename"] and ".." not in stored["filename"]
    assert (root / stored["stored_path"]).resolve().is_relative_to(root / "evidence")


def test_a_file_type_outside_the_allowed_list_is_refused(engine, users):
    with pytest.raises(InvalidInput, match="not accepted"):
        store_file(io.BytesIO(b"MZ"), "tool.exe")


def test_hostile_strings_are_stored_exactly(engine, users):
    nasty = "'; DROP TABLE recommendation; -- <script>alert(1)</script> evil\u200b"
    summary = (nasty + " \u202eright-to-left\u202c\n") * 3  # many lines, any characters: stored as given
    make_rec(engine, key="rec-x", title=nasty[:300], summary=summary)
    rec = read_rec(engine, "rec-x")
    assert rec.title == nasty.strip() and rec.summary == summary


@pytest.mark.parametrize(
    "reason", ["", "  ", "bad\x00byte", "\x1c", "\u200b", "\u2800\u2800", "\u3164", "\ufeff \u200d"]
)
def test_a_blank_or_nul_reason_is_refused_on_create_and_evidence(engine, users, reason):
    from models.rules.recommendations import create_recommendation
    from models.store.schemas import RecommendationCreate

    with pytest.raises(InvalidInput, match="reason"):
        with write_session(engine) as s:
            ed = s.exec(select(User).where(User.username == "ed")).one()
            create_recommendation(
                s,
                data=RecommendationCreate(
                    key="rec-z", title="t", summary="s", theme="research", who_must_act="us", owner="O"
                ),
                actor=ed,
                reason=reason,
            )
    make_rec(engine)
    with pytest.raises(InvalidInput, match="reason"):
        with write_session(engine) as s:
            ed = s.exec(select(User).where(User.username == "ed")).one()
            attach_evidence(
                s,
                keys=["rec-a"],
                actor=ed,
                reason=reason,
                citations=[{"source_id": "x", "section": "s", "line_start": 1, "line_end": 2}],
                evidence=EvidenceCreate(title="t", kind="citation"),
            )


def test_an_unknown_primary_source_is_refused_with_a_clear_message(engine, users):
    with pytest.raises(InvalidInput, match="no source 'nope' in the library"):
        make_rec(engine, primary_source_id="nope")
