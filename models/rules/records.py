"""Looking up the records the write path acts on: a recommendation by key, its evidence in force,
an evidence item that supports it, a pending closure, and the "changed while you were editing"
explanation of a stale version; and :func:`record_change`, the version bump and event every change
to a recommendation's plan (obstacle links, action-plan steps) ends with.

Shared by :mod:`models.rules.recommendations`, :mod:`models.rules.closure`,
:mod:`models.rules.obstacles` and :mod:`models.rules.steps`, which all build on it, so none needs
another."""

from __future__ import annotations

import json

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.store.errors import InvalidInput, NotFound, StaleVersion
from models.store.tables import (
    AuditEvent,
    ClosureProposal,
    EvidenceItem,
    EvidenceLink,
    Recommendation,
    User,
    utcnow,
)
from models.trail.chain import append_event


def get_recommendation(session: Session, key: str) -> Recommendation:
    rec = session.exec(select(Recommendation).where(Recommendation.key == key)).first()
    if rec is None:
        raise NotFound(f"no recommendation with key {key!r}; `rectrack list` shows the keys")
    return rec


def evidence_count(session: Session, rec_id: int | None) -> int:
    superseded = select(EvidenceItem.supersedes_id).where(col(EvidenceItem.supersedes_id).is_not(None))
    return session.exec(
        select(func.count())
        .select_from(EvidenceLink)
        .join(EvidenceItem, col(EvidenceItem.id) == EvidenceLink.evidence_id)
        .where(EvidenceLink.recommendation_id == rec_id, col(EvidenceItem.id).not_in(superseded))
    ).one()


def stale_version(session: Session, rec: Recommendation, expected: int) -> StaleVersion:
    """Explain who changed the record since the version the user was looking at."""
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.record_type == "recommendation", AuditEvent.record_key == rec.key)
        .order_by(col(AuditEvent.seq).desc())
        .limit(50)
    ).all()
    newer = [e for e in events if e.after and json.loads(e.after).get("version", 0) > expected]
    changes: dict[str, list] = {}
    for e in reversed(newer):
        before, after = json.loads(e.before or "{}"), json.loads(e.after or "{}")
        for k, v in after.items():
            if k == "version":
                continue
            changes.setdefault(k, [before.get(k), v])[1] = v
    last = newer[0] if newer else (events[0] if events else None)
    who = last.actor if last else rec.updated_by
    when = last.recorded_at if last else rec.updated_at
    what = "; ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in changes.items()) or "details unavailable"
    return StaleVersion(
        f"{rec.key!r} was changed by {who} at {when:%Y-%m-%d %H:%M} UTC while you were editing "
        f"(you had version {expected}, it is now {rec.version}): {what}. Nothing was saved; "
        "review their change and apply yours again.",
        changed_by=who,
        changed_at=when,
        changes=changes,
        current_version=rec.version,
    )


def pending_closure(session: Session, rec_id: int | None) -> ClosureProposal | None:
    return session.exec(
        select(ClosureProposal).where(
            ClosureProposal.recommendation_id == rec_id, ClosureProposal.state == "pending"
        )
    ).first()


def get_evidence(session: Session, key: str) -> EvidenceItem:
    item = session.exec(select(EvidenceItem).where(EvidenceItem.key == key)).first()
    if item is None:
        raise NotFound(f"no evidence item with key {key!r}")
    return item


def evidence_supporting(session: Session, rec: Recommendation, evidence_key: str) -> EvidenceItem:
    """The evidence item ``evidence_key``, refused unless it is attached to ``rec``."""
    ev = get_evidence(session, evidence_key)
    if not session.get(EvidenceLink, (ev.id, rec.id)):
        raise InvalidInput(
            f"evidence {ev.key!r} does not support {rec.key!r}; attach it to this recommendation"
        )
    return ev


def record_change(
    session: Session,
    rec: Recommendation,
    *,
    actor: User,
    action: str,
    reason: str,
    before: dict,
    after: dict,
    effective_at=None,
) -> None:
    """Bump the recommendation's version and append its event (status unchanged) in the caller's
    transaction; ``before`` and ``after`` get the versions either side."""
    rec.version += 1
    rec.updated_at = utcnow()
    rec.updated_by = actor.username
    session.add(rec)
    append_event(
        session,
        actor=actor.username,
        action=action,
        record_type="recommendation",
        record_key=rec.key,
        reason=reason,
        before={**before, "version": rec.version - 1},
        after={**after, "version": rec.version},
        status_before=rec.status,
        status_after=rec.status,
        effective_at=effective_at,
    )
    session.flush()
