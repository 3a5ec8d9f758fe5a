"""Reminders: each digest of :mod:`models.reads.digests` sent once a day, by mail or as a file.

Who gets which digest is :mod:`models.reads.digests`.

Sending
-------
:func:`send_reminders` e-mails each digest when SMTP is configured (``RECTRACK_SMTP_HOST`` and
friends, see :class:`ReminderSettings`) and the digest has at least one address; otherwise it
writes a plain-text file, one per digest per day, under ``RECTRACK_DIGEST_DIR`` (default
``<data dir>/digests``). Each delivery is recorded in the same write transaction as a
:class:`models.store.tables.ReminderLog` row (unique per digest and day) and a ``reminder_sent`` audit
event. The transaction holds the app-wide write lock while the one message goes out, so two
runs on the same day cannot both send: the second finds the log row and sends nothing. A
delivery that fails rolls back, so it is retried on the next run.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import cast

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.reads.digests import DUE_SOON_DAYS, Digest, DigestItem, digests
from models.rules.trail_events import record_digest_sent
from models.store.db import read_session, write_session
from models.store.errors import DomainError
from models.store.settings import get_settings
from models.store.tables import ReminderLog, User
from models.workflow.mail import MailError, MailSettings, build_message, link, send


class ReminderSettings(MailSettings):
    """Mail settings (:class:`models.workflow.mail.MailSettings`) plus ``RECTRACK_DIGEST_DIR``, where
    digests go as files when no SMTP host is set or an owner has no address."""

    digest_dir: Path | None = None

    @property
    def digest_path(self) -> Path:
        return self.digest_dir or get_settings().data_dir / "digests"


class ReminderError(DomainError):
    """A digest could not be delivered; nothing was recorded, so the next run retries it."""


SECTIONS = (
    ("overdue", "Overdue"),
    ("due_soon", f"Due within {DUE_SOON_DAYS} days"),
    ("stale", "No update for {stale} days or more"),
    ("overdue_steps", "Overdue steps of the action plans"),
    ("awaiting_verification", "Waiting for your verification"),
)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _line(section: str, item: DigestItem) -> str:
    return f"  - {item.key} [{item.status}] {item.title} ({_when(section, item)})"


def _when(section: str, item: DigestItem) -> str:
    target = item.target_date.isoformat() if item.target_date else "none"
    if section == "overdue":
        when = f"target {target}, {_plural(item.days, 'day')} overdue"
    elif section == "due_soon":
        when = (
            f"target {target}, due today"
            if item.days == 0
            else f"target {target}, due in {_plural(item.days, 'day')}"
        )
    elif section == "stale":
        when = f"{item.note}, {_plural(item.days, 'day')} ago"
    elif section == "overdue_steps":
        when = f"{item.note}, {_plural(item.days, 'day')} overdue"
    else:
        when = f"{item.note}, waiting {_plural(item.days, 'day')}"
    return when


def subject(digest: Digest) -> str:
    return (
        f"Recommendation Tracker: {_plural(digest.total, 'item')} for {digest.label} "
        f"on {digest.today.isoformat()}"
    )


def render_text(digest: Digest) -> str:
    """The digest as plain text: the e-mail body and the file content."""
    stale = get_settings().stale_after_days
    lines = [f"Recommendation Tracker reminders for {digest.label}, {digest.today.isoformat()}", ""]
    for name, heading in SECTIONS:
        items = getattr(digest, name)
        if items:
            lines.append(f"{heading.format(stale=stale)} ({len(items)})")
            lines.extend(_line(name, i) for i in items)
            lines.append("")
    lines.append('Open the "My items" page of the Recommendation Tracker to act on these.')
    return "\n".join(lines) + "\n"


def safe_name(text: str) -> str:
    """A file-name-safe slug of any owner string, with a short hash so distinct owners never collide."""
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:60] or "owner"
    return f"{slug}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"


def digest_filename(digest: Digest) -> str:
    return f"{digest.today.isoformat()}_{safe_name(digest.key)}.txt"


def recipients(session: Session, digest: Digest) -> list[str]:
    """Addresses of the enabled users the digest is for (its office, or the verifier)."""
    q = select(User.email).where(User.disabled == False, col(User.email).is_not(None))  # noqa: E712
    q = (
        q.where(User.office == digest.owner)
        if digest.kind == "office"
        else q.where(User.username == digest.owner)
    )
    return sorted({e for e in session.exec(q).all() if e and e.strip()})


MY_ITEMS_PAGE, RECORD_PAGE = "my-items", "recommendations"  # the dashboard's URL paths (dashboard/app.py)


def render_mail_text(cfg: MailSettings, digest: Digest) -> str:
    """The plain-text part: the digest, each item with the link that opens it, and My items."""
    stale = get_settings().stale_after_days
    lines = [f"Recommendation Tracker reminders for {digest.label}, {digest.today.isoformat()}", ""]
    for name, heading in SECTIONS:
        items = getattr(digest, name)
        if items:
            lines.append(f"{heading.format(stale=stale)} ({len(items)})")
            for i in items:
                lines.append(_line(name, i))
                lines.append(f"    {link(cfg, RECORD_PAGE, rec=i.key)}")
            lines.append("")
    lines.append(f'Act on these on the "My items" page: {link(cfg, MY_ITEMS_PAGE)}')
    return "\n".join(lines) + "\n"


def render_html(cfg: MailSettings, digest: Digest) -> str:
    """The HTML part: the same digest, every title escaped, every item a link to its record."""
    from html import escape

    stale = get_settings().stale_after_days
    parts = [
        f"<p>Recommendation Tracker reminders for <b>{escape(digest.label)}</b>, {digest.today.isoformat()}</p>"
    ]
    for name, heading in SECTIONS:
        items = getattr(digest, name)
        if not items:
            continue
        parts.append(f"<h3>{escape(heading.format(stale=stale))} ({len(items)})</h3><ul>")
        for i in items:
            parts.append(
                f'<li><a href="{escape(link(cfg, RECORD_PAGE, rec=i.key))}">{escape(i.key)}</a> '
                f"[{escape(i.status)}] {escape(i.title)} ({escape(_when(name, i))})</li>"
            )
        parts.append("</ul>")
    parts.append(f'<p><a href="{escape(link(cfg, MY_ITEMS_PAGE))}">Open “My items”</a> to act on these.</p>')
    return '<!doctype html><html><body style="font-family:sans-serif">' + "".join(parts) + "</body></html>"


def _send_mail(cfg: ReminderSettings, to: list[str], digest: Digest) -> None:
    msg = build_message(
        cfg, to=to, subject=subject(digest), text=render_mail_text(cfg, digest), html=render_html(cfg, digest)
    )
    try:
        send(cfg, msg, to)
    except MailError as e:
        raise ReminderError(
            f"could not e-mail the digest for {digest.label} through {e.where}: {e.reason}; "
            "nothing was recorded, so the next run tries again"
        ) from e


def _write_file(cfg: ReminderSettings, digest: Digest) -> Path:
    folder = cfg.digest_path
    path = folder / digest_filename(digest)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(render_text(digest), encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        raise ReminderError(
            f"could not write the digest for {digest.label} to {path}: {e.strerror or e}"
        ) from e
    return path


@dataclass
class Outcome:
    digest: Digest
    result: str  # emailed | written | already_sent | would_email | would_write | failed
    destination: str = ""
    message: str = ""

    def line(self) -> str:
        n, label, day = _plural(self.digest.total, "item"), self.digest.label, self.digest.today.isoformat()
        return {
            "emailed": f"{label}: e-mailed {n} to {self.destination}",
            "written": f"{label}: wrote {n} to {self.destination}",
            "already_sent": f"{label}: already sent for {day} ({self.destination}); not sent again",
            "would_email": f"{label}: would e-mail {n} to {self.destination} (dry run)",
            "would_write": f"{label}: would write {n} to {self.destination} (dry run)",
            "failed": f"{label}: not sent: {self.message}",
        }[self.result]


def _already(session: Session, digest: Digest) -> ReminderLog | None:
    return session.exec(
        select(ReminderLog).where(ReminderLog.owner == digest.key, ReminderLog.digest_date == digest.today)
    ).first()


def _plan(session: Session, cfg: ReminderSettings, digest: Digest) -> tuple[str, str | list[str]]:
    to = recipients(session, digest) if cfg.smtp_configured else []
    return ("email", to) if to else ("file", str(cfg.digest_path / digest_filename(digest)))


def send_reminders(
    engine: Engine, today: date, *, dry_run: bool = False, config: ReminderSettings | None = None
) -> list[Outcome]:
    """Deliver every digest for ``today`` once; see the module docstring for the rules."""
    cfg = config or ReminderSettings()
    with read_session(engine) as session:
        todo = digests(session, today)
    outcomes: list[Outcome] = []
    for digest in todo:
        if dry_run:
            with read_session(engine) as session:
                done = _already(session, digest)
                channel, dest = _plan(session, cfg, digest)
            if done:
                outcomes.append(Outcome(digest, "already_sent", f"{done.channel} to {done.destination}"))
            else:
                shown = ", ".join(dest) if channel == "email" else cast(str, dest)
                outcomes.append(
                    Outcome(digest, "would_email" if channel == "email" else "would_write", shown)
                )
            continue
        try:
            with write_session(engine) as session:
                done = _already(session, digest)
                if done:
                    outcomes.append(Outcome(digest, "already_sent", f"{done.channel} to {done.destination}"))
                    continue
                channel, dest = _plan(session, cfg, digest)
                if channel == "email":
                    _send_mail(cfg, cast(list[str], dest), digest)

                    destination = ", ".join(dest)
                else:
                    destination = str(_write_file(cfg, digest))
                record_digest_sent(
                    session,
                    key=digest.key,
                    label=digest.label,
                    digest_date=today,
                    channel=channel,
                    destination=destination,
                    items=digest.total,
                    details={
                        "owner": digest.owner,
                        "kind": digest.kind,
                        "counts": {name: len(getattr(digest, name)) for name, _ in SECTIONS},
                        "keys": sorted({i.key for name, _ in SECTIONS for i in getattr(digest, name)}),
                    },
                )
            outcomes.append(Outcome(digest, "emailed" if channel == "email" else "written", destination))
        except ReminderError as e:
            outcomes.append(Outcome(digest, "failed", message=str(e)))
    return outcomes
