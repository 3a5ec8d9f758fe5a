"""Notifications by e-mail, sent after the change has committed: ``rectrack notify send``.

A change only writes notification rows (:mod:`models.rules.notifications`), so a mail server that
is down or slow can never fail or hold up a save. This run, from cron every few minutes, mails
what is pending: to a user who chose ``immediate``, everything not yet mailed in one message per
run; to a user who chose ``digest``, everything not yet mailed in one message, at the first run of
each UTC day, and not again that day. Users without an address, or who turned mail ``off``, keep
their notifications in the app only.

Each user's message is sent inside a write transaction that then marks those notifications
``sent`` (and the day's digest done), as :mod:`models.workflow.reminders` does: two runs at once
queue on the write lock and the second finds nothing pending. A delivery that fails rolls back, so
the next run tries again; a crash between the server's acceptance and the commit could send one
message twice, never lose one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy.engine import Engine
from sqlmodel import select

from models.reads.notifications import NotificationRow, digest_sent_on, pending_mail
from models.rules.notifications import mark_mailed
from models.store.db import read_session, write_session
from models.store.tables import Notification, User, utcnow
from models.workflow.mail import MailError, MailSettings, build_message, link, send

NOTIFICATIONS_PAGE, RECORD_PAGE = "notifications", "recommendations"  # URL paths (dashboard/app.py)


def _one_line(text: str, limit: int = 150) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def subject(rows: list[NotificationRow], mode: str, day) -> str:
    if mode == "digest":
        return f"Recommendation Tracker: daily digest for {day.isoformat()}, {_count(len(rows))}"
    if len(rows) == 1:
        r = rows[0]
        return _one_line(f"Recommendation Tracker: {r.record_key}: {r.what} (by {r.actor})")
    return f"Recommendation Tracker: {_count(len(rows))} to what you watch"


def _count(n: int) -> str:
    return f"{n} change{'' if n == 1 else 's'}"


def render_text(cfg: MailSettings, user: User, rows: list[NotificationRow], mode: str, day) -> str:
    """The message: each change with who, when, why and the link that opens its record."""
    head = (
        f"Changes to what you watch since your last digest ({_count(len(rows))}), {day.isoformat()}:"
        if mode == "digest"
        else f"Changes to what you watch ({_count(len(rows))}):"
    )
    lines = [f"Hello {user.display_name or user.username},", "", head, ""]
    for r in rows:
        lines.append(
            f"- {r.at:%Y-%m-%d %H:%M} UTC · {r.record_key} · {_one_line(r.what, 300)} · by {r.actor}"
        )
        if r.reason:
            lines.append(f"  Reason: {_one_line(r.reason, 300)}")
        if r.rec:
            lines.append(f"  {link(cfg, RECORD_PAGE, rec=r.rec)}")
    lines += [
        "",
        f"Read them and mark them read on the Notifications page: {link(cfg, NOTIFICATIONS_PAGE)}",
        "Choose immediate mail, a daily digest or no mail there, or with `rectrack notify prefs`.",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class Mailed:
    username: str
    mode: str
    result: str  # emailed | digest_done_today | no_address | mail_off | failed
    count: int = 0
    destination: str = ""
    message: str = ""

    def line(self) -> str:
        return {
            "emailed": f"{self.username}: e-mailed {_count(self.count)} ({self.mode}) to {self.destination}",
            "digest_done_today": f"{self.username}: today's digest already went out; "
            f"{_count(self.count)} wait for tomorrow's",
            "no_address": f"{self.username}: {_count(self.count)} in the app only (no e-mail address)",
            "mail_off": f"{self.username}: {_count(self.count)} in the app only (mail turned off)",
            "failed": f"{self.username}: not sent: {self.message}",
        }[self.result]


def send_notifications(
    engine: Engine, *, now: datetime | None = None, config: MailSettings | None = None
) -> list[Mailed]:
    """Mail every pending notification as the module docstring says; one outcome per user."""
    cfg = config or MailSettings()
    now = now or utcnow()
    day = now.date()
    with read_session(engine) as session:
        todo = pending_mail(session)
    out: list[Mailed] = []
    for user, mode, rows in todo:
        if mode == "off":
            out.append(Mailed(user.username, mode, "mail_off", len(rows)))
            continue
        if not (user.email or "").strip() or user.disabled:
            out.append(Mailed(user.username, mode, "no_address", len(rows)))
            continue
        email = cast(str, user.email)  # checked just above
        try:
            with write_session(engine) as session:
                if mode == "digest" and digest_sent_on(session, user.id) == day:
                    out.append(Mailed(user.username, mode, "digest_done_today", len(rows)))
                    continue
                still = set(
                    session.exec(
                        select(Notification.id).where(
                            Notification.user_id == user.id, Notification.mail == "pending"
                        )
                    ).all()
                )
                rows = [r for r in rows if r.id in still]  # another run may have sent some meanwhile
                if not rows:
                    continue
                msg = build_message(
                    cfg,
                    to=[email],
                    subject=subject(rows, mode, day),
                    text=render_text(cfg, user, rows, mode, day),
                )
                send(cfg, msg, [email])
                mark_mailed(
                    session, [r.id for r in rows], now=now, digest_day=day if mode == "digest" else None
                )
            out.append(Mailed(user.username, mode, "emailed", len(rows), email))

        except MailError as e:
            out.append(
                Mailed(
                    user.username,
                    mode,
                    "failed",
                    len(rows),
                    message=f"{e}; nothing was marked sent, so the next run tries again",
                )
            )
    return out
