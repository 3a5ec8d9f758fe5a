"""Obstacles an officer maintains: record one, link it to a recommendation or unlink it, and mark
it resolved or no longer blocking for one recommendation.

An obstacle is recorded with where it is attested (a passage of the source library, or an evidence
item the officer attached), so the register stays cited like the catalog's. Linking, unlinking and
resolving change what blocks one recommendation: each is that recommendation's event (its version
moves, so an officer editing it at the same moment is told), and each event holds the obstacle's
state before and after, which is all :func:`models.trail.history.obstacle_links_as_of` needs to
rebuild the links of any past date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlmodel import Session, select

from models.rules.permissions import require
from models.rules.recommendations import _check_citation, _check_reason
from models.rules.records import (
    evidence_supporting,
    get_evidence,
    get_recommendation,
    record_change,
    stale_version,
)
from models.store.errors import InvalidInput, NotFound
from models.store.schemas import ObstacleCreate
from models.store.tables import (
    Citation,
    EvidenceItem,
    Obstacle,
    Recommendation,
    RecommendationObstacle,
    Source,
    User,
)
from models.store.vocabulary import OBSTACLE_STATES
from models.trail.chain import append_event

#: the trail's actions on a recommendation's obstacles (replayed by "as of", counted by changes)
LINK_ACTIONS = ("obstacle_linked", "obstacle_unlinked", "obstacle_resolved")


def get_obstacle(session: Session, key: str) -> Obstacle:
    ob = session.exec(select(Obstacle).where(Obstacle.key == key)).first()
    if ob is None:
        raise NotFound(
            f"no obstacle with key {key!r}; the Obstacles page and `rectrack obstacle list` show the keys"
        )
    return ob


def create_obstacle(
    session: Session,
    *,
    data: ObstacleCreate,
    actor: User,
    reason: str,
    citations: Sequence[dict] = (),
    evidence_key: str | None = None,
    effective_at: datetime | None = None,
) -> Obstacle:
    """Record a new obstacle, attested by source passages or by one of the officer's evidence items."""
    require(actor, "obstacle.create")
    reason = _check_reason(reason)
    if not citations and not evidence_key:
        raise InvalidInput(
            "an obstacle needs where it is attested: cite a source passage (source, section, lines) "
            "or name an evidence item you attached"
        )
    citations = [_check_citation(c) for c in citations]
    for c in citations:
        if not session.get(Source, c["source_id"]):
            raise InvalidInput(f"citation source_id: no source {c['source_id']!r} in the library")
        if c["line_end"] < c["line_start"]:
            raise InvalidInput("citation lines: the last line comes before the first; check the range")
    evidence = get_evidence(session, evidence_key) if evidence_key else None
    if session.exec(select(Obstacle.id).where(Obstacle.key == data.key)).first():
        raise InvalidInput(
            f"obstacle key {data.key!r} is already in use; choose another key or link that obstacle"
        )
    ob = Obstacle(
        **data.model_dump(),
        origin="user",
        evidence_id=evidence.id if evidence else None,
        created_by=actor.username,
    )
    session.add(ob)
    session.flush()
    for c in citations:
        session.add(Citation(record_type="obstacle", record_id=cast(int, ob.id), **c))
    append_event(
        session,
        actor=actor.username,
        action="obstacle_created",
        record_type="obstacle",
        record_key=ob.key,
        reason=reason,
        after={
            **data.model_dump(mode="json"),
            "citations": list(citations),
            "evidence": evidence.key if evidence else None,
            "version": ob.version,
        },
        effective_at=effective_at,
    )
    session.flush()
    return ob


def _link_row(session: Session, rec: Recommendation, ob: Obstacle) -> RecommendationObstacle | None:
    return session.get(RecommendationObstacle, (rec.id, ob.id))


def _record(
    session: Session,
    *,
    rec: Recommendation,
    ob: Obstacle,
    actor: User,
    action: str,
    reason: str,
    before: str | None,
    after: str | None,
    evidence: EvidenceItem | None = None,
    effective_at: datetime | None = None,
) -> None:
    """The recommendation's version bump and the event naming the obstacle's state change."""
    common = {"obstacle": ob.key, "obstacle_title": ob.title}
    record_change(
        session,
        rec,
        actor=actor,
        action=action,
        reason=reason,
        before={**common, "obstacle_state": before},
        after={**common, "obstacle_state": after, "evidence": evidence.key if evidence else None},
        effective_at=effective_at,
    )


def _target(session: Session, key: str, obstacle_key: str, actor: User, expected_version: int | None):
    rec = get_recommendation(session, key)
    require(actor, "recommendation.update", rec)
    if expected_version is not None and rec.version != expected_version:
        raise stale_version(session, rec, expected_version)
    return rec, get_obstacle(session, obstacle_key)


def link_obstacle(
    session: Session,
    *,
    key: str,
    obstacle_key: str,
    actor: User,
    reason: str,
    expected_version: int | None = None,
    effective_at: datetime | None = None,
) -> RecommendationObstacle:
    """Record that an obstacle blocks a recommendation (again, if it had been resolved)."""
    reason = _check_reason(reason)
    rec, ob = _target(session, key, obstacle_key, actor, expected_version)
    row = _link_row(session, rec, ob)
    if row is not None and row.state == "blocking":
        raise InvalidInput(f"obstacle {ob.key!r} is already linked to {rec.key!r} as blocking")
    before = row.state if row else None
    if row is None:
        row = RecommendationObstacle(recommendation_id=rec.id, obstacle_id=ob.id)
    row.state, row.evidence_id = "blocking", None
    session.add(row)
    _record(
        session,
        rec=rec,
        ob=ob,
        actor=actor,
        action="obstacle_linked",
        reason=reason,
        before=before,
        after="blocking",
        effective_at=effective_at,
    )
    return row


def unlink_obstacle(
    session: Session,
    *,
    key: str,
    obstacle_key: str,
    actor: User,
    reason: str,
    expected_version: int | None = None,
    effective_at: datetime | None = None,
) -> None:
    """Take an obstacle off a recommendation it was linked to by mistake (the trail keeps the link)."""
    reason = _check_reason(reason)
    rec, ob = _target(session, key, obstacle_key, actor, expected_version)
    row = _link_row(session, rec, ob)
    if row is None:
        raise InvalidInput(f"obstacle {ob.key!r} is not linked to {rec.key!r}; nothing to unlink")
    before = row.state
    session.delete(row)
    _record(
        session,
        rec=rec,
        ob=ob,
        actor=actor,
        action="obstacle_unlinked",
        reason=reason,
        before=before,
        after=None,
        effective_at=effective_at,
    )


def resolve_obstacle(
    session: Session,
    *,
    key: str,
    obstacle_key: str,
    actor: User,
    reason: str,
    evidence_key: str,
    state: str = "resolved",
    expected_version: int | None = None,
    effective_at: datetime | None = None,
) -> RecommendationObstacle:
    """Mark an obstacle resolved, or no longer blocking, for this recommendation alone, with the
    evidence item (attached to this recommendation) that shows it."""
    reason = _check_reason(reason)
    if state not in OBSTACLE_STATES or state == "blocking":
        raise InvalidInput(f"state {state!r}: use resolved or no_longer_blocking")
    rec, ob = _target(session, key, obstacle_key, actor, expected_version)
    row = _link_row(session, rec, ob)
    if row is None:
        raise InvalidInput(f"obstacle {ob.key!r} is not linked to {rec.key!r}; link it before resolving it")
    if row.state == state:
        raise InvalidInput(f"obstacle {ob.key!r} is already {state.replace('_', ' ')} for {rec.key!r}")
    if not evidence_key:
        raise InvalidInput("resolving an obstacle needs evidence: attach a file or a citation and name it")
    evidence = evidence_supporting(session, rec, evidence_key)
    before = row.state
    row.state, row.evidence_id = state, evidence.id
    session.add(row)
    _record(
        session,
        rec=rec,
        ob=ob,
        actor=actor,
        action="obstacle_resolved",
        reason=reason,
        before=before,
        after=state,
        evidence=evidence,
        effective_at=effective_at,
    )
    return row
