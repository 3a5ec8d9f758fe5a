"""Leadership's weekly digest: once per week, headline items, changes since the last one, what became
overdue, the briefing attached; recorded like the owners' digests; a failed delivery retried."""

import email
import json
import socket
from datetime import date, timedelta

import pytest
from helpers import change, make_rec
from sqlmodel import select

from models.store.db import read_session, write_session
from models.store.tables import AuditEvent, ReminderLog, User
from models.workflow.leadership_digest import send_leadership_digest, week_start
from models.workflow.reminders import ReminderSettings

TODAY = date.today()


@pytest.fixture
def store(engine, users):
    with write_session(engine) as s:
        vic = s.exec(select(User).where(User.username == "vic")).one()
        vic.email = "general@example.mil"
        s.add(vic)
        s.add(User(username="vic-gone", role="viewer", disabled=True, email="gone@example.mil"))
    make_rec(engine, "rec-head", title="Revive the working group")
    change(
        engine, "rec-head", priority=True, close_plan="The group meets twice a year", reason="leadership list"
    )
    make_rec(engine, "rec-late", target_date=TODAY - timedelta(days=2))
    change(engine, "rec-head", status="accepted", reason="the Secretary agreed")
    return engine


def test_the_digest_mails_leadership_once_a_week_with_the_briefing_attached(store, smtp_server, tmp_path):
    port, received = smtp_server
    cfg = ReminderSettings(smtp_host="127.0.0.1", smtp_port=port, digest_dir=tmp_path / "digests")
    first = send_leadership_digest(store, TODAY, config=cfg)
    assert first.result == "emailed" and first.destination == "general@example.mil"
    assert len(received) == 1 and received[0].rcpt_tos == ["general@example.mil"]
    msg = email.message_from_bytes(received[0].content)
    body = (
        next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    )
    assert (
        "Revive the working group (rec-head): Accepted" in body
        and "to close: The group meets twice a year" in body
    )
    assert "status: rec-head Proposed → Accepted by ed (the Secretary agreed)" in body
    assert "rec-late:" in body.split("Became overdue since")[1]
    (pdf,) = [p for p in msg.walk() if p.get_content_type() == "application/pdf"]
    assert pdf.get_payload(decode=True)[:5] == b"%PDF-"
    again = send_leadership_digest(store, TODAY, config=cfg)
    assert again.result == "already_sent" and len(received) == 1
    with read_session(store) as s:
        log = s.exec(select(ReminderLog).where(ReminderLog.owner == "leadership")).one()
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "reminder_sent")).one()
    assert log.digest_date == week_start(TODAY) and log.channel == "email"
    after = json.loads(event.after)
    import hashlib

    assert after["attachment"]["sha256"] == hashlib.sha256(pdf.get_payload(decode=True)).hexdigest()
    assert event.reason == "weekly reminder digest for leadership (weekly)"


def test_next_week_it_goes_again_with_changes_since_the_last_one(store, tmp_path):
    cfg = ReminderSettings(digest_dir=tmp_path / "digests")
    assert send_leadership_digest(store, TODAY, config=cfg).result == "written"
    nxt = send_leadership_digest(store, TODAY + timedelta(days=7), config=cfg)
    assert nxt.result == "written"
    text = (tmp_path / "digests" / f"{week_start(TODAY + timedelta(days=7))}_leadership.txt").read_text()
    assert f"What changed since {TODAY}" in text
    assert (tmp_path / "digests" / f"{week_start(TODAY + timedelta(days=7))}_leadership.pdf").read_bytes()[
        :5
    ] == b"%PDF-"


def test_without_smtp_it_is_written_to_files_and_a_dry_run_sends_nothing(store, tmp_path):
    cfg = ReminderSettings(digest_dir=tmp_path / "digests")
    dry = send_leadership_digest(store, TODAY, config=cfg, dry_run=True)
    assert dry.result == "would_write" and not (tmp_path / "digests").exists()
    done = send_leadership_digest(store, TODAY, config=cfg)
    assert done.result == "written" and done.destination.endswith("_leadership.txt")


def test_a_failed_delivery_records_nothing_and_is_retried(store, smtp_server, tmp_path):
    port, received = smtp_server
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    bad = ReminderSettings(smtp_host="127.0.0.1", smtp_port=dead, smtp_timeout=2, digest_dir=tmp_path / "d")
    failed = send_leadership_digest(store, TODAY, config=bad)
    assert failed.result == "failed" and "nothing was recorded" in failed.line()
    with read_session(store) as s:
        assert s.exec(select(ReminderLog)).all() == []
    good = ReminderSettings(smtp_host="127.0.0.1", smtp_port=port, digest_dir=tmp_path / "d")
    assert send_leadership_digest(store, TODAY, config=good).result == "emailed" and len(received) == 1


def test_rectrack_leadership_digest_sends_once_and_says_so(store, tmp_path, monkeypatch):
    from helpers import cli

    from models.store.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", store.url.render_as_string(hide_password=False))
    monkeypatch.setenv("RECTRACK_DIGEST_DIR", str(tmp_path / "dg"))
    monkeypatch.delenv("RECTRACK_SMTP_HOST", raising=False)
    get_settings.cache_clear()
    day = TODAY.isoformat()
    first = cli("leadership-digest", "--today", day)
    assert first.exit_code == 0, first.output
    assert (
        f"leadership digest for the week of {week_start(TODAY)}: written to {tmp_path / 'dg'}" in first.output
    )
    second = cli("leadership-digest", "--today", day)
    assert "already sent" in second.output and "not sent again" in second.output
