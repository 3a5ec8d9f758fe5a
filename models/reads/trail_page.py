"""The evidence trail page: the event log filtered and paginated in SQL, and its facets."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.reads.figures import end_of_day
from models.store.tables import (
    AuditEvent,
)


def trail_facets(session: Session) -> dict:
    return {
        "actors": list(session.exec(select(AuditEvent.actor).distinct().order_by(AuditEvent.actor)).all()),
        "actions": list(session.exec(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()),
        "record_types": list(
            session.exec(select(AuditEvent.record_type).distinct().order_by(AuditEvent.record_type)).all()
        ),
    }


def _trail_filters(q, *, record, record_type, actor, action, start, end):
    if record:
        q = q.where(func.lower(AuditEvent.record_key).like(f"%{record.lower()}%"))
    if record_type:
        q = q.where(AuditEvent.record_type == record_type)
    if actor:
        q = q.where(AuditEvent.actor == actor)
    if action:
        q = q.where(AuditEvent.action == action)
    if start:
        q = q.where(AuditEvent.effective_at >= datetime.combine(start, time(0), tzinfo=UTC))
    if end:
        q = q.where(AuditEvent.effective_at <= end_of_day(end))
    return q


def trail_page(
    session: Session,
    *,
    record: str | None = None,
    record_type: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    start: date | None = None,
    end: date | None = None,
    offset: int = 0,
    limit: int = 50,
) -> dict:
    """One page of the audit trail (newest first) and the number of matching events."""
    kw = dict(record=record, record_type=record_type, actor=actor, action=action, start=start, end=end)
    total = session.exec(_trail_filters(select(func.count()).select_from(AuditEvent), **kw)).one()
    rows = session.exec(
        _trail_filters(select(AuditEvent), **kw)
        .order_by(col(AuditEvent.seq).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return {
        "total": total,
        "rows": [
            {
                "seq": e.seq,
                "recorded_at": e.recorded_at,
                "effective_at": e.effective_at,
                "actor": e.actor,
                "action": e.action,
                "record_type": e.record_type,
                "record_key": e.record_key,
                "status_before": e.status_before,
                "status_after": e.status_after,
                "reason": e.reason,
                "before": e.before,
                "after": e.after,
                "hash": e.hash,
            }
            for e in rows
        ],
    }


def trail_head(session: Session) -> int:
    return session.exec(select(func.coalesce(func.max(AuditEvent.seq), 0))).one()


# events that change no record a page lists or counts: sign-ins, account changes, exports
ACCOUNT_RECORD_TYPES = ("user", "export")


def trail_heads(session: Session) -> tuple[tuple[int, str], tuple[int, str]]:
    """(the chain head, the newest event about records) as (seq, hash) pairs.

    Every write appends an event in its own transaction, so a cached read keyed by the head it
    depends on is fresh without clearing anything: record reads key on the second, which a
    sign-in does not move; the trail's own reads on the first. Both are a backward walk of the
    primary key that stops at the first row that qualifies."""
    newest = select(AuditEvent.seq, AuditEvent.hash).order_by(col(AuditEvent.seq).desc()).limit(1)
    full = session.exec(newest).first()
    data = session.exec(newest.where(col(AuditEvent.record_type).not_in(ACCOUNT_RECORD_TYPES))).first()
    return ((full[0], full[1]) if full else (0, "")), ((data[0], data[1]) if data else (0, ""))
