"""Timeline events and recommendation dates on one axis, filtered by country and period."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from models.reads.figures import end_of_day
from models.store.tables import (
    AuditEvent,
    Recommendation,
    TimelineEvent,
)


def timeline_countries(session: Session) -> list[str]:
    a = set(session.exec(select(TimelineEvent.country).distinct()).all())
    b = set(session.exec(select(Recommendation.who_must_act).distinct()).all())
    return sorted(a | b)


def timeline_bounds(session: Session) -> tuple[int, int] | None:
    lo, hi = session.exec(
        select(func.min(TimelineEvent.occurred_on), func.max(TimelineEvent.occurred_on))
    ).one()
    tlo, thi = session.exec(
        select(func.min(Recommendation.target_date), func.max(Recommendation.target_date))
    ).one()
    elo, ehi = session.exec(
        select(func.min(AuditEvent.effective_at), func.max(AuditEvent.effective_at)).where(
            AuditEvent.record_type == "recommendation", AuditEvent.action == "create"
        )
    ).one()
    years = [d.year for d in (lo, hi, tlo, thi, elo, ehi) if d is not None]
    return (min(years), max(years)) if years else None


LANES = ("Historical event", "Recommendation made", "Target date")


def _lane_queries(start: date, end: date, countries: tuple[str, ...], cols: dict):
    """The three lanes' queries (historical events, creation dates from the trail, target dates),
    selecting ``cols[lane]`` (a list of columns, or a count), with their date column."""
    ev = select(*cols[LANES[0]]).where(col(TimelineEvent.occurred_on).between(start, end))
    if countries:
        ev = ev.where(col(TimelineEvent.country).in_(countries))
    made = (
        select(*cols[LANES[1]])
        .select_from(Recommendation)
        .join(
            AuditEvent,
            and_(
                col(AuditEvent.record_key) == Recommendation.key,
                col(AuditEvent.record_type) == "recommendation",
                col(AuditEvent.action) == "create",
            ),
        )
        .where(
            AuditEvent.effective_at >= datetime.combine(start, time(0), tzinfo=UTC),
            AuditEvent.effective_at <= end_of_day(end),
        )
    )
    target = select(*cols[LANES[2]]).where(
        col(Recommendation.target_date).is_not(None), col(Recommendation.target_date).between(start, end)
    )
    if countries:
        made = made.where(col(Recommendation.who_must_act).in_(countries))
        target = target.where(col(Recommendation.who_must_act).in_(countries))
    return (
        (ev, TimelineEvent.occurred_on),
        (made, AuditEvent.effective_at),
        (target, Recommendation.target_date),
    )


def timeline_counts(
    session: Session, *, start: date, end: date, countries: tuple[str, ...] = ()
) -> dict[str, int]:
    """How many items each lane has in the period, counted in SQL."""
    cols = {lane: [func.count()] for lane in LANES}
    return {
        lane: session.exec(q).one() for lane, (q, _) in zip(LANES, _lane_queries(start, end, countries, cols))
    }


def timeline_items(
    session: Session,
    *,
    start: date,
    end: date,
    countries: tuple[str, ...] = (),
    limit: int | None = None,
) -> list[dict]:
    """Historical events, recommendation creation dates (from the trail) and target dates in a
    period, in date order; with ``limit``, at most that many per lane (the earliest)."""
    rec_cols = [
        Recommendation.key,
        Recommendation.title,
        Recommendation.who_must_act,
        Recommendation.theme,
    ]
    cols = {
        LANES[0]: [
            TimelineEvent.key,
            TimelineEvent.occurred_on,
            TimelineEvent.title,
            TimelineEvent.country,
            TimelineEvent.category,
            TimelineEvent.precision,
        ],
        LANES[1]: [rec_cols[0], AuditEvent.effective_at, *rec_cols[1:]],
        LANES[2]: [rec_cols[0], Recommendation.target_date, *rec_cols[1:]],
    }
    out: list[dict] = []
    for lane, (q, when) in zip(LANES, _lane_queries(start, end, countries, cols)):
        q = q.order_by(when)
        if limit:
            q = q.limit(limit)
        for row in session.exec(q).all():
            k, d, t, c, cat = row[:5]
            out.append(
                {
                    "key": k,
                    "date": d.date() if isinstance(d, datetime) else d,
                    "title": t,
                    "country": c,
                    "lane": lane,
                    "category": cat,
                    "precision": row[5] if lane == LANES[0] else "day",
                }
            )
    return out
