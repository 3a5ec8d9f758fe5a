"""The headline panel: each priority recommendation as leadership reads it.

For every item flagged priority: its status (as of a date, from the trail), owner (and whether the
owner is inferred), how long it has been in that status, the last change (who, when, why), the next
target date, the obstacles that block it, what it takes to close, who put it on the list, and
whether it has been open five years or more (DoD OIG flags those in its compendium).

The list is short by nature, so each item reads its own few events through the trail's
per-record index; the four headline items (flagged by the catalog) come first, then the rest
in the order they were flagged.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import overload

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.rules.lifecycle import OPEN
from models.store.db import select_row
from models.store.tables import AuditEvent, Obstacle, Recommendation, RecommendationObstacle

LONG_OPEN_YEARS = 5
MAX_ITEMS = 50  # a priority list longer than this is no longer a priority list; the panel says so


@overload
def _aware(dt: datetime) -> datetime: ...
@overload
def _aware(dt: None) -> None: ...
def _aware(dt: datetime | None) -> datetime | None:

    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def priority_keys(session: Session) -> list[str]:
    return list(
        session.exec(
            select(Recommendation.key)
            .where(Recommendation.priority == True)  # noqa: E712
            .order_by(Recommendation.key)
        ).all()
    )


def _item(session: Session, rec: Recommendation, moment: datetime) -> dict | None:
    events = session.exec(
        select_row(
            AuditEvent.seq,
            AuditEvent.effective_at,
            AuditEvent.action,
            AuditEvent.actor,
            AuditEvent.reason,
            AuditEvent.status_before,
            AuditEvent.status_after,
        )
        .where(
            AuditEvent.record_type == "recommendation",
            AuditEvent.record_key == rec.key,
            AuditEvent.effective_at <= moment,
        )
        .order_by(col(AuditEvent.seq))
    ).all()
    if not events:
        return None  # it did not exist yet
    created = (
        min(_aware(e[1]) for e in events if e[2] == "create")
        if any(e[2] == "create" for e in events)
        else _aware(events[0][1])
    )
    status = next((e[6] for e in reversed(events) if e[6] is not None), rec.status)
    moves = [e for e in events if e[6] is not None and (e[5] is None or e[5] != e[6])]
    since = max((_aware(e[1]) for e in moves), default=created)
    last = max(events, key=lambda e: (_aware(e[1]), e[0]))
    move = max(moves, key=lambda e: (_aware(e[1]), e[0])) if moves else events[0]
    flagged = [e for e in events if e[2] == "priority_change"]
    obstacles = session.exec(
        select(Obstacle.key, Obstacle.title, Obstacle.category)
        .join(RecommendationObstacle, col(RecommendationObstacle.obstacle_id) == Obstacle.id)
        .where(RecommendationObstacle.recommendation_id == rec.id, RecommendationObstacle.state == "blocking")
        .order_by(Obstacle.title)
    ).all()
    open_days = (moment - created).days
    return {
        "key": rec.key,
        "title": rec.title,
        "status": status,
        "kind": rec.kind,
        "owner": rec.owner,
        "owner_inferred": rec.owner_inferred,
        "status_since": since,
        "days_in_status": max((moment - since).days, 0),
        "last_change": {"when": _aware(last[1]), "action": last[2], "actor": last[3], "reason": last[4]},
        "last_move": {
            "when": _aware(move[1]),
            "action": move[2],
            "actor": move[3],
            "reason": move[4],
            "from": move[5],
            "to": move[6],
        },
        "target_date": rec.target_date,
        "overdue": bool(rec.target_date and status in OPEN and rec.target_date < moment.date()),
        "obstacles": [{"key": k, "title": t, "category": c} for k, t, c in obstacles],
        "close_plan": rec.close_plan,
        "created": created,
        "open_days": open_days,
        "long_open": status in OPEN and moment - created >= timedelta(days=round(365.25 * LONG_OPEN_YEARS)),
        "flagged_by": flagged[-1][3] if flagged else None,
        "flagged_at": _aware(flagged[-1][1]) if flagged else None,
        "flag_reason": flagged[-1][4] if flagged else None,
        "catalog": bool(flagged and flagged[0][3] == "catalog"),
        "progress": rec.progress,
    }


def headline(session: Session, as_of: datetime | None = None) -> dict:
    """``{"items": [...], "total": n}``: the priority items as they stood at ``as_of`` (now when None).

    The flag and "what it takes to close" are today's: leadership's list is a present decision."""
    moment = _aware(as_of) or datetime.now(UTC)
    total = session.exec(
        select(func.count()).select_from(Recommendation).where(col(Recommendation.priority).is_(True))
    ).one()
    recs = session.exec(
        select(Recommendation)
        .where(Recommendation.priority == True)  # noqa: E712
        .order_by(Recommendation.key)
        .limit(MAX_ITEMS)
    ).all()
    items = [i for i in (_item(session, r, moment) for r in recs) if i is not None]
    # the catalog's headline items first (by key), then the others in the order they were flagged
    items.sort(
        key=lambda i: (not i["catalog"], moment if i["catalog"] else (i["flagged_at"] or moment), i["key"])
    )
    return {"items": items, "total": total, "shown": len(items)}
