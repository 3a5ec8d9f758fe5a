"""The overview's figures: tiles, status breakdowns, status over time, blocking obstacles,
drill-down records and time in status, aggregated in SQL and returned as plain data.

Functions that take ``as_of`` answer from the audit trail (:mod:`models.trail.history`) when it is
given, and from the current rows when it is ``None``: status, owner and target date as they stood
then. Rebuilding the statuses is the expensive part of an "as of" figure, and one overview page
draws a dozen of them for the same date, so the figures take the statuses as a plain
``{key: status}`` map (``statuses=``, read once per date by the dashboard's cache through
:func:`as_of_statuses`); without it a function rebuilds the map itself.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from models.rules.lifecycle import OPEN
from models.store.db import select_row
from models.store.tables import AuditEvent, Obstacle, Recommendation, RecommendationObstacle
from models.store.vocabulary import STATUSES, UNCLAIMED, UNCLAIMED_STATUS_KINDS, figure_status
from models.trail.history import fields_as_of, status_flow_until, statuses_as_of

#: Anything that means "the store could not answer" (down, unreachable, not initialised).
StoreError = SQLAlchemyError


DIMENSIONS = {
    "theme": Recommendation.theme,
    "owner": Recommendation.owner,
    "who_must_act": Recommendation.who_must_act,
    "kind": Recommendation.kind,
    "source": Recommendation.primary_source_id,
}


def end_of_day(d: date) -> datetime:
    """The last instant of ``d`` in UTC: "as of 1 Oct" includes everything that happened on 1 Oct."""
    return datetime.combine(d, time(23, 59, 59, 999999), tzinfo=UTC)


def _current_status_sq():
    """(key, status) per recommendation, from the current rows."""
    return select(col(Recommendation.key).label("key"), col(Recommendation.status).label("status")).subquery()


def _last_change_sq(as_of: datetime | None):
    q: Select[str, datetime] = select(
        col(AuditEvent.record_key).label("key"), func.max(col(AuditEvent.effective_at)).label("last_at")
    ).where(AuditEvent.record_type == "recommendation")
    if as_of is not None:
        q = q.where(AuditEvent.effective_at <= as_of)
    return q.group_by(AuditEvent.record_key).subquery()


def _moment(as_of: datetime | None) -> datetime:
    return as_of or datetime.now(UTC)


def as_of_statuses(session: Session, as_of: datetime) -> dict[str, str]:
    """``{key: status}`` of every recommendation that existed at ``as_of``, from the trail: what the
    "as of" figures below need, computed once and passed to each as ``statuses=``."""
    return statuses_as_of(session, as_of)


_FIELDS_SEEN: OrderedDict[tuple, dict] = OrderedDict()


def _fields(session: Session, as_of: datetime) -> dict[str, dict]:
    """:func:`models.trail.history.fields_as_of`, replayed once per (store, date, trail head) and shared
    by every figure of a page; a new event moves the head, so nothing stale is served."""
    head = session.exec(select(func.max(AuditEvent.seq))).one()
    ident = (str(session.get_bind().engine.url), as_of, head)
    if ident not in _FIELDS_SEEN:
        _FIELDS_SEEN[ident] = fields_as_of(session, as_of)
        while len(_FIELDS_SEEN) > 8:
            _FIELDS_SEEN.popitem(last=False)
    _FIELDS_SEEN.move_to_end(ident)
    return _FIELDS_SEEN[ident]


def _statuses(session: Session, as_of: datetime, statuses: dict[str, str] | None) -> dict[str, str]:
    return statuses if statuses is not None else statuses_as_of(session, as_of)


def summary(
    session: Session,
    as_of: datetime | None = None,
    *,
    stale_after_days: int = 90,
    statuses: dict[str, str] | None = None,
) -> dict:
    """Totals by status, share implemented, overdue, no-target-date and stale counts.

    Stale means open with no event in the last ``stale_after_days`` days (the trail's effective
    dates); My items and the reminders use the same meaning (:mod:`models.reads.digests`)."""
    moment = _moment(as_of)
    last = _last_change_sq(as_of)
    if as_of is None:
        sq = _current_status_sq()
        by_status = {
            s: n for s, n in session.exec(select(sq.c.status, func.count()).group_by(sq.c.status)).all()
        }
        overdue = session.exec(
            select(func.count())
            .select_from(sq)
            .join(Recommendation, Recommendation.key == sq.c.key)
            .where(
                sq.c.status.in_(OPEN),
                col(Recommendation.target_date).is_not(None),
                col(Recommendation.target_date) < moment.date(),
            )
        ).one()
        stale = session.exec(
            select(func.count())
            .select_from(sq)
            .join(last, last.c.key == sq.c.key)
            .where(sq.c.status.in_(OPEN), last.c.last_at < moment - timedelta(days=stale_after_days))
        ).one()
        no_target = session.exec(
            select(func.count())
            .select_from(sq)
            .join(Recommendation, Recommendation.key == sq.c.key)
            .where(sq.c.status.in_(OPEN), col(Recommendation.target_date).is_(None))
        ).one()
    else:
        status_of = _statuses(session, as_of, statuses)
        by_status = {}
        for st in status_of.values():
            by_status[st] = by_status.get(st, 0) + 1
        fields = _fields(session, as_of)
        day = moment.date().isoformat()
        stale_keys = select(last.c.key).where(last.c.last_at < moment - timedelta(days=stale_after_days))
        overdue = sum(
            1
            for k, st in status_of.items()
            if st in OPEN and (fields.get(k, {}).get("target_date") or "9999") < day
        )
        stale = sum(1 for k in session.exec(stale_keys) if status_of.get(k) in OPEN)
        no_target = sum(
            1 for k, st in status_of.items() if st in OPEN and not fields.get(k, {}).get("target_date")
        )
    total = sum(by_status.values())
    implemented = by_status.get("implemented", 0)
    unclaimed_keys = select(Recommendation.key).where(col(Recommendation.kind).in_(UNCLAIMED_STATUS_KINDS))
    if as_of is None:
        q = (
            select(func.count())
            .select_from(sq)
            .where(sq.c.status == STATUSES[0], sq.c.key.in_(unclaimed_keys))
        )
        unclaimed = session.exec(q).one()
    else:
        unclaimed = sum(1 for k in session.exec(unclaimed_keys) if status_of.get(k) == STATUSES[0])
    return {
        "no_status_claimed": unclaimed,  # of by_status["proposed"]: policies and old proposals
        "total": total,
        "by_status": {s: by_status.get(s, 0) for s in STATUSES},
        "open": sum(by_status.get(s, 0) for s in OPEN),
        "implemented_share": (implemented / total) if total else 0.0,
        "overdue": overdue,
        "no_target": no_target,  # open with no target date: "0 overdue" says nothing about them
        "stale": stale,
    }


def status_breakdown(
    session: Session,
    dimension: str,
    as_of: datetime | None = None,
    *,
    statuses: dict[str, str] | None = None,
    split_unclaimed: bool = False,
) -> list[dict]:
    """Count per (dimension value, status); ``split_unclaimed``: unclaimed kinds apart (figure_status)."""
    col = DIMENSIONS[dimension]
    if as_of is None:
        sq = _current_status_sq()
        merged: dict = {}
        for v, st, k, n in session.exec(
            select(col, sq.c.status, Recommendation.kind, func.count())
            .select_from(sq)
            .join(Recommendation, Recommendation.key == sq.c.key)
            .group_by(col, sq.c.status, Recommendation.kind)
            .order_by(col)
        ):
            at = (v, figure_status(st, k) if split_unclaimed else st)
            merged[at] = merged.get(at, 0) + n
        rows = [(v, st, n) for (v, st), n in merged.items()]
    else:
        # the database orders the dimension's values (its collation, its NULLs); Python counts
        status_of = _statuses(session, as_of, statuses)
        owners = (
            {k: f["owner"] for k, f in _fields(session, as_of).items() if "owner" in f}
            if dimension == "owner"
            else {}
        )
        counts: dict = {}
        for v, k, kind in session.exec(select(col, Recommendation.key, Recommendation.kind).order_by(col)):
            st = status_of.get(k)
            if st is not None:
                st = figure_status(st, kind) if split_unclaimed else st
                v = owners.get(k, v)  # the owner as it stood, not today's
                per = counts.setdefault(v, {})
                per[st] = per.get(st, 0) + 1
        if owners:
            counts = dict(sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or "")))
        rows = [(v, st, n) for v, per in counts.items() for st, n in sorted(per.items())]
    return [{dimension: v if v is not None else "(none)", "status": s, "count": n} for v, s, n in rows]


def status_over_time(session: Session, as_of: datetime | None = None, *, by: str = "year") -> list[dict]:
    """Recommendations in each status at the end of each period (running sum of the trail's net flows)."""
    flows = status_flow_until(session, as_of, by=by)
    periods = sorted({(y, m) for y, m, _, _ in flows})
    running = {s: 0 for s in STATUSES}
    per_period: dict[tuple[int, int], dict[str, int]] = {}
    for y, m, s, d in flows:
        per_period.setdefault((y, m), {})[s] = per_period.get((y, m), {}).get(s, 0) + d
    seen: set[str] = set()
    out = []
    for p in periods:
        for s, d in per_period.get(p, {}).items():
            running[s] = running.get(s, 0) + d
            seen.add(s)
        y, m = p
        label = date(y, m or 1, 1)
        for s in STATUSES:
            if s in seen:
                # never below zero: some seeded status moves are dated before their record's
                # creation event (historical proposals), which would otherwise dip a band negative
                out.append({"period": label, "status": s, "count": max(running[s], 0)})
    return out


def blocking_obstacles(
    session: Session,
    as_of: datetime | None = None,
    *,
    limit: int | None = 15,
    statuses: dict[str, str] | None = None,
) -> list[dict]:
    """The obstacles that block the most open recommendations (all of them when ``limit`` is None)."""
    if as_of is None:
        sq = _current_status_sq()
        open_n = func.count().label("open_n")
        rows = session.exec(
            select(Obstacle.key, Obstacle.title, Obstacle.category, open_n)
            .join(RecommendationObstacle, col(RecommendationObstacle.obstacle_id) == Obstacle.id)
            .join(Recommendation, col(Recommendation.id) == RecommendationObstacle.recommendation_id)
            .join(sq, sq.c.key == Recommendation.key)
            .where(sq.c.status.in_(OPEN), RecommendationObstacle.state == "blocking")
            .group_by(Obstacle.key, Obstacle.title, Obstacle.category)
            .order_by(open_n.desc(), Obstacle.key)
            .limit(limit)
        ).all()
    else:
        from models.trail.history import obstacle_links_as_of

        status_of = _statuses(session, as_of, statuses)
        per_obstacle: dict[str, int] = {}
        for rk, links in obstacle_links_as_of(session, as_of).items():
            if status_of.get(rk) in OPEN:
                for ok, state in links.items():
                    if state == "blocking":
                        per_obstacle[ok] = per_obstacle.get(ok, 0) + 1
        counts: dict[tuple, int] = {}  # in the database's order of obstacle keys
        for ok, t, c in session.exec(
            select(Obstacle.key, Obstacle.title, Obstacle.category)
            .where(col(Obstacle.key).in_(list(per_obstacle)))
            .order_by(Obstacle.key)
        ):
            counts[(ok, t, c)] = per_obstacle[ok]
        # a stable sort keeps the database's key order among equal counts
        rows = [(*o, n) for o, n in sorted(counts.items(), key=lambda kv: -kv[1])][:limit]
    return [{"obstacle": k, "title": t, "category": c, "open": n} for k, t, c, n in rows]


def segment_records(
    session: Session,
    as_of: datetime | None = None,
    *,
    status: str | None = None,
    theme: str | None = None,
    owner: str | None = None,
    who_must_act: str | None = None,
    obstacle: str | None = None,
    open_only: bool = False,
    overdue: bool = False,
    stale_after_days: int | None = None,
    split_unclaimed: bool = False,
    limit: int = 500,
    statuses: dict[str, str] | None = None,
) -> list[dict]:
    """The records behind one figure segment (drill-down), with their status as of the date."""
    shown = ("key", "title", "status", "theme", "owner", "who_must_act", "target_date", "progress")
    cols = (*shown, "kind", "owner_inferred")  # so the table says "No status claimed" and "(inferred)"
    unclaimed = {UNCLAIMED: True, STATUSES[0]: False}.get(status or "") if split_unclaimed else None
    status = STATUSES[0] if status == UNCLAIMED else status
    if as_of is None:
        sq = _current_status_sq()
        q = (
            select_row(
                Recommendation.key,
                Recommendation.title,
                sq.c.status,
                Recommendation.theme,
                Recommendation.owner,
                Recommendation.who_must_act,
                Recommendation.target_date,
                Recommendation.progress,
                Recommendation.kind,
                Recommendation.owner_inferred,
            )
            .select_from(sq)
            .join(Recommendation, Recommendation.key == sq.c.key)
        )
        key_col = sq.c.key
        if status:
            q = q.where(sq.c.status == status)
        if open_only or overdue or stale_after_days is not None:
            q = q.where(sq.c.status.in_(OPEN))
    else:
        # the database filters on today's columns and orders; the status as of the date comes
        # from the map, so rows stream until ``limit`` of them match it
        status_of = _statuses(session, as_of, statuses)
        q = select_row(
            Recommendation.key,
            Recommendation.title,
            Recommendation.theme,
            Recommendation.owner,
            Recommendation.who_must_act,
            Recommendation.target_date,
            Recommendation.progress,
            Recommendation.kind,
            Recommendation.owner_inferred,
        )
        key_col = Recommendation.key
        wanted = {status} if status else None
        if open_only or overdue or stale_after_days is not None:
            wanted = (wanted & set(OPEN)) if wanted is not None else set(OPEN)
    if unclaimed is not None:
        in_kind = col(Recommendation.kind).in_(UNCLAIMED_STATUS_KINDS)
        q = q.where(in_kind if unclaimed else ~in_kind)
    if theme:
        q = q.where(Recommendation.theme == theme)
    if owner and as_of is None:
        q = q.where(Recommendation.owner == owner)
    if who_must_act:
        q = q.where(Recommendation.who_must_act == who_must_act)
    moment = _moment(as_of)
    if overdue and as_of is None:
        due = col(Recommendation.target_date)
        q = q.where(due.is_not(None), due < moment.date())

    if stale_after_days is not None:
        last = _last_change_sq(as_of)
        q = q.join(last, last.c.key == key_col).where(
            last.c.last_at < moment - timedelta(days=stale_after_days)
        )
    if obstacle and as_of is not None:  # the links as they stood, officers' links and unlinks undone
        from models.trail.history import obstacle_links_as_of

        blocked = [
            k
            for k, links in obstacle_links_as_of(session, as_of).items()
            if links.get(obstacle) == "blocking"
        ]
        q = q.where(key_col.in_(blocked))
    elif obstacle:
        q = (
            q.join(RecommendationObstacle, col(RecommendationObstacle.recommendation_id) == Recommendation.id)
            .join(Obstacle, col(Obstacle.id) == RecommendationObstacle.obstacle_id)
            .where(Obstacle.key == obstacle, RecommendationObstacle.state == "blocking")
        )
    q = q.order_by(Recommendation.key)
    if as_of is None:
        return [dict(zip(cols, r)) for r in session.exec(q.limit(limit)).all()]
    fields = _fields(session, as_of)
    out = []
    for r in session.exec(q):
        st = status_of.get(r[0])
        if st is None or (wanted is not None and st not in wanted):
            continue
        row = dict(zip(cols, (r[0], r[1], st, *r[2:])))
        then = fields.get(r[0], {})
        row["owner"] = then.get("owner", row["owner"])  # owner and target date as they stood
        if "target_date" in then:
            row["target_date"] = date.fromisoformat(then["target_date"]) if then["target_date"] else None
        if (owner and row["owner"] != owner) or (
            overdue and not (row["target_date"] and row["target_date"] < moment.date())
        ):
            continue
        out.append(row)
        if len(out) >= limit:
            break
    return out


def time_in_status_overview(session: Session, *, group: str = "owner", limit: int = 10) -> dict:
    """Today's time-in-status picture: median age of open items, the longest stuck with their
    obstacles, and mean days per status by owner, theme or source (from the trail)."""
    from dataclasses import asdict

    from models.reads.durations import longest_stuck, median_open_age_days, time_in_status_by

    return {
        "median_open_age_days": median_open_age_days(session),
        "stuck": [asdict(i) for i in longest_stuck(session, limit)],
        "by_group": [
            {"group": g, "status": s, "days": d}
            for g, per in sorted(time_in_status_by(session, group).items())
            for s, d in per.items()
        ],
    }
