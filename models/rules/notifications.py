"""Watching and notifications: who hears of a change, decided in the change's own transaction.

:func:`fan_out` runs after every event :func:`models.trail.chain.append_event` writes (the chain
calls the hooks in ``AFTER_APPEND``; it may not import this package, so this module registers
itself there, and ``models/rules/__init__`` imports it, so no write path can miss it). For an event
on a recommendation, an evidence item or an obstacle it inserts one :class:`Notification` per
person who watches the recommendation, its owner office (before and after a change of owner) or
the obstacle, or who belongs to that office and has not opted out, never the person who made the
change, never a disabled account. It is one ``INSERT ... SELECT`` through the watch index, so a
change costs one statement whatever the number of watchers; a change nobody watches inserts
nothing. A change that rolls back takes its notifications with it.

What a user does here is personal and changes no record: watching, unwatching, marking read and
choosing how mail comes are not trail events (the trail would otherwise fill with read receipts),
and they need only the right to read. Mail goes out after commit, from ``rectrack notify send``
(:mod:`models.workflow.notify`), which marks what it mailed here.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import cast

from sqlalchemy import Integer, and_, bindparam, case, func, insert, or_, union, update
from sqlmodel import Session, col, select

from models.rules.permissions import require
from models.rules.users import SYSTEM_USERNAME
from models.store.errors import InvalidInput, NotFound
from models.store.tables import (
    AuditEvent,
    Notification,
    NotificationPreference,
    Obstacle,
    Recommendation,
    User,
    UTCDateTime,
    Watch,
    utcnow,
)
from models.trail.chain import AFTER_APPEND

WATCH_KINDS = ("recommendation", "office", "obstacle")
MAIL_MODES = ("immediate", "digest", "off")
#: the kinds of record whose events reach watchers; the rest (sign-ins, exports, accounts, reminders)
#: change nothing anyone watches
WATCHED_RECORDS = ("recommendation", "evidence", "obstacle")


def _targets(e: AuditEvent) -> tuple[list[str], list[str], list[str]]:
    """(recommendation keys, obstacle keys, offices named by a change of owner) the event touches."""
    after = json.loads(e.after) if e.after else {}
    before = json.loads(e.before) if e.before else {}
    if e.record_type == "recommendation":
        recs = [e.record_key]
    elif e.record_type == "evidence":
        recs = [k for k in after.get("recommendations") or [] if isinstance(k, str)]
    else:
        recs = []
    obstacles = {v for v in (after.get("obstacle"), before.get("obstacle")) if isinstance(v, str) and v}
    if e.record_type == "obstacle":
        obstacles.add(e.record_key)
    offices = {v for v in (after.get("owner"), before.get("owner")) if isinstance(v, str) and v}
    return recs, sorted(obstacles), sorted(offices)


def _fan_out_statement():
    """The one ``INSERT ... SELECT``, built once with bound lists (building it per event cost more
    than running it): the people watching the records, their offices or the obstacles, and the
    offices' members who did not opt out; not the actor, not a disabled account."""
    recs, obstacles, offices = (bindparam(n, expanding=True) for n in ("recs", "obstacles", "offices"))
    owners = select(Recommendation.owner).where(col(Recommendation.key).in_(recs))

    def office_of(col):
        return or_(col.in_(owners), col.in_(offices))

    watched = or_(
        and_(Watch.kind == "recommendation", col(Watch.target).in_(recs)),
        and_(Watch.kind == "office", office_of(Watch.target)),
        and_(Watch.kind == "obstacle", col(Watch.target).in_(obstacles)),
    )
    pref = NotificationPreference
    by_office = (
        select(User.id)
        .outerjoin(pref, pref.user_id == User.id)
        .where(office_of(User.office), func.coalesce(pref.own_office, True))
    )
    mail = case(
        (
            and_(
                col(User.email).is_not(None), User.email != "", func.coalesce(pref.mode, "immediate") != "off"
            ),
            "pending",
        ),
        else_="none",
    )
    pick = (
        select(User.id, bindparam("seq", type_=Integer()), bindparam("at", type_=UTCDateTime()), mail)
        .outerjoin(pref, pref.user_id == User.id)
        .where(
            col(User.id).in_(union(select(Watch.user_id).where(watched), by_office)),
            User.disabled == False,  # noqa: E712
            User.username != bindparam("actor"),
        )
    )
    return insert(Notification).from_select(["user_id", "event_seq", "created_at", "mail"], pick)


_FAN_OUT = _fan_out_statement()


def fan_out(session: Session, e: AuditEvent) -> None:
    """Insert the event's notifications (see the module docstring for who gets one)."""
    if e.record_type not in WATCHED_RECORDS or e.actor == SYSTEM_USERNAME:
        return  # the catalog loader's records are provenance, not a colleague's change
    recs, obstacles, offices = _targets(e)
    if not recs and not obstacles:
        return
    session.connection().execute(
        _FAN_OUT,
        {
            "recs": recs,
            "obstacles": obstacles,
            "offices": offices,
            "seq": e.seq,
            "at": e.recorded_at,
            "actor": e.actor,
        },
    )


if fan_out not in AFTER_APPEND:
    AFTER_APPEND.append(fan_out)


def _check_target(session: Session, kind: str, target: str) -> str:
    target = (target or "").strip()
    if kind not in WATCH_KINDS:
        raise InvalidInput(f"watch kind {kind!r}: use recommendation, office or obstacle")
    if kind == "recommendation":
        if not session.exec(select(Recommendation.id).where(Recommendation.key == target)).first():
            raise NotFound(f"no recommendation with key {target!r}; `rectrack list` shows the keys")
    elif kind == "obstacle":
        if not session.exec(select(Obstacle.id).where(Obstacle.key == target)).first():
            raise NotFound(f"no obstacle with key {target!r}; `rectrack obstacle list` shows the keys")
    else:
        known = session.exec(select(Recommendation.id).where(Recommendation.owner == target).limit(1)).first()
        if not known and not session.exec(select(User.id).where(User.office == target).limit(1)).first():
            raise NotFound(f"no recommendation is owned by {target!r} and no account is in that office")
    return target


def watch(session: Session, *, user: User, kind: str, target: str) -> bool:
    """Start watching; False when the user already watched it."""
    require(user, "read")
    target = _check_target(session, kind, target)
    if session.get(Watch, (user.id, kind, target)):
        return False
    session.add(Watch(user_id=cast(int, user.id), kind=kind, target=target))
    session.flush()
    return True


def unwatch(session: Session, *, user: User, kind: str, target: str) -> bool:
    """Stop watching; False when the user was not watching it."""
    require(user, "read")
    row = session.get(Watch, (user.id, kind, (target or "").strip()))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def mark_read(
    session: Session, *, user: User, ids: list[int] | None = None, now: datetime | None = None
) -> int:
    """Mark the user's own notifications read (``ids``, or all unread); how many changed."""
    require(user, "read")
    q = update(Notification).where(col(Notification.user_id) == user.id, col(Notification.read_at).is_(None))
    if ids is not None:
        q = q.where(col(Notification.id).in_(ids))
    result = session.connection().execute(q.values(read_at=now or utcnow()))
    return result.rowcount or 0


def preferences(session: Session, user: User) -> NotificationPreference:
    """The user's preference row (not yet stored when it holds the defaults)."""
    return session.get(NotificationPreference, user.id) or NotificationPreference(user_id=cast(int, user.id))


def set_preferences(
    session: Session, *, user: User, mode: str | None = None, own_office: bool | None = None
) -> NotificationPreference:
    require(user, "read")
    if mode is not None and mode not in MAIL_MODES:
        raise InvalidInput(f"mail mode {mode!r}: use immediate, digest or off")
    pref = preferences(session, user)
    if mode is not None:
        pref.mode = mode
    if own_office is not None:
        pref.own_office = own_office
    session.add(pref)
    session.flush()
    return pref


def mark_mailed(session: Session, ids: list[int], *, now: datetime, digest_day: date | None = None) -> None:
    """Record that these notifications went out by mail (and, for a digest, that today's is sent),
    in the transaction that sent them, so a later run does not send them again."""
    if not ids:
        return
    owners = session.exec(select(Notification.user_id).where(col(Notification.id).in_(ids)).distinct()).all()
    session.connection().execute(
        update(Notification).where(col(Notification.id).in_(ids)).values(mail="sent", mailed_at=now)
    )
    if digest_day is not None:
        for uid in owners:
            pref = session.get(NotificationPreference, uid) or NotificationPreference(user_id=uid)
            pref.digest_sent_on = digest_day
            session.add(pref)
    session.flush()
