"""Timeline events and recommendation dates on one axis, filtered by country and period."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import and_, func
from sqlmodel import Session, select

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


def timeline_items(
    session: Session, *, start: date, end: date, countries: tuple[str, ...] = ()
) -> list[dict]:
    """Historical events, recommendation creation dates (from the trail) and target dates in a period."""
    out: list[dict] = []
    q = select(
        TimelineEvent.key,
        TimelineEvent.occurred_on,
        TimelineEvent.title,
        TimelineEvent.country,
        TimelineEvent.category,
        TimelineEvent.precision,
    ).where(TimelineEvent.occurred_on.between(start, end))
    if countries:
        q = q.where(TimelineEvent.country.in_(countries))
    for k, d, t, c, cat, p in session.exec(q.order_by(TimelineEvent.occurred_on)).all():
        out.append(
            {
                "key": k,
                "date": d,
                "title": t,
                "country": c,
                "lane": "Historical event",
                "category": cat,
                "precision": p,
            }
        )
    q = (
        select(
            Recommendation.key,
            AuditEvent.effective_at,
            Recommendation.title,
            Recommendation.who_must_act,
            Recommendation.theme,
        )
        .join(
            AuditEvent,
            and_(
                AuditEvent.record_key == Recommendation.key,
                AuditEvent.record_type == "recommendation",
                AuditEvent.action == "create",
            ),
        )
        .where(
            AuditEvent.effective_at >= datetime.combine(start, time(0), tzinfo=UTC),
            AuditEvent.effective_at <= end_of_day(end),
        )
    )
    if countries:
        q = q.where(Recommendation.who_must_act.in_(countries))
    for k, at, t, c, theme in session.exec(q.order_by(AuditEvent.effective_at)).all():
        out.append(
            {
                "key": k,
                "date": at.date(),
                "title": t,
                "country": c,
                "lane": "Recommendation made",
                "category": theme,
                "precision": "day",
            }
        )
    q = select(
        Recommendation.key,
        Recommendation.target_date,
        Recommendation.title,
        Recommendation.who_must_act,
        Recommendation.theme,
    ).where(Recommendation.target_date.is_not(None), Recommendation.target_date.between(start, end))
    if countries:
        q = q.where(Recommendation.who_must_act.in_(countries))
    for k, d, t, c, theme in session.exec(q.order_by(Recommendation.target_date)).all():
        out.append(
            {
                "key": k,
                "date": d,
                "title": t,
                "country": c,
                "lane": "Target date",
                "category": theme,
                "precision": "day",
            }
        )
    return out
