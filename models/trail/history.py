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
from typing import cast

from sqlalchemy import and_, func
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlmodel import Session, col, select

from models.store.db import select_row
from models.store.tables import AuditEvent

STATE_FIELDS = ("status", "owner", "target_date", "progress", "version")


def latest_status_subquery(as_of: datetime):
    """(record_key, status) of every recommendation that existed at ``as_of``."""
    last = (
        select(AuditEvent.record_key, func.max(AuditEvent.seq).label("seq"))
        .where(
            AuditEvent.record_type == "recommendation",
            col(AuditEvent.status_after).is_not(None),
            AuditEvent.effective_at <= as_of,
        )
        .group_by(AuditEvent.record_key)
        .subquery()
    )
    return (
        select(col(AuditEvent.record_key).label("key"), col(AuditEvent.status_after).label("status"))
        .join(last, and_(col(AuditEvent.seq) == last.c.seq))
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
        select(AuditEvent)
        .where(
            AuditEvent.record_type == "recommendation",
            AuditEvent.record_key == key,
            AuditEvent.effective_at <= as_of,
        )
        .order_by(col(AuditEvent.seq))
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
    return status_flow_until(session, None, by=by)


def status_flow_until(
    session: Session, until: datetime | None = None, *, by: str = "year"
) -> list[tuple[int, int, str, int]]:
    """:func:`status_flow` restricted to events effective at or before ``until`` (all when None),
    so a progress chart drawn "as of" a date ends where the store stood on that date.

    One pass over the trail: each (period, status before, status after) group adds its count to
    the status entered and takes it from the status left. Events that leave the status as it
    was (field updates, closure proposals) change no count, so the database skips them.
    """
    year = func.extract("year", col(AuditEvent.effective_at))
    month = func.extract("month", col(AuditEvent.effective_at)) if by == "month" else None
    cols = [year, month] if month is not None else [year]
    record_type: SQLCoreOperations[str] = col(AuditEvent.record_type)

    if session.get_bind().dialect.name == "sqlite":
        # Nearly every event is a recommendation's, so reading the table straight through beats
        # probing ix_auditevent_record for each row (1.0 s against 0.3 s at 200k events); SQLite's
        # planner picks the index for "record_type = ?" even after ANALYZE, and cannot use it for
        # an expression. (PostgreSQL's planner already scans.)
        record_type = record_type.concat("")
    q = select_row(*cols, AuditEvent.status_before, AuditEvent.status_after, func.count()).where(
        record_type == "recommendation",
        col(AuditEvent.status_before).is_distinct_from(AuditEvent.status_after),
    )
    if until is not None:
        q = q.where(AuditEvent.effective_at <= until)
    flows: dict[tuple[int, int, str], int] = {}
    for row in session.exec(
        q.group_by(*cols, col(AuditEvent.status_before), col(AuditEvent.status_after))
    ).all():
        y, m = int(row[0]), int(row[1]) if month is not None else 0
        before, after, n = row[-3], row[-2], row[-1]
        if after is not None:
            flows[(y, m, after)] = flows.get((y, m, after), 0) + n
        if before is not None:
            flows[(y, m, before)] = flows.get((y, m, before), 0) - n
    return sorted((y, m, s, d) for (y, m, s), d in flows.items() if d)


def fields_as_of(
    session: Session, as_of: datetime, fields: tuple[str, ...] = ("owner", "target_date")
) -> dict[str, dict]:
    """``{key: {field: value}}`` for editable fields as they stood at ``as_of``, replayed from the
    events that set them (creations carry every field; updates carry what changed). Only events
    whose stored JSON names one of the fields are read."""
    needles = [col(AuditEvent.after).contains(f'"{f}":') for f in fields]
    from sqlalchemy import or_

    rows = session.exec(
        select(AuditEvent.record_key, AuditEvent.after)
        .where(AuditEvent.record_type == "recommendation", AuditEvent.effective_at <= as_of, or_(*needles))
        .order_by(col(AuditEvent.seq))
    )
    out: dict[str, dict] = {}
    for key, after in rows:
        values = json.loads(cast(str, after))  # the query keeps events whose JSON names a field
        state = out.setdefault(key, {})
        for f in fields:
            if f in values:
                state[f] = values[f]
    return out


#: the trail's actions on a recommendation's obstacles; each event's ``before`` names the obstacle
#: and its state for that recommendation before the change (None: not linked)
LINK_ACTIONS = ("obstacle_linked", "obstacle_unlinked", "obstacle_resolved")


def obstacle_links_as_of(session: Session, as_of: datetime, keys: list[str] | None = None) -> dict[str, dict]:
    """``{recommendation key: {obstacle key: state}}`` as the links stood at ``as_of``.

    Catalog links carry no event of their own (the catalog load is one ``seed`` event), so the
    answer starts from today's links and undoes, newest first, every link, unlink and resolution
    effective after ``as_of``: the cost is the events since that date, not the store's history."""
    from models.store.tables import Obstacle, Recommendation, RecommendationObstacle

    q = (
        select(Recommendation.key, Obstacle.key, RecommendationObstacle.state)
        .join(RecommendationObstacle, col(RecommendationObstacle.recommendation_id) == Recommendation.id)
        .join(Obstacle, col(Obstacle.id) == RecommendationObstacle.obstacle_id)
    )
    later = select(AuditEvent.record_key, AuditEvent.before).where(
        AuditEvent.record_type == "recommendation",
        col(AuditEvent.action).in_(LINK_ACTIONS),
        AuditEvent.effective_at > as_of,
    )
    if keys is not None:
        q = q.where(col(Recommendation.key).in_(keys))
        later = later.where(col(AuditEvent.record_key).in_(keys))
    out: dict[str, dict] = {}
    for rk, ok, state in session.exec(q):
        out.setdefault(rk, {})[ok] = state
    for rk, before in session.exec(later.order_by(col(AuditEvent.seq).desc())):
        b = json.loads(before) if before else {}
        if "obstacle" not in b:
            continue
        links = out.setdefault(rk, {})
        if b.get("obstacle_state") is None:
            links.pop(b["obstacle"], None)
        else:
            links[b["obstacle"]] = b["obstacle_state"]
    return {k: v for k, v in out.items() if v}
