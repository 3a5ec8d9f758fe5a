"""An insider with write access to the store changes rows behind the app's back; `rectrack verify`
replays the trail and names every row that no longer agrees with it (issue 12, part 1).

Each attack leaves the hash chain whole, so only the state comparison can catch it."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import text
from sqlmodel import select

from models.rules.evidence_files import store_file
from models.rules.recommendations import attach_evidence
from models.store.db import read_session, write_session
from models.store.schemas import EvidenceCreate
from models.store.settings import get_settings
from models.store.tables import EvidenceFile, User
from models.trail.chain import append_event
from models.trail.replay import HANDLERS, no_state
from models.trail.verify import verify_store
from tests.helpers import change, close, make_rec


@pytest.fixture
def store(engine, users):
    """rec-a: accepted, in progress, evidence attached, closed as implemented by two people;
    rec-b: under review, then moved to another owner."""
    make_rec(engine, key="rec-a")
    make_rec(engine, key="rec-b", owner="SOUTHCOM J7")
    change(engine, "rec-a", status="accepted", reason="agreed")
    change(engine, "rec-a", status="in_progress", progress=40, reason="started")
    change(engine, "rec-b", status="under_review", reason="looking")
    stored = store_file(io.BytesIO(b"signed minutes"), "minutes.txt")
    with write_session(engine) as s:
        ed = s.exec(select(User).where(User.username == "ed")).one()
        attach_evidence(
            s,
            keys=["rec-a"],
            actor=ed,
            reason="proof",
            files=[stored],
            evidence=EvidenceCreate(title="Minutes"),
        )
    close(engine, "rec-a", "implemented", reason="done")
    change(engine, "rec-b", owner="J5", reason="moved")
    return engine


def sql(engine, *statements, **params):
    with engine.begin() as c:
        for st in statements:
            c.execute(text(st), params)


def verdict(engine):
    with read_session(engine) as s:
        return verify_store(s)


def problems(engine) -> list[str]:
    report = verdict(engine)
    assert report.chain_problem is None, "these attacks leave the chain whole"
    assert not report.ok
    return report.lines()


def test_an_untouched_store_agrees_with_its_trail(store):
    report = verdict(store)
    assert report.ok, report.lines()
    assert "every record agrees with the state they imply" in report.summary()


def test_status_progress_and_owner_set_by_sql_with_the_version_left_alone_are_named(store):
    sql(
        store,
        "UPDATE recommendation SET status = 'implemented', progress = 100, owner = 'Nobody' WHERE key = 'rec-b'",
    )
    found = problems(store)
    for line in (
        "recommendation 'rec-b': status is 'implemented' in the store but the trail implies 'under_review'",
        "recommendation 'rec-b': progress is 100 in the store but the trail implies 0",
        "recommendation 'rec-b': owner is 'Nobody' in the store but the trail implies 'J5'",
    ):
        assert line in found, found
    assert not any("'rec-a'" in p for p in found), "only the changed record is named"


def test_newest_events_cut_off_with_versions_and_statuses_set_back_leave_rows_the_trail_never_made(store):
    # the closure of rec-a (proposal, acceptance) and rec-b's owner change are deleted, and both
    # records' version and status put back to what the remaining trail says
    sql(
        store,
        "DELETE FROM auditevent WHERE seq > (SELECT MAX(seq) - 3 FROM auditevent)",
        "UPDATE recommendation SET status = 'in_progress', version = version - 2 WHERE key = 'rec-a'",
        "UPDATE recommendation SET version = version - 1 WHERE key = 'rec-b'",
    )
    found = problems(store)
    assert "recommendation 'rec-b': owner is 'J5' in the store but the trail implies 'SOUTHCOM J7'" in found
    assert (
        "recommendation 'rec-a': number of closure proposals is 1 in the store but the trail implies 0"
        in found
    )


def _evidence_file(engine) -> EvidenceFile:
    with read_session(engine) as s:
        return s.exec(select(EvidenceFile)).one()


def test_an_evidence_file_replaced_with_its_sha256_column_updated_is_named(store):
    f = _evidence_file(store)
    forged = b"minutes that say something else"
    (get_settings().data_dir / f.stored_path).write_bytes(forged)
    new = hashlib.sha256(forged).hexdigest()
    sql(store, "UPDATE evidencefile SET sha256 = :sha", sha=new)
    report = verdict(store)
    assert report.chain_problem is None and not report.file_problems, "file and column agree with each other"
    found = report.lines()
    assert (
        f"evidence 'ev-minutes': file 'minutes.txt' SHA-256 is {new!r} in the store but the trail implies "
        f"{f.sha256!r}" in found
    ), found
    assert any("closure accepted at event" in p and "'minutes.txt'" in p and f.sha256 in p for p in found), (
        found
    )


def test_evidence_rows_behind_an_accepted_closure_deleted_are_named(store):
    sql(
        store,
        "DELETE FROM evidencefile",
        "DELETE FROM evidencelink",
        "DELETE FROM citation WHERE record_type = 'evidence'",
        "DELETE FROM evidenceitem",
    )
    found = problems(store)
    assert any(p.startswith("evidence 'ev-minutes' was recorded by event") and "missing" in p for p in found)
    assert any(
        p.startswith("recommendation 'rec-a': the closure accepted at event")
        and "evidence 'ev-minutes', which is no longer in the store" in p
        for p in found
    ), found


def test_a_viewer_made_admin_by_sql_is_named(store):
    sql(store, "UPDATE \"user\" SET role = 'admin' WHERE username = 'vic'")
    assert "user 'vic': role is 'admin' in the store but the trail implies 'viewer'" in problems(store)


def test_an_account_inserted_by_sql_is_named(store):
    sql(
        store,
        'INSERT INTO "user" (username, display_name, role, disabled, can_verify, failed_logins, '
        "created_at, version) VALUES ('mallory', '', 'admin', false, true, 0, CURRENT_TIMESTAMP, 1)",
    )
    found = problems(store)
    assert "user 'mallory' (role admin) is in the store but no event added the account" in found


def test_a_closure_decided_by_someone_else_than_the_trail_says_is_named(store):
    sql(store, "UPDATE closureproposal SET decided_by = 'adm'")
    assert (
        "recommendation 'rec-a' closure proposal 1: decided_by is 'adm' in the store but the trail implies 'aud'"
        in problems(store)
    )


def test_an_event_kind_the_replay_does_not_know_is_named_not_skipped(store):
    with write_session(store) as s:
        append_event(
            s, actor="ed", action="teleport", record_type="recommendation", record_key="rec-b", reason="x"
        )
    found = problems(store)
    assert any("action 'teleport' on a recommendation" in p and "not known" in p for p in found), found
    no_state("teleport")  # a helper registering its kind makes the store verify again
    try:
        assert verdict(store).ok
    finally:
        HANDLERS.pop("teleport")
