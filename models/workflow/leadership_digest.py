"""Leadership's weekly digest: the headline items, what changed since the last digest, what became
overdue, with the briefing PDF attached. ``rectrack leadership-digest`` sends it, once per ISO week.

Recorded like the owners' daily digests (:mod:`models.workflow.reminders`): a
:class:`models.store.tables.ReminderLog` row keyed ``leadership`` and dated to the Monday of the week
(unique, so a second run that week sends nothing) and a ``reminder_sent`` event, written in the write
transaction that holds the app-wide lock while the message goes out; a failed delivery rolls back and
is retried by the next run. The event carries the PDF's SHA-256, so the attachment can be matched
to its record. "Since the last digest" is the day the previous one was sent (a week back for the first).

It goes by e-mail to enabled viewers (leadership) with an address when SMTP is configured, otherwise
as a text file and the PDF under ``RECTRACK_DIGEST_DIR``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.reads.briefing import BriefingRequest, briefing_content
from models.reads.changes import changes_between, end_of_day, start_of_day
from models.reads.headline import headline
from models.rules.trail_events import REMINDER_ACTOR, record_digest_sent
from models.store.db import read_session, write_session
from models.store.tables import ReminderLog, User
from models.store.vocabulary import STATUS_LABELS
from models.workflow.briefing import build_pdf
from models.workflow.mail import MailError, build_message, link, send
from models.workflow.reminders import ReminderError, ReminderSettings

KEY = "leadership"
LABEL = "leadership (weekly)"
CHANGES_IN_TEXT = 25


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass
class LeadershipOutcome:
    result: str  # emailed | written | already_sent | would_email | would_write | failed
    week: date
    destination: str = ""
    message: str = ""

    def line(self) -> str:
        return {
            "emailed": f"leadership digest for the week of {self.week}: e-mailed to {self.destination}",
            "written": f"leadership digest for the week of {self.week}: written to {self.destination}",
            "already_sent": f"leadership digest for the week of {self.week}: already sent ({self.destination}); "
            "not sent again",
            "would_email": f"leadership digest for the week of {self.week}: would e-mail {self.destination} (dry run)",
            "would_write": f"leadership digest for the week of {self.week}: would write {self.destination} (dry run)",
            "failed": f"leadership digest for the week of {self.week}: not sent: {self.message}",
        }[self.result]


def recipients(session: Session) -> list[str]:
    rows = session.exec(
        select(User.email).where(
            User.role == "viewer",
            User.disabled == False,  # noqa: E712
            col(User.email).is_not(None),
        )
    ).all()
    return sorted({e.strip() for e in rows if e and e.strip()})


def _last_sent(session: Session, before: date) -> date | None:
    row = session.exec(
        select(ReminderLog.sent_at)
        .where(ReminderLog.owner == KEY, ReminderLog.digest_date < before)
        .order_by(col(ReminderLog.digest_date).desc())
    ).first()
    return row.date() if row else None


def render_text(session: Session, today: date, since: date, cfg: ReminderSettings) -> tuple[str, dict]:
    """The body and the counts the trail keeps."""
    panel = headline(session, end_of_day(today) if today < date.today() else None)
    moved = changes_between(session, start_of_day(since), end_of_day(today), limit=CHANGES_IN_TEXT)
    lines = [
        f"Recommendation Tracker: leadership summary for the week of {week_start(today)}",
        "",
        f"Priority recommendations ({len(panel['items'])})",
    ]
    for i in panel["items"]:
        status = STATUS_LABELS.get(i["status"], i["status"])
        flags = (" [open five years or more]" if i["long_open"] else "") + (
            " [overdue]" if i["overdue"] else ""
        )
        lines.append(
            f"  - {i['title']} ({i['key']}): {status}, {i['days_in_status']:,} days in status{flags}"
        )
        if i["obstacles"]:
            lines.append(f"    blocked by: {'; '.join(o['title'] for o in i['obstacles'])}")
        lines.append(f"    to close: {i['close_plan'] or 'not stated yet'}")
        lines.append(f"    {link(cfg, 'recommendations', rec=i['key'])}")
    lines += ["", f"What changed since {since} ({moved.total} event(s))"]
    lines += [f"  - {c.line()}" for c in moved.items if c.kind != "became_overdue"] or ["  nothing moved"]
    overdue = [c for c in moved.items if c.kind == "became_overdue"]
    lines += ["", f"Became overdue since {since} ({len(overdue)})"]
    lines += [f"  - {c.key}: {c.title} ({c.detail})" for c in overdue] or ["  none"]
    if moved.truncated:
        lines.append(f"  ... more in the Overview, or: rectrack changes --since {since}")
    lines += ["", "The briefing (PDF) is attached.", f"Open the Overview: {link(cfg, 'overview')}"]
    counts = {"priority": len(panel["items"]), "changes": moved.total, "became_overdue": len(overdue)}
    return "\n".join(lines) + "\n", counts


def send_leadership_digest(
    engine: Engine, today: date, *, dry_run: bool = False, config: ReminderSettings | None = None
) -> LeadershipOutcome:
    cfg = config or ReminderSettings()
    week = week_start(today)
    with read_session(engine) as session:
        done = session.exec(
            select(ReminderLog).where(ReminderLog.owner == KEY, ReminderLog.digest_date == week)
        ).first()
        if done:
            return LeadershipOutcome("already_sent", week, f"{done.channel} to {done.destination}")
        to = recipients(session) if cfg.smtp_configured else []
        folder = cfg.digest_path
        stem = f"{week.isoformat()}_leadership"
        if dry_run:
            return (
                LeadershipOutcome("would_email", week, ", ".join(to))
                if to
                else LeadershipOutcome("would_write", week, str(folder / f"{stem}.txt"))
            )
        since = _last_sent(session, week) or today - timedelta(days=7)
        text, counts = render_text(session, today, since, cfg)
        request = BriefingRequest(as_of_day=today, since_day=min(since, today), scope="priority")
        content = briefing_content(session, request)
    pdf = build_pdf(content, producer="the weekly leadership digest")
    pdf_name = f"briefing-{today.isoformat()}.pdf"
    try:
        with write_session(engine) as session:
            if session.exec(
                select(ReminderLog).where(ReminderLog.owner == KEY, ReminderLog.digest_date == week)
            ).first():
                return LeadershipOutcome("already_sent", week, "by another run")
            if to:
                msg = build_message(
                    cfg,
                    to=to,
                    subject=f"Recommendation Tracker: leadership summary, week of {week}",
                    text=text,
                    attachments=[(pdf_name, "application/pdf", pdf.pdf)],
                )
                try:
                    send(cfg, msg, to)
                except MailError as e:
                    raise ReminderError(f"could not e-mail it through {e.where}: {e.reason}") from e
                channel, destination = "email", ", ".join(to)
            else:
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / f"{stem}.pdf").write_bytes(pdf.pdf)
                    (folder / f"{stem}.txt").write_text(text, encoding="utf-8")
                except OSError as e:
                    raise ReminderError(f"could not write to {folder}: {e.strerror or e}") from e
                channel, destination = "file", str(folder / f"{stem}.txt")
            record_digest_sent(
                session,
                key=KEY,
                label=LABEL,
                digest_date=week,
                channel=channel,
                destination=destination,
                items=counts["priority"] + counts["changes"],
                period="weekly",
                details={
                    "kind": "leadership",
                    "since": since.isoformat(),
                    "counts": counts,
                    "attachment": {"name": pdf_name, "sha256": pdf.sha256, "pages": pdf.pages},
                },
            )
    except ReminderError as e:
        return LeadershipOutcome(
            "failed", week, message=f"{e}; nothing was recorded, so the next run tries again"
        )
    return LeadershipOutcome("emailed" if channel == "email" else "written", week, destination)


__all__ = ["send_leadership_digest", "week_start", "LeadershipOutcome", "REMINDER_ACTOR"]
