"""What the incoming officer needs to read after a handover, for every record of the batch: where it
stands, its recent history, its evidence, what blocks it, the steps still to do, and what the
outgoing officer wrote when they last acted on it.

Also the Handover page's pickers and its preview. Every read takes the batch's keys and asks once
per kind (records, events, evidence, obstacles, steps), never once per record, so a batch of a
thousand records costs the same handful of queries as a batch of three.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from models.rules.handover import batch_records
from models.rules.permissions import NOT_PEOPLE
from models.rules.steps import OPEN_STEP
from models.store.db import select_row
from models.store.tables import (
    ActionStep,
    AuditEvent,
    EvidenceItem,
    EvidenceLink,
    Obstacle,
    Recommendation,
    RecommendationObstacle,
    User,
)

HISTORY = 5  # events per record in the brief history
NOTES = 3  # the outgoing officer's latest reasons per record
_CHUNK = 500  # keys per IN list: well under SQLite's and PostgreSQL's limits on bound values


@dataclass
class HandoverItem:
    key: str
    title: str
    owner: str
    status: str
    progress: int
    target_date: date | None
    responsible: str | None
    previous: str | None  # who answered for it before this batch (None: no one named)
    close_plan: str | None
    history: list[dict] = field(default_factory=list)  # newest first: at, actor, action, reason
    evidence: list[str] = field(default_factory=list)  # titles in force
    obstacles: list[str] = field(default_factory=list)  # titles still blocking
    steps_due: list[dict] = field(default_factory=list)  # open steps: position, title, due, status
    noted: list[dict] = field(default_factory=list)  # the outgoing officer's reasons, newest first


@dataclass
class HandoverReport:
    to_user: str
    to_name: str
    office: str | None
    from_user: str | None
    reason: str
    actor: str
    first_seq: int
    at: datetime | None
    items: list[HandoverItem]


def _chunks(keys: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(keys), _CHUNK):
        yield keys[i : i + _CHUNK]


def _latest_events(session: Session, keys: list[str], limit: int, actors: Iterable[str] | None = None):
    """The newest ``limit`` events of each record (optionally only by ``actors``), one windowed query
    per chunk of keys through the (record_type, record_key, seq) index."""
    E = AuditEvent
    for part in _chunks(keys):
        where: list[ColumnElement[bool]] = [
            col(E.record_type) == "recommendation",
            col(E.record_key).in_(part),
        ]
        if actors is not None:
            where += [col(E.actor).in_(list(actors)), col(E.action) != "handover"]
        rank = func.row_number().over(partition_by=E.record_key, order_by=col(E.seq).desc()).label("rank")
        inner = select_row(E.record_key, E.seq, E.effective_at, E.actor, E.action, E.reason, rank).where(
            *where
        )
        sub = inner.subquery()
        rows = session.exec(
            select_row(sub.c.record_key, sub.c.effective_at, sub.c.actor, sub.c.action, sub.c.reason)
            .where(sub.c.rank <= limit)
            .order_by(sub.c.record_key, sub.c.seq.desc())
        ).all()
        yield from rows


def handover_report(session: Session, *, first_seq: int) -> HandoverReport:
    """The report of the batch whose first event is ``first_seq`` (rebuilt from the trail, so the
    same report can be made again later)."""
    E = AuditEvent
    first = session.exec(select(E).where(E.seq == first_seq)).first()
    if first is None or first.action != "handover":
        from models.store.errors import NotFound

        raise NotFound(f"event {first_seq} is not the start of a handover batch")
    marker = first.reason[first.reason.rfind(" (handover batch from event") :]
    batch = session.exec(
        select(E.record_key, E.before, E.after)
        .where(E.seq >= first_seq, E.action == "handover", E.actor == first.actor, E.reason == first.reason)
        .order_by(col(E.seq))
    ).all()
    previous = {k: json.loads(b or "{}").get("responsible") for k, b, _ in batch}
    to_user = json.loads(first.after or "{}").get("responsible") or ""
    reason = first.reason[: -len(marker)] if marker.startswith(" (handover") else first.reason
    items = handover_items(session, list(previous), previous=previous, successor=to_user)
    name = session.exec(select(User.display_name).where(User.username == to_user)).first() or ""
    offices = sorted({i.owner for i in items})
    before = set(previous.values())
    return HandoverReport(
        to_user=to_user,
        to_name=name,
        office=offices[0] if len(offices) == 1 else None,
        from_user=before.pop() if len(before) == 1 else None,
        reason=reason,
        actor=first.actor,
        first_seq=first_seq,
        at=first.recorded_at,
        items=items,
    )


def _outgoing(
    session: Session, owners: set[str], previous: dict[str, str | None], successor: str
) -> set[str]:
    """Who handed over: the people named before the batch, and the office's own editors."""
    people = {p for p in previous.values() if p}
    editors = session.exec(
        select(User.username).where(col(User.office).in_(sorted(owners)), User.role == "editor")
    ).all()
    return (people | set(editors)) - {successor} - NOT_PEOPLE


def handover_items(
    session: Session, keys: list[str], *, previous: dict[str, str | None], successor: str
) -> list[HandoverItem]:
    """One :class:`HandoverItem` per key, by key."""
    items: dict[str, HandoverItem] = {}
    ids: dict[int, str] = {}
    for part in _chunks(keys):
        for r in session.exec(select(Recommendation).where(col(Recommendation.key).in_(part))):
            ids[r.id] = r.key  # type: ignore[index]
            items[r.key] = HandoverItem(
                key=r.key,
                title=r.title,
                owner=r.owner,
                status=r.status,
                progress=r.progress,
                target_date=r.target_date,
                responsible=r.responsible,
                previous=previous.get(r.key),
                close_plan=r.close_plan,
            )
    found = sorted(items)
    for key, at, actor, action, reason in _latest_events(session, found, HISTORY):
        items[key].history.append({"at": at, "actor": actor, "action": action, "reason": reason})
    outgoing = _outgoing(session, {i.owner for i in items.values()}, previous, successor)
    if outgoing:
        for key, at, actor, action, reason in _latest_events(session, found, NOTES, outgoing):
            items[key].noted.append({"at": at, "actor": actor, "action": action, "reason": reason})
    rec_ids = sorted(ids)
    superseded = select(EvidenceItem.supersedes_id).where(col(EvidenceItem.supersedes_id).is_not(None))
    for i in range(0, len(rec_ids), _CHUNK):
        part_ids = rec_ids[i : i + _CHUNK]
        for rid, title in session.exec(
            select(EvidenceLink.recommendation_id, EvidenceItem.title)
            .join(EvidenceItem, col(EvidenceItem.id) == col(EvidenceLink.evidence_id))
            .where(col(EvidenceLink.recommendation_id).in_(part_ids), col(EvidenceItem.id).not_in(superseded))
            .order_by(col(EvidenceItem.created_at))
        ):
            items[ids[rid]].evidence.append(title)
        for rid, title in session.exec(
            select(RecommendationObstacle.recommendation_id, Obstacle.title)
            .join(Obstacle, col(Obstacle.id) == col(RecommendationObstacle.obstacle_id))
            .where(
                col(RecommendationObstacle.recommendation_id).in_(part_ids),
                RecommendationObstacle.state == "blocking",
            )
            .order_by(Obstacle.key)
        ):
            items[ids[rid]].obstacles.append(title)
        for s in session.exec(
            select(ActionStep)
            .where(col(ActionStep.recommendation_id).in_(part_ids), col(ActionStep.status).in_(OPEN_STEP))
            .order_by(col(ActionStep.recommendation_id), col(ActionStep.position))
        ):
            items[ids[s.recommendation_id]].steps_due.append(
                {"position": s.position, "title": s.title, "due": s.due_date, "status": s.status}
            )
    return [items[k] for k in found]


# ---- the Handover page --------------------------------------------------------------------------


def handover_choices(session: Session) -> dict[str, list[str]]:
    """The page's pickers: offices from the register (or, with none registered, the owners in use),
    the people who may answer for records (enabled editors and admins), and everyone named
    responsible now (the outgoing people)."""
    from models.rules.offices import office_names

    offices = office_names(session) or sorted(
        session.exec(select(Recommendation.owner).distinct()).all(), key=str.casefold
    )
    people = session.exec(
        select(User.username)
        .where(col(User.role).in_(("editor", "admin")), User.disabled == False)  # noqa: E712
        .order_by(User.username)
    ).all()
    named = session.exec(
        select(Recommendation.responsible).where(col(Recommendation.responsible).is_not(None)).distinct()
    ).all()
    return {"offices": offices, "successors": list(people), "outgoing": sorted(n for n in named if n)}


def handover_preview(
    session: Session, *, office: str | None, from_user: str | None, to_user: str | None
) -> list[str]:
    """The keys a handover with these choices would move now (the same selection the batch makes)."""
    if not office and not from_user:
        return []
    return [r.key for r in batch_records(session, office=office, from_user=from_user, to_user=to_user)]
