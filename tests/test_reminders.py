"""Reminders: exact digests for a fixed day, delivery by e-mail or file, never twice a day."""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
import socket
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from models.reads.digests import Digest, DigestItem, digest_for, digest_for_user, digests
from models.rules.closure import propose_closure
from models.rules.recommendations import create_recommendation, update_recommendation
from models.rules.records import get_recommendation
from models.store.db import read_session, write_session
from models.store.schemas import RecommendationCreate, RecommendationUpdate
from models.store.tables import AuditEvent, ReminderLog, User
from models.workflow.reminders import ReminderSettings, digest_filename, send_reminders
from tests.helpers import close, event_count

TODAY = date(2020, 6, 1)  # a fixed clock; every store write below is backdated relative to it
OSD, J5 = "OSD Policy", "Joint Staff J5"


def at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def user(s, name: str) -> User:
    return s.exec(select(User).where(User.username == name)).one()


def rec(engine, key, owner=OSD, *, created=None, target=None, title=None):
    with write_session(engine) as s:
        data = RecommendationCreate(
            key=key,
            title=title or f"Title of {key}",
            summary="s",
            theme="counter_drug",
            who_must_act="us",
            owner=owner,
            target_date=target,
        )
        create_recommendation(
            s, data=data, actor=user(s, "ed"), reason="setup", effective_at=at(created or days_ago(10))
        )


def touch(engine, key, on: date, **fields):
    with write_session(engine) as s:
        r = get_recommendation(s, key)
        update_recommendation(
            s,
            key=key,
            actor=user(s, "ed"),
            effective_at=at(on),
            change=RecommendationUpdate(expected_version=r.version, reason="moved", **fields),
        )


def propose(engine, key, by="ed", on: date = days_ago(3)):
    with write_session(engine) as s:
        r = get_recommendation(s, key)
        p = propose_closure(
            s,
            key=key,
            target="not_implemented",
            reason="dropped",
            expected_version=r.version,
            actor=user(s, by),
        )
        p.proposed_at = at(
            on
        )  # the proposal row is not part of the hash chain; backdate it for the fixed clock
        s.add(p)


@pytest.fixture
def people(engine, users):
    """Addresses for the office, a designated verifier in the office, an auditor with an address."""
    with write_session(engine) as s:
        s.add(User(username="osdver", role="editor", office=OSD, can_verify=True, email="osdver@example.mil"))
        s.add(User(username="osdgone", role="editor", office=OSD, disabled=True, email="gone@example.mil"))
        scoped = user(s, "scoped")
        scoped.email = "scoped@example.mil"
        aud = user(s, "aud")
        aud.email = "aud@example.mil"
        s.add_all([scoped, aud])
    return users


@pytest.fixture
def store(engine, people):
    """Recommendations placed around TODAY's edges: due today, in 30 and 31 days, 89 and 90 days idle."""
    rec(engine, "osd-overdue", target=days_ago(5))
    rec(engine, "osd-overdue-more", target=days_ago(40))
    rec(engine, "osd-due-today", target=TODAY)
    rec(engine, "osd-due-30", target=TODAY + timedelta(days=30))
    rec(engine, "osd-due-31", target=TODAY + timedelta(days=31))
    rec(engine, "osd-idle-152", created=date(2020, 1, 1))
    rec(engine, "osd-idle-90", created=days_ago(90), target=days_ago(1))
    rec(engine, "osd-idle-89", created=days_ago(89))
    rec(engine, "osd-touched", created=date(2019, 1, 1))
    touch(engine, "osd-touched", days_ago(10), progress=20)
    rec(engine, "osd-closed", created=date(2019, 1, 1), target=days_ago(100))
    close(engine, "osd-closed")
    rec(engine, "osd-own-proposal")
    propose(engine, "osd-own-proposal", by="osdver", on=days_ago(1))
    rec(engine, "j5-overdue", owner=J5, target=days_ago(1))
    rec(engine, "j5-pending", owner=J5)
    propose(engine, "j5-pending", by="ed", on=days_ago(3))
    return engine


def item(key, status="proposed", target=None, days=0, note=""):
    return DigestItem(
        key=key, title=f"Title of {key}", status=status, target_date=target, days=days, note=note
    )


J5_PENDING = item("j5-pending", days=3, note=f"closure as not_implemented proposed by ed on {days_ago(3)}")
OWN_PENDING = item(
    "osd-own-proposal", days=1, note=f"closure as not_implemented proposed by osdver on {days_ago(1)}"
)


def test_an_office_digest_for_a_fixed_day_is_exact(store):
    with read_session(store) as s:
        d = digest_for(s, OSD, TODAY)
    assert d.overdue == [
        item("osd-overdue-more", target=days_ago(40), days=40),
        item("osd-overdue", target=days_ago(5), days=5),
        item("osd-idle-90", target=days_ago(1), days=1),
    ]
    assert d.due_soon == [
        item("osd-due-today", target=TODAY, days=0),
        item("osd-due-30", target=TODAY + timedelta(days=30), days=30),
    ]
    assert d.stale == [
        item("osd-idle-152", days=152, note="last updated 2020-01-01"),
        item("osd-idle-90", target=days_ago(1), days=90, note=f"last updated {days_ago(90)}"),
    ]
    # osdver may verify closures, but never their own proposal; nobody else in the office verifies
    assert d.awaiting_verification == [J5_PENDING]


def test_other_owners_and_verifiers_without_an_office_get_their_own_digests(store):
    with read_session(store) as s:
        every = digests(s, TODAY)
        scoped = digest_for_user(s, user(s, "scoped"), TODAY)
        viewer = digest_for_user(s, user(s, "vic"), TODAY)
        auditor = digest_for_user(s, user(s, "aud"), TODAY)
    assert [(d.kind, d.owner) for d in every] == [
        ("office", J5),
        ("office", OSD),
        ("verifier", "adm"),
        ("verifier", "aud"),
    ]
    j5, osd, adm, aud = every
    assert j5.overdue == [item("j5-overdue", target=days_ago(1), days=1)]
    assert (j5.due_soon, j5.stale, j5.awaiting_verification) == ([], [], [])
    assert osd.total == 8 and scoped == osd
    assert adm.awaiting_verification == aud.awaiting_verification == [J5_PENDING, OWN_PENDING]
    assert (aud.overdue, aud.due_soon, aud.stale) == ([], [], []) and auditor == aud
    assert viewer.total == 0


def test_a_digest_for_a_day_before_a_recommendation_existed_leaves_it_out_of_stale(store):
    with read_session(store) as s:
        d = digest_for(s, OSD, date(2019, 6, 1))
    assert [i.key for i in d.stale] == ["osd-touched"] and d.stale[0].days == 151


def cfg(tmp_path, port=None) -> ReminderSettings:
    return ReminderSettings(
        smtp_host="127.0.0.1" if port else None,
        smtp_port=port or 25,
        smtp_from="tracker@example.mil",
        digest_dir=tmp_path / "digests",
    )


def test_digests_go_by_email_to_the_office_and_to_files_where_no_address_is_known(
    store, smtp_server, tmp_path
):
    port, received = smtp_server
    outcomes = send_reminders(store, TODAY, config=cfg(tmp_path, port))
    assert [(o.digest.label, o.result, o.destination) for o in outcomes] == [
        (J5, "written", str(tmp_path / "digests" / f"2020-06-01_{digest_filename(outcomes[0].digest)[11:]}")),
        (OSD, "emailed", "osdver@example.mil, scoped@example.mil"),
        ("adm (verifier)", "written", str(tmp_path / "digests" / digest_filename(outcomes[2].digest))),
        ("aud (verifier)", "emailed", "aud@example.mil"),
    ]
    assert sorted(tuple(e.rcpt_tos) for e in received) == [
        ("aud@example.mil",),
        ("osdver@example.mil", "scoped@example.mil"),
    ]
    osd_mail = next(e for e in received if "scoped@example.mil" in e.rcpt_tos)
    assert osd_mail.mail_from == "tracker@example.mil"
    msg = email.message_from_bytes(osd_mail.content, policy=email.policy.default)
    assert msg["Subject"] == "Recommendation Tracker: 8 items for OSD Policy on 2020-06-01"
    assert msg["To"] == "osdver@example.mil, scoped@example.mil"
    assert msg.get_content_type() == "multipart/alternative"
    body = msg.get_body(("plain",)).get_content()
    rec = "http://localhost:8501/recommendations?rec="
    assert body.splitlines() == [
        "Recommendation Tracker reminders for OSD Policy, 2020-06-01",
        "",
        "Overdue (3)",
        "  - osd-overdue-more [proposed] Title of osd-overdue-more (target 2020-04-22, 40 days overdue)",
        f"    {rec}osd-overdue-more",
        "  - osd-overdue [proposed] Title of osd-overdue (target 2020-05-27, 5 days overdue)",
        f"    {rec}osd-overdue",
        "  - osd-idle-90 [proposed] Title of osd-idle-90 (target 2020-05-31, 1 day overdue)",
        f"    {rec}osd-idle-90",
        "",
        "Due within 30 days (2)",
        "  - osd-due-today [proposed] Title of osd-due-today (target 2020-06-01, due today)",
        f"    {rec}osd-due-today",
        "  - osd-due-30 [proposed] Title of osd-due-30 (target 2020-07-01, due in 30 days)",
        f"    {rec}osd-due-30",
        "",
        "No update for 90 days or more (2)",
        "  - osd-idle-152 [proposed] Title of osd-idle-152 (last updated 2020-01-01, 152 days ago)",
        f"    {rec}osd-idle-152",
        "  - osd-idle-90 [proposed] Title of osd-idle-90 (last updated 2020-03-03, 90 days ago)",
        f"    {rec}osd-idle-90",
        "",
        "Waiting for your verification (1)",
        "  - j5-pending [proposed] Title of j5-pending (closure as not_implemented proposed by ed on 2020-05-29, "
        "waiting 3 days)",
        f"    {rec}j5-pending",
        "",
        'Act on these on the "My items" page: http://localhost:8501/my-items',
    ]
    assert msg["Date"] and msg["Message-ID"], "mail filters score a message without Date/Message-ID as spam"
    with read_session(store) as s:
        logs = s.exec(select(ReminderLog).order_by(ReminderLog.owner)).all()
        events = s.exec(
            select(AuditEvent).where(AuditEvent.action == "reminder_sent").order_by(AuditEvent.seq)
        ).all()
    assert [(r.owner, r.digest_date, r.channel, r.items) for r in logs] == [
        (J5, TODAY, "file", 1),
        (OSD, TODAY, "email", 8),
        ("user:adm", TODAY, "file", 2),
        ("user:aud", TODAY, "email", 2),
    ]
    assert [(e.record_type, e.record_key, e.actor) for e in events] == [
        ("reminder", J5, "reminders"),
        ("reminder", OSD, "reminders"),
        ("reminder", "user:adm", "reminders"),
        ("reminder", "user:aud", "reminders"),
    ]


def test_without_smtp_each_owner_gets_one_file_per_day_with_a_safe_name(store, tmp_path):
    outcomes = send_reminders(store, TODAY, config=cfg(tmp_path))
    files = sorted((tmp_path / "digests").iterdir())
    assert len(files) == 4 and {o.result for o in outcomes} == {"written"}
    assert sorted(str(f) for f in files) == sorted(o.destination for o in outcomes)
    assert all(f.name.startswith("2020-06-01_") and f.suffix == ".txt" and " " not in f.name for f in files)
    assert digest_filename(outcomes[1].digest).startswith("2020-06-01_osd-policy-")
    j5 = (tmp_path / "digests" / digest_filename(outcomes[0].digest)).read_text()
    assert j5.splitlines()[:4] == [
        "Recommendation Tracker reminders for Joint Staff J5, 2020-06-01",
        "",
        "Overdue (1)",
        "  - j5-overdue [proposed] Title of j5-overdue (target 2020-05-31, 1 day overdue)",
    ]


def test_owner_strings_that_slug_alike_still_get_separate_files(engine, people, tmp_path):
    for key, owner in [("a-one", "OSD/Policy"), ("a-two", "OSD Policy!")]:
        rec(engine, key, owner=owner, target=days_ago(1))
    outcomes = send_reminders(engine, TODAY, config=cfg(tmp_path))
    names = {digest_filename(o.digest) for o in outcomes if o.digest.kind == "office"}
    assert len(names) == 2 and all("/" not in n for n in names)


def test_a_second_run_the_same_day_sends_nothing(store, smtp_server, tmp_path):
    port, received = smtp_server
    first = send_reminders(store, TODAY, config=cfg(tmp_path, port))
    sent, events = len(received), event_count(store)
    second = send_reminders(store, TODAY, config=cfg(tmp_path, port))
    assert {o.result for o in first} == {"emailed", "written"}
    assert [o.result for o in second] == ["already_sent"] * 4
    assert len(received) == sent == 2 and event_count(store) == events
    assert (
        second[1].line() == "OSD Policy: already sent for 2020-06-01 (email to osdver@example.mil, "
        "scoped@example.mil); not sent again"
    )
    assert [
        o.result for o in send_reminders(store, TODAY + timedelta(days=1), config=cfg(tmp_path, port))
    ] == ["written", "emailed", "written", "emailed"]


def test_a_failed_delivery_is_not_recorded_and_is_retried_next_run(store, tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    outcomes = send_reminders(store, TODAY, config=cfg(tmp_path, dead))
    assert [o.result for o in outcomes] == ["written", "failed", "written", "failed"]
    assert "could not e-mail the digest for OSD Policy through 127.0.0.1:" in outcomes[1].message
    with read_session(store) as s:
        assert {r.owner for r in s.exec(select(ReminderLog)).all()} == {J5, "user:adm"}
    retried = send_reminders(store, TODAY, config=cfg(tmp_path))
    assert [o.result for o in retried] == ["already_sent", "written", "already_sent", "written"]


runner = CliRunner()


@pytest.fixture
def cli_env(store, monkeypatch, tmp_path):
    from models.store.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", store.url.render_as_string(hide_password=False))
    monkeypatch.setenv("RECTRACK_DIGEST_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("RECTRACK_SMTP_HOST", raising=False)
    get_settings.cache_clear()
    return store


def test_rectrack_remind_writes_files_then_says_nothing_is_sent_again(cli_env, tmp_path):
    dry = runner.invoke(app, ["remind", "--today", "2020-06-01", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Recommendation Tracker reminders for OSD Policy, 2020-06-01" in dry.stdout
    assert dry.stdout.rstrip().endswith("dry run: nothing sent or recorded for 2020-06-01")
    assert not (tmp_path / "out").exists()
    first = runner.invoke(app, ["remind", "--today", "2020-06-01"])
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert (
        lines[0] == f"Joint Staff J5: wrote 1 item to {tmp_path / 'out'}/2020-06-01_joint-staff-j5-"
        f"{lines[0].split('joint-staff-j5-')[1]}"
    )
    assert lines[1].startswith(f"OSD Policy: wrote 8 items to {tmp_path / 'out'}/2020-06-01_osd-policy-")
    assert lines[-1] == "0 e-mailed, 4 written to files, 0 already sent earlier for 2020-06-01"
    assert len(list((tmp_path / "out").iterdir())) == 4
    again = runner.invoke(app, ["remind", "--today", "2020-06-01"])
    assert again.exit_code == 0
    assert again.stdout.splitlines()[-1] == "nothing sent: every digest for 2020-06-01 already went out"


def test_rectrack_remind_sends_through_smtp_from_the_environment(cli_env, smtp_server, monkeypatch):
    port, received = smtp_server
    monkeypatch.setenv("RECTRACK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("RECTRACK_SMTP_PORT", str(port))
    monkeypatch.setenv("RECTRACK_SMTP_FROM", "tracker@example.mil")
    result = runner.invoke(app, ["remind", "--today", "2020-06-01"])
    assert result.exit_code == 0, result.output
    assert "OSD Policy: e-mailed 8 items to osdver@example.mil, scoped@example.mil" in result.stdout
    assert (
        result.stdout.splitlines()[-1]
        == "2 e-mailed, 2 written to files, 0 already sent earlier for 2020-06-01"
    )
    assert len(received) == 2


def test_rectrack_remind_refuses_a_bad_date_in_one_line(cli_env):
    result = runner.invoke(app, ["remind", "--today", "1 June"])
    assert result.exit_code == 1
    assert result.stderr == "error: --today '1 June' is not a date; use YYYY-MM-DD\n"


def test_a_reminder_mail_has_date_message_id_plain_and_html_parts_and_working_links(
    store, smtp_server, tmp_path, monkeypatch
):
    """Parsed from what a local SMTP server received, as a mail client would."""
    from html.parser import HTMLParser
    from urllib.parse import parse_qs, urlparse

    port, received = smtp_server
    config = cfg(tmp_path, port).model_copy(update={"base_url": "https://tracker.example.mil/"})
    send_reminders(store, TODAY, config=config)
    osd_mail = next(e for e in received if "scoped@example.mil" in e.rcpt_tos)
    msg = email.message_from_bytes(osd_mail.content, policy=email.policy.default)
    assert email.utils.parsedate_to_datetime(msg["Date"]).tzinfo is not None
    assert re.fullmatch(r"<[^@<>\s]+@example\.mil>", msg["Message-ID"])
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]

    class Links(HTMLParser):
        def __init__(self):
            super().__init__()
            self.hrefs, self.text = [], []

        def handle_starttag(self, tag, attrs):
            if tag == "a":
                self.hrefs.append(dict(attrs)["href"])

        def handle_data(self, data):
            self.text.append(data)

    html_part = Links()
    html_part.feed(msg.get_body(("html",)).get_content())
    records = [h for h in html_part.hrefs if "/recommendations?" in h]
    assert len(records) == 8 and html_part.hrefs[-1] == "https://tracker.example.mil/my-items"
    for href in records:
        url = urlparse(href)
        assert (url.scheme, url.netloc, url.path) == ("https", "tracker.example.mil", "/recommendations")
    assert {parse_qs(urlparse(h).query)["rec"][0] for h in records} >= {"osd-overdue", "j5-pending"}
    assert "Title of osd-overdue" in "".join(html_part.text)
    plain = msg.get_body(("plain",)).get_content()
    assert "https://tracker.example.mil/recommendations?rec=osd-overdue\r\n" in plain


def test_titles_in_the_html_part_are_escaped(tmp_path):
    from models.workflow.reminders import render_html

    digest = Digest(
        owner="<b>X</b>",
        today=TODAY,
        overdue=[DigestItem("k", "<img src=x onerror=alert(1)>", "proposed", TODAY, 3)],
    )
    body = render_html(cfg(tmp_path), digest)
    assert "<img" not in body and "&lt;img src=x" in body and "&lt;b&gt;X&lt;/b&gt;" in body
