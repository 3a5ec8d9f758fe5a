"""A user's notifications and watches, read one page at a time, and each event told in a line.

Notifications are written by :mod:`models.rules.notifications`; these reads join each to its
event for what changed, who changed it and when. Every query goes through the notification
indexes (user and event, user and read mark, mail state), so a page, the sidebar's unread count
and the mail run cost the same on a store of a million events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.store.db import select_row
from models.store.tables import AuditEvent, Notification, NotificationPreference, User, Watch


def _user_id(session: Session, username: str) -> int | None:
    return session.exec(select(User.id).where(User.username == username)).first()


def unread_count(session: Session, username: str) -> int:
    uid = _user_id(session, username)
    if uid is None:
        return 0
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == uid, col(Notification.read_at).is_(None))
    ).one()


def _shown(v) -> str:
    if v is None or v == "":
        return "none"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def _changes(before: dict, after: dict, skip=("version", "step", "step_version", "evidence")) -> str:
    parts = [
        f"{k.replace('_', ' ')}: {_shown(before.get(k))} → {_shown(v)}"
        for k, v in after.items()
        if k not in skip and before.get(k) != v
    ]
    return "; ".join(parts)


def describe(
    action: str, status_before: str | None, status_after: str | None, before: dict, after: dict
) -> str:
    """What an event changed, in a line of plain text (shown as text, never as markup)."""
    st = lambda s: (s or "none").replace("_", " ")  # noqa: E731
    ob = after.get("obstacle_title") or before.get("obstacle_title") or after.get("obstacle")
    simple = {
        "status_change": f"status {st(status_before)} → {st(status_after)}",
        "reopen": f"reopened: {st(status_before)} → {st(status_after)}",
        "priority_change": "put on the priority list"
        if after.get("priority")
        else "taken off the priority list",
        "create": f"created, owned by {after.get('owner')}",
        "closure_proposed": f"closure as {st(after.get('closure_target'))} proposed",
        "closure_accepted": f"closure accepted: now {st(status_after)}",
        "closure_returned": "closure returned: it stays open",
        "evidence_add": f"evidence “{after.get('title')}” attached",
        "evidence_supersede": f"evidence “{after.get('title')}” replaces {after.get('supersedes')}",
        "obstacle_created": f"obstacle “{after.get('title')}” recorded",
        "obstacle_linked": f"obstacle “{ob}” linked",
        "obstacle_unlinked": f"obstacle “{ob}” unlinked",
        "obstacle_resolved": f"obstacle “{ob}” marked {st(after.get('obstacle_state'))}",
        "step_added": f"step {after.get('step')} “{after.get('title')}” added",
        "handover": f"handed over to {after.get('responsible')}"
        + (f" (was {before.get('responsible')})" if before.get("responsible") else ""),
        "progress_from_steps": "progress handed back to the action plan's steps",
    }
    if action in simple:
        return simple[action]
    detail = _changes(before, after)
    if action == "step_changed":
        return f"step {after.get('step')} changed" + (f": {detail}" if detail else "")
    return detail or action.replace("_", " ")


def record_link(record_type: str, record_key: str, after: dict) -> str | None:
    """The recommendation a notification opens (an evidence item opens the first it supports)."""
    if record_type == "recommendation":
        return record_key
    if record_type == "evidence":
        recs = after.get("recommendations") or []
        return recs[0] if recs else None
    return None


@dataclass
class NotificationRow:
    id: int
    seq: int
    at: datetime
    actor: str
    action: str
    record_type: str
    record_key: str
    what: str
    reason: str
    rec: str | None  # the recommendation to open, if any
    read: bool


def _rows(results) -> list[NotificationRow]:
    out = []
    for nid, read_at, e in results:
        before, after = json.loads(e.before or "{}"), json.loads(e.after or "{}")
        out.append(
            NotificationRow(
                id=nid,
                seq=e.seq,
                at=e.recorded_at,
                actor=e.actor,
                action=e.action,
                record_type=e.record_type,
                record_key=e.record_key,
                what=describe(e.action, e.status_before, e.status_after, before, after),
                reason=e.reason,
                rec=record_link(e.record_type, e.record_key, after),
                read=read_at is not None,
            )
        )
    return out


def notifications_page(
    session: Session, username: str, *, offset: int = 0, limit: int = 25, unread_only: bool = False
) -> dict:
    """One page of the user's notifications, newest first, with the total and the unread count."""
    uid = _user_id(session, username)
    if uid is None:
        return {"total": 0, "unread": 0, "rows": []}
    where = [col(Notification.user_id) == uid]
    if unread_only:
        where.append(col(Notification.read_at).is_(None))
    total = session.exec(select(func.count()).select_from(Notification).where(*where)).one()
    q = (
        select(Notification.id, Notification.read_at, AuditEvent)
        .join(AuditEvent, col(AuditEvent.seq) == Notification.event_seq)
        .where(*where)
        .order_by(col(Notification.event_seq).desc())
        .offset(offset)
        .limit(limit)
    )
    return {"total": total, "unread": unread_count(session, username), "rows": _rows(session.exec(q).all())}


def watches_of(session: Session, username: str) -> list[tuple[str, str]]:
    """(kind, target) of everything the user watches, by kind then target."""
    uid = _user_id(session, username)
    rows = session.exec(select(Watch.kind, Watch.target).where(Watch.user_id == uid)).all()
    return sorted((k, t) for k, t in rows)


def is_watching(session: Session, username: str, kind: str, target: str) -> bool:
    uid = _user_id(session, username)
    return uid is not None and session.get(Watch, (uid, kind, target)) is not None


def mail_preference(session: Session, username: str) -> dict:
    """The user's mail mode and own-office setting (the defaults when none was chosen)."""
    user = session.exec(select(User).where(User.username == username)).first()
    pref = session.get(NotificationPreference, user.id) if user else None
    return {
        "mode": pref.mode if pref else "immediate",
        "own_office": pref.own_office if pref else True,
        "office": user.office if user else None,
        "email": user.email if user else None,
    }


def pending_mail(session: Session) -> list[tuple[User, str, list[NotificationRow]]]:
    """(user, mode, their notifications not yet mailed, oldest first) for every user with some."""
    pref = NotificationPreference
    q = (
        select_row(
            User, func.coalesce(pref.mode, "immediate"), Notification.id, Notification.read_at, AuditEvent
        )
        .join(Notification, col(Notification.user_id) == User.id)
        .join(AuditEvent, col(AuditEvent.seq) == Notification.event_seq)
        .outerjoin(pref, col(pref.user_id) == User.id)
        .where(Notification.mail == "pending")
        .order_by(col(User.id), col(Notification.event_seq))
    )
    grouped: dict[int, tuple[User, str, list]] = {}
    for user, mode, nid, read_at, e in session.exec(q).all():
        grouped.setdefault(user.id, (user, mode, []))[2].append((nid, read_at, e))
    return [(u, mode, _rows(items)) for u, mode, items in grouped.values()]


def digest_sent_on(session: Session, user_id: int | None):
    pref = session.get(NotificationPreference, user_id)
    return pref.digest_sent_on if pref else None
