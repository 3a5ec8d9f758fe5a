"""Leadership's priority marks from ``seeds/priority.yaml``, set once by the loader: a separate step
of seeding because, unlike the records, a mark may later be cleared by a person and must then stay
cleared."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.catalog.checks import Catalog
from models.rules.recommendations import update_recommendation
from models.rules.records import get_recommendation
from models.store.schemas import RecommendationUpdate
from models.store.tables import AuditEvent, User


def at_day(d: date) -> datetime:
    """The start of a day the catalog dates a fact to (UTC)."""
    return datetime.combine(d, time(0, 0), tzinfo=UTC)


def mark_priority(
    session: Session, catalog: Catalog, actor: User, published: dict[str, date], added: Counter
) -> None:
    """Mark ``seeds/priority.yaml``'s items priority, once: an item whose flag was ever set or cleared
    (by the catalog or a person) is left as it is, so a user's decision is never overwritten.
    Dated to the cited source's publication, like the other facts the catalog reports, or to the
    record's latest event when that is later: the event carries the record's status, and an event
    dated before an earlier-written status move would rewrite the "as of" status in between."""
    for key, p in sorted(catalog.priority.items()):
        touched = session.exec(
            select(AuditEvent.seq)
            .where(
                AuditEvent.record_type == "recommendation",
                AuditEvent.record_key == key,
                col(AuditEvent.after).contains('"priority":'),
            )
            .limit(1)
        ).first()
        rec = get_recommendation(session, key)
        if touched or rec.priority:
            continue
        c = p.citation
        latest = session.exec(
            select(func.max(AuditEvent.effective_at)).where(
                AuditEvent.record_type == "recommendation", AuditEvent.record_key == key
            )
        ).one()
        when = at_day(published[c.source])
        if latest is not None:
            latest = latest if latest.tzinfo else latest.replace(tzinfo=UTC)
            when = max(when, latest)
        fields: dict[str, Any] = {"priority": True}
        if p.close_plan and not rec.close_plan:
            fields["close_plan"] = p.close_plan
        update_recommendation(
            session,
            key=key,
            actor=actor,
            effective_at=when,
            change=RecommendationUpdate(
                expected_version=rec.version,
                **fields,
                reason=f"priority: {p.reason} ({c.source}, {c.section}, lines {c.lines})"[:4000],
            ),
        )
        added["priority marks"] += 1
