"""Notifications by e-mail, after the change commits: immediately or in one daily digest, never
twice, through a real (local) SMTP server; and the ``rectrack watch`` / ``notify`` commands."""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import UTC, datetime, timedelta

import pytest

from models.reads.notifications import notifications_page
from models.rules.notifications import set_preferences, watch
from models.rules.users import get_user
from models.store.db import read_session, write_session
from models.workflow.mail import MailSettings
from models.workflow.notify import send_notifications
from tests.helpers import change, cli, give_cli_password, make_rec

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def cfg(port) -> MailSettings:
    return MailSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_from="tracker@example.mil")


def parsed(envelope):
    return email.message_from_bytes(envelope.content, policy=email.policy.default)


@pytest.fixture
def store(engine, users):
    with write_session(engine) as s:
        for name in ("vic", "ed2"):
            get_user(s, name).email = f"{name}@example.mil"
    make_rec(engine, "rec-a", owner="Joint Staff J5", title="Revive the working group")
    with write_session(engine) as s:
        for name in ("vic", "ed2"):
            watch(s, user=get_user(s, name), kind="recommendation", target="rec-a")
    return engine


def test_a_watcher_gets_the_notification_in_the_app_and_by_mail_and_the_actor_gets_neither(
    store, smtp_server
):
    port, received = smtp_server
    change(store, "rec-a", actor="ed2", status="under_review", reason="the board met")
    with read_session(store) as s:
        assert [r.what for r in notifications_page(s, "vic")["rows"]] == ["status proposed → under review"]
        assert notifications_page(s, "ed2")["total"] == 0
    outcomes = send_notifications(store, now=NOW, config=cfg(port))
    assert [o.line() for o in outcomes] == ["vic: e-mailed 1 change (immediate) to vic@example.mil"]
    assert [e.rcpt_tos for e in received] == [["vic@example.mil"]]
    msg = parsed(received[0])
    assert msg["Subject"] == "Recommendation Tracker: rec-a: status proposed → under review (by ed2)"
    assert msg["To"] == "vic@example.mil" and msg["Message-ID"]
    body = msg.get_body(("plain",)).get_content().splitlines()
    assert body[4].endswith(" UTC · rec-a · status proposed → under review · by ed2")
    assert body[5:7] == ["  Reason: the board met", "  http://localhost:8501/recommendations?rec=rec-a"]
    assert "http://localhost:8501/notifications" in body[-2]
    assert send_notifications(store, now=NOW, config=cfg(port)) == []  # nothing goes out twice
    assert len(received) == 1


def test_the_daily_digest_groups_the_days_changes_in_one_message_once_a_day(store, smtp_server):
    port, received = smtp_server
    with write_session(store) as s:
        set_preferences(s, user=get_user(s, "vic"), mode="digest")
    for p in (10, 20, 30):
        change(store, "rec-a", actor="ed", progress=p)
    first = send_notifications(store, now=NOW, config=cfg(port))
    assert [o.line() for o in first] == [
        "ed2: e-mailed 3 changes (immediate) to ed2@example.mil",
        "vic: e-mailed 3 changes (digest) to vic@example.mil",
    ]
    digest = parsed(next(e for e in received if e.rcpt_tos == ["vic@example.mil"]))
    assert digest["Subject"] == "Recommendation Tracker: daily digest for 2026-12-04, 3 changes"
    lines = [x for x in digest.get_body(("plain",)).get_content().splitlines() if x.startswith("- ")]
    assert [x.split(" · ")[2] for x in lines] == [
        "progress: 0 → 10",
        "progress: 10 → 20",
        "progress: 20 → 30",
    ]
    change(store, "rec-a", actor="ed", progress=40)
    later = send_notifications(store, now=NOW + timedelta(hours=3), config=cfg(port))
    assert [o.line() for o in later] == [
        "ed2: e-mailed 1 change (immediate) to ed2@example.mil",
        "vic: today's digest already went out; 1 change wait for tomorrow's",
    ]
    assert sum(e.rcpt_tos == ["vic@example.mil"] for e in received) == 1
    tomorrow = send_notifications(store, now=NOW + timedelta(days=1), config=cfg(port))
    assert [o.line() for o in tomorrow] == ["vic: e-mailed 1 change (digest) to vic@example.mil"]


def test_without_an_address_or_with_mail_off_notifications_stay_in_the_app(store, smtp_server):
    port, received = smtp_server
    with write_session(store) as s:
        set_preferences(s, user=get_user(s, "ed2"), mode="off")
        watch(s, user=get_user(s, "aud"), kind="recommendation", target="rec-a")
    change(store, "rec-a", actor="ed", progress=5)
    outcomes = send_notifications(store, now=NOW, config=cfg(port))
    assert sorted(o.line() for o in outcomes) == ["vic: e-mailed 1 change (immediate) to vic@example.mil"]
    with read_session(store) as s:
        assert notifications_page(s, "aud")["unread"] == 1
        assert notifications_page(s, "ed2")["unread"] == 1


def test_a_failed_delivery_is_retried_by_the_next_run(store, smtp_server):
    port, received = smtp_server
    change(store, "rec-a", actor="ed", progress=5)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    failed = send_notifications(store, now=NOW, config=cfg(closed))
    assert {o.result for o in failed} == {"failed"}
    assert "the next run tries again" in failed[0].line()
    again = send_notifications(store, now=NOW, config=cfg(port))
    assert sorted(o.result for o in again) == ["emailed", "emailed"] and len(received) == 2


@pytest.fixture
def cli_env(store, monkeypatch):
    from models.store.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", store.url.render_as_string(hide_password=False))
    monkeypatch.delenv("RECTRACK_SMTP_HOST", raising=False)
    get_settings.cache_clear()
    give_cli_password(store, "aud", "scoped", "vic")
    return store


def test_rectrack_watch_and_notify_commands(cli_env, smtp_server, monkeypatch):
    port, received = smtp_server
    assert cli("watch", "add", "office", "Joint Staff J5", "--as", "aud").output == (
        "aud now watches office Joint Staff J5\n"
    )
    assert cli("watch", "list", "--as", "aud").output == "office\tJoint Staff J5\n"
    assert cli("watch", "list", "--as", "scoped").output == "office\tOSD Policy\t(your office: by default)\n"
    bad = cli("watch", "add", "recommendation", "nope", "--as", "aud")
    assert bad.exit_code == 1 and "no recommendation with key 'nope'" in bad.stderr
    assert cli("notify", "prefs", "--as", "vic", "--mode", "digest").output == (
        "vic: mail digest to vic@example.mil; no office: only what you watch\n"
    )
    assert cli("notify", "prefs", "--as", "vic", "--mode", "weekly").exit_code == 1
    change(cli_env, "rec-a", actor="ed", progress=5)
    listed = cli("notify", "list", "--as", "aud").output.splitlines()
    assert listed[0].startswith("* ") and listed[0].endswith("\trec-a\tprogress: 0 → 5\tby ed")
    assert listed[-1] == "1 unread of 1"
    assert cli("notify", "read", "--as", "aud").output == "marked 1 notification(s) read\n"
    assert cli("notify", "send").output == (
        "RECTRACK_SMTP_HOST is not set: nothing mailed; notifications stay in the app\n"
    )
    monkeypatch.setenv("RECTRACK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("RECTRACK_SMTP_PORT", str(port))
    sent = cli("notify", "send")
    assert sent.exit_code == 0, sent.output
    assert sent.output.splitlines() == [
        "ed2: e-mailed 1 change (immediate) to ed2@example.mil",
        "vic: e-mailed 1 change (digest) to vic@example.mil",
        "2 message(s) sent",
    ]
    assert cli("watch", "remove", "office", "Joint Staff J5", "--as", "aud").exit_code == 0
    assert cli("watch", "remove", "office", "Joint Staff J5", "--as", "aud").exit_code == 1
