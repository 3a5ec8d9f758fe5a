"""What changed between two dates, computed from the trail alone.

Leadership asks "what moved this quarter?". The answer is every event whose effective time falls
in the window: status moves, closures proposed, accepted or returned, new evidence, obstacles
recorded, priority changes, and the items whose target date passed while they were open. The
same function feeds the Overview, ``rectrack changes`` (text and JSON) and the briefing, so the
three never disagree.

Every query reads the trail through ``ix_auditevent_effective`` (a range on effective time), and
counts are grouped in SQL; only the newest ``limit`` events are fetched as rows, so a busy quarter
at a million events costs one index range scan, not a pass over the store.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time
from typing import cast

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from models.rules.lifecycle import CLOSED, OPEN, STATUS_LABELS
from models.store.db import select_row
from models.store.tables import AuditEvent, Recommendation
from models.store.vocabulary import STATUSES
from models.trail.history import statuses_as_of

#: kind -> (what the reader sees, the trail's actions of that kind)
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "status_move": ("Status moves", ("status_change", "reopen")),
    "closure_proposed": ("Closures proposed", ("closure_proposed",)),
    "closure_accepted": ("Closures accepted", ("closure_accepted",)),
    "closure_returned": ("Closures returned", ("closure_returned",)),
    "evidence": ("New evidence", ("evidence_add", "evidence_supersede")),
    "obstacle": ("Obstacles recorded", ()),  # any action on an obstacle, or one named obstacle_*
    "priority": ("Priority changes", ("priority_change",)),
    "created": ("New recommendations", ("create",)),
}
KIND_OF_ACTION = {a: k for k, (_, actions) in KINDS.items() for a in actions}
OVERDUE_KIND = ("became_overdue", "Became overdue")
#: the word a line of the list starts with, per kind
LINE_WORD = {
    "status_move": "status",
    "closure_proposed": "closure proposed",
    "closure_accepted": "closure accepted",
    "closure_returned": "closure returned",
    "evidence": "evidence",
    "obstacle": "obstacle",
    "priority": "priority",
    "created": "new",
    "became_overdue": "overdue",
}


def start_of_day(d: date) -> datetime:
    return datetime.combine(d, time(), tzinfo=UTC)


def end_of_day(d: date) -> datetime:
    return datetime.combine(d, time(23, 59, 59, 999999), tzinfo=UTC)


def quarter_start(d: date) -> date:
    """The first day of ``d``'s calendar quarter: the default "since" of the Overview."""
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


@dataclass
class Change:
    when: datetime
    kind: str
    key: str  # the recommendation's key
    title: str
    actor: str
    reason: str
    status_before: str | None = None
    status_after: str | None = None
    detail: str = ""

    @property
    def label(self) -> str:
        return KINDS[self.kind][0] if self.kind in KINDS else OVERDUE_KIND[1]

    def line(self) -> str:
        """One line a reader can take in: ``2026-10-03 status: In progress -> Implemented ...``."""
        what = self.detail
        if self.kind == "created":
            what = f"as {STATUS_LABELS.get(self.status_after or '', self.status_after or '')}"
        elif self.status_before or self.status_after:
            moved = (
                f"{STATUS_LABELS.get(self.status_before or '', self.status_before or '—')} → "
                f"{STATUS_LABELS.get(self.status_after or '', self.status_after or '—')}"
            )
            what = f"{moved}{'; ' + what if what else ''}"
        by = f" by {self.actor}" if self.actor else ""
        why = f" ({self.reason})" if self.reason else ""
        return f"{self.when:%Y-%m-%d} {LINE_WORD[self.kind]}: {self.key} {what}{by}{why}".replace("  ", " ")


@dataclass
class Changes:
    since: datetime
    until: datetime
    counts: dict[str, int] = field(default_factory=dict)  # kind -> events in the window
    status_delta: dict[str, int] = field(default_factory=dict)  # status -> net change over the window
    items: list[Change] = field(default_factory=list)  # newest first, at most ``limit``
    truncated: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def delta(self, what: str) -> int:
        """Net change of a tile: a status, ``open``, ``closed`` or ``total``."""
        if what == "open":
            return sum(self.status_delta.get(s, 0) for s in OPEN)
        if what == "closed":
            return sum(self.status_delta.get(s, 0) for s in CLOSED)
        if what == "total":
            return sum(self.status_delta.values())
        return self.status_delta.get(what, 0)

    def as_json(self) -> dict:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "counts": {k: self.counts.get(k, 0) for k in (*KINDS, OVERDUE_KIND[0])},
            "status_delta": {s: self.status_delta.get(s, 0) for s in STATUSES},
            "status_delta_total": self.delta("total"),
            "open_delta": self.delta("open"),
            "items": [{**asdict(c), "when": c.when.isoformat(), "label": c.label} for c in self.items],
            "truncated": self.truncated,
        }


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _window(since: datetime, until: datetime):
    return (AuditEvent.effective_at >= since, AuditEvent.effective_at <= until)


def _is_obstacle():
    return or_(AuditEvent.record_type == "obstacle", col(AuditEvent.action).like("obstacle%"))


def _relevant():
    return or_(col(AuditEvent.action).in_(list(KIND_OF_ACTION)), _is_obstacle())


def _kind(action: str, record_type: str) -> str:
    if record_type == "obstacle" or action.startswith("obstacle"):
        return "obstacle"
    return KIND_OF_ACTION[action]


def _recommendation_keys(e_after: str | None, record_type: str, record_key: str) -> list[str]:
    """The recommendations an event is about: its own key, or the ones evidence or an obstacle names."""
    if record_type == "recommendation":
        return [record_key]
    after = json.loads(e_after) if e_after else {}
    keys = after.get("recommendations") or ([after["recommendation"]] if after.get("recommendation") else [])
    return [k for k in keys if isinstance(k, str)]


EVIDENCE_SCOPE_KEYS = 50  # up to this many keys, evidence events are matched by the keys they name


def _scope(keys: list[str] | None) -> list:
    """A filter to some recommendations: their own events, and for a short list (the priority items)
    also the evidence and obstacle events that name them (those events carry their own key)."""
    if keys is None:
        return []
    own = col(AuditEvent.record_key).in_(list(keys))
    if len(keys) > EVIDENCE_SCOPE_KEYS:
        return [own]
    named = or_(*[col(AuditEvent.after).contains(f'"{k}"') for k in keys]) if keys else own
    return [or_(own, (col(AuditEvent.record_type) != "recommendation") & named)]


def changes_between(
    session: Session, since: datetime, until: datetime, *, limit: int = 200, keys: list[str] | None = None
) -> Changes:
    """Everything that moved with an effective time in ``[since, until]``; ``keys`` limits it to
    some recommendations (the briefing's scope)."""
    since, until = _aware(since), _aware(until)
    out = Changes(since=since, until=until)
    scoped = _scope(keys)

    rows = session.exec(
        select(AuditEvent.action, AuditEvent.record_type, func.count())
        .where(*_window(since, until), _relevant(), *scoped)
        .group_by(AuditEvent.action, AuditEvent.record_type)
    ).all()
    counted: dict[str, int] = {}
    for action, record_type, n in rows:
        kind = _kind(action, record_type)
        counted[kind] = counted.get(kind, 0) + n
    out.counts = {k: counted[k] for k in KINDS if k in counted}

    flows = session.exec(
        select(AuditEvent.status_before, AuditEvent.status_after, func.count())
        .where(
            *_window(since, until),
            AuditEvent.record_type == "recommendation",
            col(AuditEvent.status_before).is_distinct_from(AuditEvent.status_after),
            *scoped,
        )
        .group_by(AuditEvent.status_before, col(AuditEvent.status_after))
    ).all()
    for before, after, n in flows:
        if after is not None:
            out.status_delta[after] = out.status_delta.get(after, 0) + n
        if before is not None:
            out.status_delta[before] = out.status_delta.get(before, 0) - n

    events = session.exec(
        select_row(
            AuditEvent.effective_at,
            AuditEvent.action,
            AuditEvent.record_type,
            AuditEvent.record_key,
            AuditEvent.actor,
            AuditEvent.reason,
            AuditEvent.status_before,
            AuditEvent.status_after,
            AuditEvent.after,
        )
        .where(*_window(since, until), _relevant(), *scoped)
        .order_by(col(AuditEvent.effective_at).desc(), col(AuditEvent.seq).desc())
        .limit(limit + 1)
    ).all()
    out.truncated = len(events) > limit
    for at, action, record_type, record_key, actor, reason, before, after, payload in events[:limit]:
        kind = _kind(action, record_type)
        rec_keys = _recommendation_keys(payload, record_type, record_key) or [record_key]
        if keys is not None:
            rec_keys = [k for k in rec_keys if k in set(keys)] or rec_keys
        detail = ""
        if kind == "evidence":
            detail = f"evidence {record_key}"
        elif kind == "obstacle":
            detail = (
                f"{action.replace('_', ' ')} {record_key}"
                if record_type == "obstacle"
                else action.replace("_", " ")
            )
        elif kind == "priority":
            detail = (
                "marked priority" if (json.loads(payload or "{}").get("priority")) else "priority cleared"
            )
        elif kind == "closure_proposed":
            detail = (
                f"to {STATUS_LABELS.get(json.loads(payload or '{}').get('closure_target') or '', 'close')}"
            )
        moved = kind in ("status_move", "closure_accepted", "created")
        for k in rec_keys[:5]:
            out.items.append(
                Change(
                    when=_aware(at),
                    kind=kind,
                    key=k,
                    title="",
                    actor=actor,
                    reason=reason,
                    status_before=before if moved else None,
                    status_after=after if moved else None,
                    detail=detail,
                )
            )

    overdue = became_overdue(session, since, until, keys=keys)
    if overdue:
        out.counts[OVERDUE_KIND[0]] = len(overdue)
        out.items.extend(overdue[:limit])
        out.items.sort(key=lambda c: c.when, reverse=True)
    _titles(session, out.items)
    return out


def became_overdue(
    session: Session, since: datetime, until: datetime, *, keys: list[str] | None = None
) -> list[Change]:
    """Open recommendations (as of ``until``) whose target date fell in the window: the day after
    the target date is the day an item becomes overdue."""
    first, last = since.date(), until.date()
    q = select(Recommendation.key, col(Recommendation.target_date), Recommendation.owner).where(
        col(Recommendation.target_date).is_not(None),
        col(Recommendation.target_date) >= first,
        col(Recommendation.target_date) < last,
    )
    if keys is not None:
        q = q.where(col(Recommendation.key).in_(keys))
    candidates = session.exec(q.order_by(col(Recommendation.target_date).desc())).all()
    if not candidates:
        return []
    now = datetime.now(UTC)
    status = (
        {
            k: s
            for k, s in session.exec(
                select(Recommendation.key, Recommendation.status).where(
                    col(Recommendation.key).in_([c[0] for c in candidates])
                )
            )
        }
        if until >= now
        else statuses_as_of(session, until, keys=[c[0] for c in candidates])
    )
    out = []
    for key, due, owner in candidates:
        target = cast(date, due)  # the query keeps dated rows only
        if status.get(key) in OPEN:
            out.append(
                Change(
                    when=start_of_day(target),
                    kind=OVERDUE_KIND[0],
                    key=key,
                    title="",
                    actor="",
                    reason="",
                    detail=f"target date {target.isoformat()} passed ({owner})",
                )
            )
    return out


def _titles(session: Session, items: list[Change]) -> None:
    keys = sorted({c.key for c in items})
    titles: dict[str, str] = {}
    for i in range(0, len(keys), 500):
        titles.update(
            session.exec(
                select(Recommendation.key, Recommendation.title).where(
                    col(Recommendation.key).in_(keys[i : i + 500])
                )
            ).all()
        )
    for c in items:
        c.title = titles.get(c.key, "")


def changes_view(session: Session, since: datetime, until: datetime, *, limit: int = 200) -> dict:
    """:func:`changes_between` as plain data for the dashboard's cache."""
    return changes_between(session, since, until, limit=limit).as_json()
