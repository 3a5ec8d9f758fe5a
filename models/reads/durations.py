"""How long recommendations spend in each status, computed from the trail.

Time in status is what tells leadership where work stalls: a recommendation "in progress"
for three years reads differently from one that moved last month. Every figure here comes
from status events' effective dates, so it agrees with the "as of" views.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import func, literal
from sqlmodel import Session, col, select

from models.rules.lifecycle import OPEN
from models.store.tables import (
    AuditEvent,
    Obstacle,
    Recommendation,
    RecommendationObstacle,
    UTCDateTime,
    utcnow,
)


def time_in_status(session: Session, key: str, now: datetime | None = None) -> dict[str, timedelta]:
    """Total time one recommendation has spent in each status up to ``now``."""
    now = now or utcnow()
    events = session.exec(
        select(AuditEvent.effective_at, AuditEvent.status_after)
        .where(
            AuditEvent.record_type == "recommendation",
            AuditEvent.record_key == key,
            col(AuditEvent.status_after).is_not(None),
            AuditEvent.effective_at <= now,
        )
        .order_by(col(AuditEvent.effective_at), col(AuditEvent.seq))
    ).all()
    spent: dict[str, timedelta] = defaultdict(timedelta)
    ends: list[tuple[datetime, str | None]] = [*events[1:], (now, None)]
    for (start, status), nxt in zip(events, ends):
        spent[cast(str, status)] += max(nxt[0] - start, timedelta(0))  # the query keeps status events only
    return dict(spent)


def _seconds_between(dialect: str, start, end):
    if dialect == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def time_in_status_by(
    session: Session, group: str, now: datetime | None = None
) -> dict[str, dict[str, float]]:
    """Mean days spent per status, grouped by ``owner``, ``theme`` or ``source`` (primary source).

    Each status event's span runs to the recommendation's next status event (a window function),
    or to ``now``; the sums are taken in SQL.
    """
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    column = {
        "owner": Recommendation.owner,
        "theme": Recommendation.theme,
        "source": Recommendation.primary_source_id,
    }[group]
    nxt = func.lead(AuditEvent.effective_at).over(
        partition_by=AuditEvent.record_key, order_by=(col(AuditEvent.effective_at), col(AuditEvent.seq))
    )
    spans = (
        select(AuditEvent.record_key, AuditEvent.status_after, AuditEvent.effective_at, nxt.label("next_at"))
        .where(
            AuditEvent.record_type == "recommendation",
            col(AuditEvent.status_after).is_not(None),
            AuditEvent.effective_at <= now,
        )
        .subquery()
    )
    end = func.coalesce(spans.c.next_at, literal(now, type_=UTCDateTime()))
    seconds = _seconds_between(dialect, spans.c.effective_at, end)
    rows = session.exec(
        select(column, spans.c.status_after, func.sum(seconds), func.count(func.distinct(spans.c.record_key)))
        .join(Recommendation, col(Recommendation.key) == spans.c.record_key)
        .group_by(column, spans.c.status_after)
    ).all()
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for grp, status, total, n in rows:
        out[grp or "(none)"][status] = round(float(total or 0) / 86400 / n, 1)
    return dict(out)


@dataclass
class StuckItem:
    key: str
    title: str
    status: str
    owner: str
    since: datetime
    days: int
    obstacles: list[str]
    kind: str = ""  # so a reader is told "No status claimed" for a policy, and "(inferred)"
    owner_inferred: bool = False


def open_ages(session: Session, now: datetime | None = None) -> list[float]:
    """Days since each open recommendation was created (by its creation event's effective date)."""
    now = now or utcnow()
    created = (
        select(AuditEvent.record_key, func.min(AuditEvent.effective_at).label("at"))
        .where(AuditEvent.record_type == "recommendation", AuditEvent.action == "create")
        .group_by(AuditEvent.record_key)
        .subquery()
    )
    rows = session.exec(
        select(created.c.at)
        .join(Recommendation, col(Recommendation.key) == created.c.record_key)
        .where(col(Recommendation.status).in_(OPEN))
    ).all()
    return [
        max((now - (at if at.tzinfo else at.replace(tzinfo=now.tzinfo))).total_seconds(), 0) / 86400
        for at in rows
    ]


def median_open_age_days(session: Session, now: datetime | None = None) -> float | None:
    ages = open_ages(session, now)
    return round(statistics.median(ages), 1) if ages else None


def longest_stuck(
    session: Session, limit: int = 10, now: datetime | None = None, owner: str | None = None
) -> list[StuckItem]:
    """Open recommendations whose status has not moved for longest, with what blocks them
    (one owner's when ``owner`` is given)."""
    now = now or utcnow()
    moved = (
        select(AuditEvent.record_key, func.max(AuditEvent.effective_at).label("at"))
        .where(
            AuditEvent.record_type == "recommendation",
            col(AuditEvent.status_after).is_not(None),
            (col(AuditEvent.status_before).is_(None)) | (AuditEvent.status_before != AuditEvent.status_after),
        )
        .group_by(AuditEvent.record_key)
        .subquery()
    )
    q = (
        select(Recommendation, moved.c.at)
        .join(moved, moved.c.record_key == Recommendation.key)
        .where(col(Recommendation.status).in_(OPEN))
    )
    if owner is not None:
        q = q.where(Recommendation.owner == owner)
    rows = session.exec(q.order_by(moved.c.at, Recommendation.key).limit(limit)).all()
    out = []
    for rec, at in rows:
        at = at if at.tzinfo else at.replace(tzinfo=now.tzinfo)
        obstacles = session.exec(
            select(Obstacle.title)
            .join(RecommendationObstacle, col(RecommendationObstacle.obstacle_id) == Obstacle.id)
            .where(
                RecommendationObstacle.recommendation_id == rec.id, RecommendationObstacle.state == "blocking"
            )
            .order_by(Obstacle.title)
        ).all()
        out.append(
            StuckItem(
                rec.key,
                rec.title,
                rec.status,
                rec.owner,
                at,
                int((now - at).days),
                list(obstacles),
                rec.kind,
                rec.owner_inferred,
            )
        )
    return out
