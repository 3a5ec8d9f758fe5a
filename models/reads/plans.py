"""Action plans and obstacles of one recommendation, as the detail page, My items and the
reminders read them: its steps with their status, overdue steps, and its obstacles with their
standing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.rules.lifecycle import OPEN
from models.rules.records import get_recommendation
from models.rules.steps import OPEN_STEP, progress_from_steps
from models.store.db import select_row
from models.store.tables import ActionStep, EvidenceItem, Obstacle, Recommendation, RecommendationObstacle


def steps_of(session: Session, key: str, *, today: date | None = None) -> list[dict]:
    rec = get_recommendation(session, key)
    rows = session.exec(
        select(ActionStep, EvidenceItem.key)
        .join(EvidenceItem, col(EvidenceItem.id) == ActionStep.evidence_id, isouter=True)
        .where(ActionStep.recommendation_id == rec.id)
        .order_by(col(ActionStep.position))
    ).all()
    return [
        {
            "position": s.position,
            "title": s.title,
            "office": s.office,
            "due_date": s.due_date,
            "status": s.status,
            "evidence": ev,
            "version": s.version,
            "overdue": bool(today and s.due_date and s.due_date < today and s.status in OPEN_STEP),
        }
        for s, ev in rows
    ]


def plan_summary(session: Session, key: str) -> dict:
    """How progress is set for one record (from its steps by count, or by the officer), and the
    rolled-up progress of its sub-items (their mean)."""
    rec = get_recommendation(session, key)
    statuses = list(
        session.exec(select(ActionStep.status).where(ActionStep.recommendation_id == rec.id)).all()
    )
    children = session.exec(
        select(func.count(), func.avg(Recommendation.progress)).where(Recommendation.parent_id == rec.id)
    ).one()
    return {
        "steps": len(statuses),
        "done": sum(s == "done" for s in statuses),
        "dropped": sum(s == "dropped" for s in statuses),
        "from_steps": progress_from_steps(statuses),
        "explicit": rec.progress_explicit,
        "progress": rec.progress,
        "children": children[0],
        "children_progress": round(children[1]) if children[0] else None,
    }


def obstacles_of(session: Session, key: str) -> list[dict]:
    """The obstacles linked to one recommendation with their standing (blocking, resolved, ...) and
    the last change to it from the trail: who, when, what and why (``by`` is None for the catalog's
    own links, which arrived with the seed)."""
    import json

    from models.store.tables import AuditEvent
    from models.trail.history import LINK_ACTIONS

    rec = get_recommendation(session, key)
    rows = session.exec(
        select(Obstacle, RecommendationObstacle.state, EvidenceItem.key)
        .join(RecommendationObstacle, col(RecommendationObstacle.obstacle_id) == Obstacle.id)
        .join(EvidenceItem, col(EvidenceItem.id) == RecommendationObstacle.evidence_id, isouter=True)
        .where(RecommendationObstacle.recommendation_id == rec.id)
        .order_by(Obstacle.key)
    ).all()
    last: dict[str, tuple] = {}
    for action, actor, at, reason, before in session.exec(
        select_row(
            AuditEvent.action, AuditEvent.actor, AuditEvent.effective_at, AuditEvent.reason, AuditEvent.before
        )
        .where(
            AuditEvent.record_type == "recommendation",
            AuditEvent.record_key == rec.key,
            col(AuditEvent.action).in_(LINK_ACTIONS),
        )
        .order_by(col(AuditEvent.seq))
    ):
        ob = json.loads(before or "{}").get("obstacle")
        if ob:
            last[ob] = (action, actor, at, reason)
    out = []
    for o, state, ev in rows:
        action, by, at, reason = last.get(o.key, (None, None, None, None))
        out.append(
            {
                "key": o.key,
                "title": o.title,
                "category": o.category,
                "side": o.side,
                "origin": o.origin,
                "state": state,
                "evidence": ev,
                "action": action,
                "by": by,
                "at": at,
                "reason": reason,
            }
        )
    return out


def find_obstacles(session: Session, text: str = "", *, limit: int = 20) -> list[dict]:
    """Obstacles whose key or title holds ``text``, for a picker that never lists the whole register."""
    q = select(Obstacle.key, Obstacle.title, Obstacle.category)
    if text:
        like = f"%{text.lower()}%"
        q = q.where(func.lower(Obstacle.title).like(like) | func.lower(Obstacle.key).like(like))
    return [
        {"key": k, "title": t, "category": c}
        for k, t, c in session.exec(q.order_by(Obstacle.key).limit(limit))
    ]


def overdue_steps(session: Session, *, today: date, owner: str | None = None) -> list[tuple[str, ActionStep]]:
    """(recommendation key, step) of steps past their due date and not done or dropped, of open
    recommendations, for My items and the reminders."""
    q = (
        select(Recommendation.key, ActionStep)
        .join(Recommendation, col(Recommendation.id) == ActionStep.recommendation_id)
        .where(
            col(ActionStep.status).in_(OPEN_STEP),
            col(ActionStep.due_date).is_not(None),
            col(ActionStep.due_date) < today,
            col(Recommendation.status).in_(OPEN),
        )
    )
    if owner is not None:
        q = q.where(Recommendation.owner == owner)
    return list(
        session.exec(q.order_by(col(ActionStep.due_date), Recommendation.key, col(ActionStep.position))).all()
    )
