"""The store as it stood at any past moment, rebuilt from the audit trail.

Leadership asks "where did things stand on 1 October?"; auditors ask "what did this record
say when it was closed?". Both are answered from events alone, never from the current rows,
so the answer cannot be changed by a later edit. Status questions use the ``status_before``
and ``status_after`` columns and aggregate in SQL; a single record's full state replays its
own events.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import and_, func
from sqlmodel import Session, select

from models.tables import AuditEvent

STATE_FIELDS = ("status", "owner", "target_date", "progress", "version")


def latest_status_subquery(as_of: datetime):
    """(record_key, status) of every recommendation that existed at ``as_of``."""
    last = (
        select(AuditEvent.record_key, func.max(AuditEvent.seq).label("seq"))
        .where(AuditEvent.record_type == "recommendation", AuditEvent.status_after.is_not(None),
               AuditEvent.effective_at <= as_of)
        .group_by(AuditEvent.record_key)
        .subquery()
    )
    return (
        select(AuditEvent.record_key.label("key"), AuditEvent.status_after.label("status"))
        .join(last, and_(AuditEvent.seq == last.c.seq))
        .subquery()
    )


def status_counts_as_of(session: Session, as_of: datetime) -> dict[str, int]:
    sq = latest_status_subquery(as_of)
    rows = session.exec(select(sq.c.status, func.count()).group_by(sq.c.status)).all()
    return {s: n for s, n in rows}


def statuses_as_of(session: Session, as_of: datetime, keys: list[str] | None = None) -> dict[str, str]:
    sq = latest_status_subquery(as_of)
    q = select(sq.c.key, sq.c.status)
    if keys is not None:
        q = q.where(sq.c.key.in_(keys))
    return {k: s for k, s in session.exec(q).all()}


def recommendation_as_of(session: Session, key: str, as_of: datetime) -> dict | None:
    """The tracked fields of one recommendation at ``as_of``, or None if it did not exist yet."""
    events = session.exec(
        select(AuditEvent).where(AuditEvent.record_type == "recommendation", AuditEvent.record_key == key,
                                 AuditEvent.effective_at <= as_of).order_by(AuditEvent.seq)
    ).all()
    state: dict | None = None
    for e in events:
        after = json.loads(e.after) if e.after else {}
        if e.action == "create":
            state = {f: after.get(f) for f in STATE_FIELDS}
        elif state is not None:
            state.update({k: v for k, v in after.items() if k in STATE_FIELDS})
    return state


def status_flow(session: Session, *, by: str = "year") -> list[tuple[int, int, str, int]]:
    """Net change in the number of recommendations per status, per period (year or month).

    Rows are (year, month, status, delta) with month 0 when grouping by year; a running sum
    over periods gives the count in each status at the end of each period.
    """
    year = func.extract("year", AuditEvent.effective_at)
    month = func.extract("month", AuditEvent.effective_at) if by == "month" else None
    flows: dict[tuple[int, int, str], int] = {}
    for column, sign in ((AuditEvent.status_after, 1), (AuditEvent.status_before, -1)):
        cols = [year, month] if month is not None else [year]
        q = (select(*cols, column, func.count())
             .where(AuditEvent.record_type == "recommendation", column.is_not(None))
             .group_by(*cols, column))
        for row in session.exec(q).all():
            y, m = int(row[0]), int(row[1]) if month is not None else 0
            status, n = row[-2], row[-1]
            flows[(y, m, status)] = flows.get((y, m, status), 0) + sign * n
    return sorted((y, m, s, d) for (y, m, s), d in flows.items() if d)
