"""What the leadership briefing says, as plain data: every figure and sentence, before typesetting.

The PDF (:mod:`models.workflow.briefing`) only lays this out, so a test can read what a general will
read without parsing a PDF, and the Overview, ``rectrack changes`` and the briefing answer from the
same reads (:mod:`models.reads.figures`, :mod:`models.reads.changes`, :mod:`models.reads.headline`).

Each priority item is written as GAO writes its priority recommendations: "As of <date>, <status>.
<what happened>. <what it takes to close>.", followed by the passages it is cited to (source, section
and line numbers; never the source's words).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from models.reads.accounts import is_synthetic_store
from models.reads.changes import changes_between, end_of_day, quarter_start, start_of_day
from models.reads.durations import longest_stuck
from models.reads.figures import blocking_obstacles, status_over_time, summary
from models.reads.headline import headline
from models.reads.records import citations_for, evidence_as_of
from models.store.db import select_row
from models.store.errors import InvalidInput
from models.store.settings import get_settings
from models.store.tables import Recommendation
from models.store.vocabulary import UNCLAIMED, figure_status, owner_shown, status_shown
from models.trail.history import statuses_as_of

ANNEX_MAX = 2000  # rows; past this the annex says how many more there are and how to get them all
CHANGES_LISTED = 60


def _d(day: date | datetime | None) -> str:
    return f"{day:%d %b %Y}".lstrip("0") if day else "—"


@dataclass(frozen=True)
class BriefingRequest:
    as_of_day: date
    since_day: date
    scope: str = "priority"  # priority | all | owner
    owner: str | None = None

    @classmethod
    def parse(
        cls, *, as_of: date | None = None, since: date | None = None, scope: str = "priority"
    ) -> BriefingRequest:
        today = datetime.now(UTC).date()
        day = as_of or today
        if day > today:
            raise InvalidInput(f"--as-of {day} is in the future; the store knows only what has happened")
        first = since or quarter_start(day)
        if first > day:
            raise InvalidInput(f"--since {first} is after the as-of date {day}; pick an earlier day")
        scope = (scope or "priority").strip()
        if scope in ("priority", "all"):
            return cls(day, first, scope)
        if scope.startswith("owner=") and scope[6:].strip():
            return cls(day, first, "owner", scope[6:].strip())
        raise InvalidInput(f'--scope {scope!r}: use priority, all, or owner=OFFICE (e.g. owner="OSD Policy")')

    @property
    def scope_label(self) -> str:
        return {"priority": "priority recommendations", "all": "all recommendations"}.get(
            self.scope, f"recommendations owned by {self.owner}"
        )

    @property
    def as_of(self) -> datetime | None:
        """None for today (figures from the current rows), else the end of that day (from the trail)."""
        return None if self.as_of_day >= datetime.now(UTC).date() else end_of_day(self.as_of_day)

    def scope_json(self) -> dict:
        return {
            "scope": self.scope,
            "owner": self.owner,
            "as_of": self.as_of_day.isoformat(),
            "since": self.since_day.isoformat(),
        }


def _priority_block(session: Session, item: dict, day: date, as_of: datetime | None) -> dict:
    rec = session.exec(select(Recommendation).where(Recommendation.key == item["key"])).one()
    status = status_shown(item["status"], rec.kind)  # "No status claimed" for a policy no source dates
    years = item["open_days"] / 365.25
    move = item["last_move"]
    if move["action"] == "create":
        happened = (
            f"No status change is recorded since it was made on {_d(move['when'])}; "
            f"{item['days_in_status']:,} days in this status"
        )
    else:
        happened = (
            f"It moved to {status.lower()} on {_d(move['when'])} ({move['actor']}: "
            f"{move['reason'].rstrip('.')}); {item['days_in_status']:,} days in this status"
        )
    evidence = sorted(
        evidence_as_of(session, rec.key, as_of or datetime.now(UTC)),
        key=lambda e: (e.observed_on or date.min, e.id),
    )
    if evidence:
        e = evidence[-1]
        happened += (
            f". Latest evidence: {e.title.rstrip('.')} ({_d(e.observed_on) if e.observed_on else 'undated'})"
        )
    sentence = f"As of {_d(day)}, {status.lower()}. {happened}. " + (
        f"To close: {item['close_plan'].rstrip('.')}."
        if item["close_plan"]
        else "The owner has not yet said what it takes to close."
    )
    last = item["last_change"]
    return {
        "key": rec.key,
        "title": rec.title,
        "status": status,
        "status_id": figure_status(item["status"], rec.kind),
        "sentence": sentence,
        "owner": owner_shown(rec.owner, rec.owner_inferred),
        "target": _d(item["target_date"]) if item["target_date"] else "none set",
        "overdue": item["overdue"],
        "long_open": item["long_open"],
        "open_years": f"{years:.0f}",
        "obstacles": [o["title"] for o in item["obstacles"]],
        "evidence": [
            f"{e.title} ({_d(e.observed_on) if e.observed_on else 'undated'})" for e in evidence[-3:]
        ],
        "evidence_count": len(evidence),
        "citations": [c.label for c in citations_for(session, "recommendation", rec.id)],
        "flag": (
            f"On the priority list since {_d(item['flagged_at'])} ({item['flagged_by']})"
            if item["flagged_at"]
            else ""
        ),
        "last_change": f"{_d(last['when'])}, {last['actor']}: {last['reason']}" if last["when"] else "—",
    }


def _scope_keys(session: Session, req: BriefingRequest, priority: list[str]) -> list[str] | None:
    if req.scope == "priority":
        return priority
    if req.scope == "owner":
        return list(session.exec(select(Recommendation.key).where(Recommendation.owner == req.owner)).all())
    return None


def _annex(session: Session, req: BriefingRequest) -> tuple[list[dict], int]:
    q = select_row(
        Recommendation.key,
        Recommendation.title,
        Recommendation.status,
        Recommendation.owner,
        Recommendation.target_date,
        Recommendation.priority,
        Recommendation.kind,
        Recommendation.owner_inferred,
    )
    if req.scope == "owner":
        q = q.where(Recommendation.owner == req.owner)
    rows = session.exec(q.order_by(Recommendation.key).limit(ANNEX_MAX + 1)).all()
    more = len(rows) > ANNEX_MAX
    rows = rows[:ANNEX_MAX]
    then = statuses_as_of(session, req.as_of, keys=[r[0] for r in rows]) if req.as_of else None
    out = []
    for key, title, status, owner, target, prio, kind, inferred in rows:
        st = then.get(key) if then is not None else status
        if st is None:
            continue  # did not exist yet
        out.append(
            {
                "key": key,
                "title": title,
                "status": status_shown(st, kind),
                "owner": owner_shown(owner, inferred),
                "target": target.isoformat() if target else "—",
                "priority": bool(prio),
            }
        )
    from sqlalchemy import func

    total = session.exec(
        select(func.count())
        .select_from(Recommendation)
        .where(*([Recommendation.owner == req.owner] if req.scope == "owner" else []))
    ).one()
    return out, (total - len(rows)) if more else 0


def briefing_content(session: Session, req: BriefingRequest) -> dict:
    """Everything the briefing prints, as strings and numbers (see the module docstring)."""
    settings = get_settings()
    as_of = req.as_of
    moment = as_of or datetime.now(UTC)
    panel = headline(session, as_of)
    items = [i for i in panel["items"] if req.scope != "owner" or i["owner"] == req.owner]
    keys = _scope_keys(session, req, [i["key"] for i in panel["items"]])
    figures = summary(session, as_of, stale_after_days=settings.stale_after_days)
    moved = changes_between(
        session, start_of_day(req.since_day), end_of_day(req.as_of_day), limit=CHANGES_LISTED, keys=keys
    )
    whole = (
        moved
        if keys is None
        else changes_between(session, start_of_day(req.since_day), end_of_day(req.as_of_day), limit=1)
    )
    stuck = longest_stuck(session, 10, now=moment, owner=req.owner if req.scope == "owner" else None)
    annex, annex_more = _annex(session, req)

    def tile(label: str, value, delta: int | None, note: str = "") -> dict:
        sign = "" if delta is None else (f"+{delta}" if delta > 0 else ("±0" if delta == 0 else str(delta)))
        return {"label": label, "value": str(value), "delta": sign, "note": note}

    since = _d(req.since_day)
    tiles = [
        tile("Recommendations", f"{figures['total']:,}", whole.delta("total"), f"since {since}"),
        tile("Open", f"{figures['open']:,}", whole.delta("open"), f"since {since}"),
        tile(
            "Implemented",
            f"{figures['by_status']['implemented']:,}",
            whole.delta("implemented"),
            f"{figures['implemented_share']:.0%} of all; since {since}",
        ),
        tile(
            "Overdue",
            f"{figures['overdue']:,}",
            None,
            f"{whole.counts.get('became_overdue', 0)} became overdue since {since}; "
            f"{figures['no_target']:,} open without a target date",
        ),
        tile("Stale", f"{figures['stale']:,}", None, f"no change in {settings.stale_after_days} days"),
    ]
    return {
        "banner": settings.banner.strip() or "UNMARKED",
        "synthetic": is_synthetic_store(session),
        "title": "Recommendation Tracker — leadership briefing",
        "as_of": _d(req.as_of_day),
        "since": since,
        "scope": req.scope_label,
        "generated": f"{datetime.now(UTC):%d %b %Y %H:%M} UTC".lstrip("0"),
        "tiles": tiles,
        "by_status": figures["by_status"],
        # the chart's counts: policies and old proposals no source gives a status apart from proposals
        "by_shown_status": {
            **figures["by_status"],
            "proposed": figures["by_status"]["proposed"] - figures["no_status_claimed"],
            UNCLAIMED: figures["no_status_claimed"],
        },
        "flow": status_over_time(session, as_of),
        "blocking": blocking_obstacles(session, as_of, limit=8),
        "priority": [_priority_block(session, i, req.as_of_day, as_of) for i in items],
        "priority_total": panel["total"],
        "changes": {
            "counts": [{"label": lbl, "n": moved.counts.get(k, 0)} for k, lbl in _count_labels()],
            "lines": [c.line() for c in moved.items[:CHANGES_LISTED]],
            "more": max(moved.total - CHANGES_LISTED, 0) if moved.truncated else 0,
        },
        "stuck": [
            {
                "key": s.key,
                "title": s.title,
                "status": status_shown(s.status, s.kind),
                "owner": owner_shown(s.owner, s.owner_inferred),
                "days": f"{s.days:,}",
                "obstacles": "; ".join(s.obstacles) or "none recorded",
            }
            for s in stuck
        ],
        "annex": annex,
        "annex_more": annex_more,
    }


def _count_labels():
    from models.reads.changes import KINDS, OVERDUE_KIND

    return [(k, v[0]) for k, v in KINDS.items()] + [OVERDUE_KIND]
