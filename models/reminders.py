"""Reminders: what each owner should look at today, as a page and as a daily digest.

Who gets a digest
-----------------
* **An owning office** (the ``Recommendation.owner`` string, e.g. ``"OSD Policy"``) gets one
  digest of its *open* recommendations:

  - ``overdue``: the target date is before ``today`` (``days`` = days overdue);
  - ``due_soon``: the target date is ``today`` or within the next 30 days (``days`` = days left);
  - ``stale``: no update for ``settings.stale_after_days`` days or more (``days`` = days since the
    last update). The last update is the later of ``Recommendation.updated_at`` and the latest
    effective date of the recommendation's events, counting only those on or before ``today``,
    so a digest for a past day reads as it would have on that day, and a recommendation that
    did not exist yet is never stale;
  - ``awaiting_verification``: closures waiting for a verifier *in that office*, i.e. the union of
    :func:`models.closure.pending_for_verifier` over the enabled users whose ``office`` equals the
    owner (``days`` = days since the proposal). A verifier never sees their own proposal, so a
    proposal appears here only if someone else in the office can verify it.

  It goes to the e-mail addresses of the enabled users whose ``office`` equals the owner.
* **A verifier without an office** (an auditor or admin, or a user flagged ``can_verify``) gets a
  personal digest keyed by their *username* (``Digest.kind == "verifier"``) listing only the
  closures waiting for their verification, sent to their own address. A verifier *with* an office
  is served by the office digest instead, so nobody gets the same item twice.

Digests with no items are not produced. :func:`digest_for` and :func:`digest_for_user` give the
"My items" page its data; :func:`digests` gives every digest for a day.

Sending
-------
:func:`send_reminders` e-mails each digest when SMTP is configured (``RECTRACK_SMTP_HOST`` and
friends, see :class:`ReminderSettings`) and the digest has at least one address; otherwise it
writes a plain-text file, one per digest per day, under ``RECTRACK_DIGEST_DIR`` (default
``<data dir>/digests``). Each delivery is recorded in the same write transaction as a
:class:`models.tables.ReminderLog` row (unique per digest and day) and a ``reminder_sent`` audit
event. The transaction holds the app-wide write lock while the one message goes out, so two
runs on the same day cannot both send: the second finds the log row and sends nothing. A
delivery that fails rolls back, so it is retried on the next run.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.audit import append_event
from models.closure import pending_for_verifier
from models.db import read_session, write_session
from models.errors import DomainError
from models.lifecycle import OPEN
from models.permissions import can
from models.settings import get_settings
from models.tables import AuditEvent, ClosureProposal, Recommendation, ReminderLog, User

DUE_SOON_DAYS = 30
REMINDER_ACTOR = "reminders"  # the trail's actor for digests sent by `rectrack remind`


class ReminderSettings(BaseSettings):
    """Mail settings for reminders, from the environment or ``.env``.

    ``RECTRACK_SMTP_HOST`` (no host: digests go to files), ``RECTRACK_SMTP_PORT`` (25),
    ``RECTRACK_SMTP_USER`` / ``RECTRACK_SMTP_PASSWORD`` (log in when a user is given),
    ``RECTRACK_SMTP_FROM``, ``RECTRACK_SMTP_STARTTLS`` / ``RECTRACK_SMTP_SSL`` (true/false),
    ``RECTRACK_SMTP_TIMEOUT`` (seconds) and ``RECTRACK_DIGEST_DIR``.
    """

    model_config = SettingsConfigDict(env_prefix="RECTRACK_", env_file=".env", extra="ignore")

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "rectrack@localhost"
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout: float = 10.0
    digest_dir: Path | None = None

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host and self.smtp_host.strip())

    @property
    def digest_path(self) -> Path:
        return self.digest_dir or get_settings().data_dir / "digests"


class ReminderError(DomainError):
    """A digest could not be delivered; nothing was recorded, so the next run retries it."""


@dataclass(frozen=True)
class DigestItem:
    key: str
    title: str
    status: str
    target_date: date | None
    days: int
    note: str = ""


@dataclass
class Digest:
    owner: str  # the owning office, or a verifier's username when kind == "verifier"
    today: date
    kind: str = "office"  # office | verifier
    overdue: list[DigestItem] = field(default_factory=list)
    due_soon: list[DigestItem] = field(default_factory=list)
    stale: list[DigestItem] = field(default_factory=list)
    awaiting_verification: list[DigestItem] = field(default_factory=list)

    @property
    def key(self) -> str:
        """What the reminder log and file names use: the office, or ``user:<username>``."""
        return self.owner if self.kind == "office" else f"user:{self.owner}"

    @property
    def label(self) -> str:
        return self.owner if self.kind == "office" else f"{self.owner} (verifier)"

    @property
    def total(self) -> int:
        return len(self.overdue) + len(self.due_soon) + len(self.stale) + len(self.awaiting_verification)

    def __bool__(self) -> bool:  # an empty digest is not worth sending
        return self.total > 0


# --------------------------------------------------------------------------- queries

def _aware(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _end_of(today: date) -> datetime:
    return datetime.combine(today + timedelta(days=1), time(), tzinfo=timezone.utc)


def _open_items(session: Session, today: date, owner: str | None = None) -> dict[str, Digest]:
    """Overdue, due-soon and stale items of every owner (or one), by owner."""
    end = _end_of(today)
    stale_after = get_settings().stale_after_days
    touched = (select(AuditEvent.record_key, func.max(AuditEvent.effective_at).label("at"))
               .where(AuditEvent.record_type == "recommendation", AuditEvent.effective_at < end)
               .group_by(AuditEvent.record_key).subquery())
    q = (select(Recommendation, touched.c.at).join(touched, touched.c.record_key == Recommendation.key, isouter=True)
         .where(Recommendation.status.in_(OPEN)).order_by(Recommendation.owner, Recommendation.key))
    if owner is not None:
        q = q.where(Recommendation.owner == owner)
    out: dict[str, Digest] = {}
    for rec, event_at in session.exec(q):
        d = out.setdefault(rec.owner, Digest(owner=rec.owner, today=today))
        if rec.target_date is not None:
            left = (rec.target_date - today).days
            if left < 0:
                d.overdue.append(DigestItem(rec.key, rec.title, rec.status, rec.target_date, -left))
            elif left <= DUE_SOON_DAYS:
                d.due_soon.append(DigestItem(rec.key, rec.title, rec.status, rec.target_date, left))
        moments = [m for m in (_aware(event_at), _aware(rec.updated_at)) if m is not None and m < end]
        if moments:
            last = max(moments)
            idle = (today - last.date()).days
            if idle >= stale_after:
                d.stale.append(DigestItem(rec.key, rec.title, rec.status, rec.target_date, idle,
                                          note=f"last updated {last.date().isoformat()}"))
    for d in out.values():
        d.overdue.sort(key=lambda i: (-i.days, i.key))
        d.due_soon.sort(key=lambda i: (i.days, i.key))
        d.stale.sort(key=lambda i: (-i.days, i.key))
    return out


def _awaiting(session: Session, verifiers: list[User], today: date) -> list[DigestItem]:
    seen: dict[int, tuple[ClosureProposal, Recommendation]] = {}
    for user in verifiers:
        for proposal, rec in pending_for_verifier(session, user):
            seen.setdefault(proposal.id, (proposal, rec))
    items = []
    for proposal, rec in sorted(seen.values(), key=lambda pr: (_aware(pr[0].proposed_at), pr[1].key)):
        proposed = _aware(proposal.proposed_at)
        items.append(DigestItem(rec.key, rec.title, rec.status, rec.target_date, max((today - proposed.date()).days, 0),
                                note=f"closure as {proposal.target_status} proposed by {proposal.proposed_by} "
                                     f"on {proposed.date().isoformat()}"))
    return items


def _active_users(session: Session) -> list[User]:
    return list(session.exec(select(User).where(User.disabled == False, User.role != "system")  # noqa: E712
                             .order_by(User.username)).all())


def _is_verifier(user: User) -> bool:
    return can(user, "closure.verify")


def digest_for(session: Session, owner: str, today: date) -> Digest:
    """One office's digest for ``today`` (possibly empty)."""
    digest = _open_items(session, today, owner).get(owner) or Digest(owner=owner, today=today)
    office_users = [u for u in _active_users(session) if u.office == owner]
    digest.awaiting_verification = _awaiting(session, office_users, today)
    return digest


def digest_for_user(session: Session, user: User, today: date) -> Digest:
    """What the "My items" page shows a signed-in user: their office's digest, or, for a verifier
    without an office, the closures waiting for them; otherwise an empty digest."""
    if user.office:
        return digest_for(session, user.office, today)
    digest = Digest(owner=user.username, today=today, kind="verifier")
    if not user.disabled and _is_verifier(user):
        digest.awaiting_verification = _awaiting(session, [user], today)
    return digest


def digests(session: Session, today: date) -> list[Digest]:
    """Every non-empty digest for ``today``: offices by name, then verifiers by username."""
    by_owner = _open_items(session, today)
    users = _active_users(session)
    offices = {u.office for u in users if u.office and _is_verifier(u)}
    for office in offices:
        items = _awaiting(session, [u for u in users if u.office == office], today)
        if items:
            by_owner.setdefault(office, Digest(owner=office, today=today)).awaiting_verification = items
    out = [d for _, d in sorted(by_owner.items()) if d]
    for user in users:
        if not user.office and _is_verifier(user):
            d = Digest(owner=user.username, today=today, kind="verifier",
                       awaiting_verification=_awaiting(session, [user], today))
            if d:
                out.append(d)
    return out


# --------------------------------------------------------------------------- rendering

SECTIONS = (
    ("overdue", "Overdue"),
    ("due_soon", f"Due within {DUE_SOON_DAYS} days"),
    ("stale", "No update for {stale} days or more"),
    ("awaiting_verification", "Waiting for your verification"),
)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _line(section: str, item: DigestItem) -> str:
    target = item.target_date.isoformat() if item.target_date else "none"
    if section == "overdue":
        when = f"target {target}, {_plural(item.days, 'day')} overdue"
    elif section == "due_soon":
        when = f"target {target}, due today" if item.days == 0 else f"target {target}, due in {_plural(item.days, 'day')}"
    elif section == "stale":
        when = f"{item.note}, {_plural(item.days, 'day')} ago"
    else:
        when = f"{item.note}, waiting {_plural(item.days, 'day')}"
    return f"  - {item.key} [{item.status}] {item.title} ({when})"


def subject(digest: Digest) -> str:
    return (f"Recommendation Tracker: {_plural(digest.total, 'item')} for {digest.label} "
            f"on {digest.today.isoformat()}")


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


# --------------------------------------------------------------------------- delivery

def safe_name(text: str) -> str:
    """A file-name-safe slug of any owner string, with a short hash so distinct owners never collide."""
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:60] or "owner"
    return f"{slug}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"


def digest_filename(digest: Digest) -> str:
    return f"{digest.today.isoformat()}_{safe_name(digest.key)}.txt"


def recipients(session: Session, digest: Digest) -> list[str]:
    """Addresses of the enabled users the digest is for (its office, or the verifier)."""
    q = select(User.email).where(User.disabled == False, User.email.is_not(None))  # noqa: E712
    q = q.where(User.office == digest.owner) if digest.kind == "office" else q.where(User.username == digest.owner)
    return sorted({e for e in session.exec(q).all() if e and e.strip()})


def _send_mail(cfg: ReminderSettings, to: list[str], digest: Digest) -> None:
    msg = EmailMessage()
    msg["Subject"] = subject(digest)
    msg["From"] = cfg.smtp_from
    msg["To"] = ", ".join(to)
    msg.set_content(render_text(digest))
    where = f"{cfg.smtp_host}:{cfg.smtp_port}"
    try:
        smtp_cls = smtplib.SMTP_SSL if cfg.smtp_ssl else smtplib.SMTP
        with smtp_cls(cfg.smtp_host, cfg.smtp_port, timeout=cfg.smtp_timeout) as smtp:
            if cfg.smtp_starttls and not cfg.smtp_ssl:
                smtp.starttls(context=ssl.create_default_context())
            if cfg.smtp_user:
                smtp.login(cfg.smtp_user, cfg.smtp_password.get_secret_value() if cfg.smtp_password else "")
            smtp.send_message(msg, to_addrs=to)
    except (smtplib.SMTPException, OSError) as e:
        raise ReminderError(f"could not e-mail the digest for {digest.label} through {where}: {e}; "
                            "nothing was recorded, so the next run tries again") from e


def _write_file(cfg: ReminderSettings, digest: Digest) -> Path:
    folder = cfg.digest_path
    path = folder / digest_filename(digest)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(render_text(digest), encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        raise ReminderError(f"could not write the digest for {digest.label} to {path}: {e.strerror or e}") from e
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
    return session.exec(select(ReminderLog).where(ReminderLog.owner == digest.key,
                                                  ReminderLog.digest_date == digest.today)).first()


def _plan(session: Session, cfg: ReminderSettings, digest: Digest) -> tuple[str, str | list[str]]:
    to = recipients(session, digest) if cfg.smtp_configured else []
    return ("email", to) if to else ("file", str(cfg.digest_path / digest_filename(digest)))


def send_reminders(engine: Engine, today: date, *, dry_run: bool = False,
                   config: ReminderSettings | None = None) -> list[Outcome]:
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
                shown = ", ".join(dest) if channel == "email" else dest
                outcomes.append(Outcome(digest, "would_email" if channel == "email" else "would_write", shown))
            continue
        try:
            with write_session(engine) as session:
                done = _already(session, digest)
                if done:
                    outcomes.append(Outcome(digest, "already_sent", f"{done.channel} to {done.destination}"))
                    continue
                channel, dest = _plan(session, cfg, digest)
                if channel == "email":
                    _send_mail(cfg, dest, digest)
                    destination = ", ".join(dest)
                else:
                    destination = str(_write_file(cfg, digest))
                session.add(ReminderLog(owner=digest.key, digest_date=today, channel=channel,
                                        destination=destination[:500], items=digest.total))
                append_event(
                    session, actor=REMINDER_ACTOR, action="reminder_sent", record_type="reminder",
                    record_key=digest.key[:80], reason=f"daily reminder digest for {digest.label}",
                    after={"owner": digest.owner, "kind": digest.kind, "digest_date": today, "channel": channel,
                           "destination": destination, "items": digest.total,
                           "counts": {name: len(getattr(digest, name)) for name, _ in SECTIONS},
                           "keys": sorted({i.key for name, _ in SECTIONS for i in getattr(digest, name)})},
                )
                session.flush()
            outcomes.append(Outcome(digest, "emailed" if channel == "email" else "written", destination))
        except ReminderError as e:
            outcomes.append(Outcome(digest, "failed", message=str(e)))
    return outcomes
