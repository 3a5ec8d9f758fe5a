"""Read queries behind the dashboard pages, aggregated in SQL and returned as plain data.

Every function takes a read session and returns lists of dicts (or small dicts), so results
pickle into Streamlit's data cache and a page never needs SQL of its own. Functions that take
``as_of`` answer from the audit trail (:mod:`models.history`) when it is given, and from the
current rows when it is ``None``.

Known simplification: "as of" rebuilds each record's *status* from the trail; owner, theme and
target date are the current values (owner and target date changes live in event payloads).

Rebuilding the statuses is the expensive part of an "as of" figure (a pass over the trail), and
one overview page draws a dozen of them for the same date. So the "as of" figures take the
statuses as a plain ``{key: status}`` map (``statuses=``; the dashboard reads it once per date
through its cache, see :func:`as_of_statuses`), and combine it in Python with the current rows,
which SQL still filters and orders. Without ``statuses=`` a function rebuilds the map itself.
"""

from __future__ import annotations

from collections import OrderedDict

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, case, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from models.history import fields_as_of, status_flow_until, statuses_as_of
from models.lifecycle import OPEN
from models.queries import recommendation_detail
from models.recommendations import evidence_count, get_recommendation
from models.tables import (
    AuditEvent,
    Indicator,
    IndicatorValue,
    Obstacle,
    Recommendation,
    RecommendationObstacle,
    Source,
    TimelineEvent,
)
from models.vocabulary import STATUSES

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
    return datetime.combine(d, time(23, 59, 59, 999999), tzinfo=timezone.utc)


def _current_status_sq():
    """(key, status) per recommendation, from the current rows."""
    return select(Recommendation.key.label("key"), Recommendation.status.label("status")).subquery()


def _last_change_sq(as_of: datetime | None):
    q = select(AuditEvent.record_key.label("key"), func.max(AuditEvent.effective_at).label("last_at")).where(
        AuditEvent.record_type == "recommendation")
    if as_of is not None:
        q = q.where(AuditEvent.effective_at <= as_of)
    return q.group_by(AuditEvent.record_key).subquery()


def _moment(as_of: datetime | None) -> datetime:
    return as_of or datetime.now(timezone.utc)


def as_of_statuses(session: Session, as_of: datetime) -> dict[str, str]:
    """``{key: status}`` of every recommendation that existed at ``as_of``, from the trail: what the
    "as of" figures below need, computed once and passed to each as ``statuses=``."""
    return statuses_as_of(session, as_of)


_FIELDS_SEEN: "OrderedDict[tuple, dict]" = OrderedDict()


def _fields(session: Session, as_of: datetime) -> dict[str, dict]:
    """:func:`models.history.fields_as_of`, replayed once per (store, date, trail head) and shared
    by every figure of a page; a new event moves the head, so nothing stale is served."""
    head = session.exec(select(func.max(AuditEvent.seq))).one()
    ident = (str(session.get_bind().url), as_of, head)
    if ident not in _FIELDS_SEEN:
        _FIELDS_SEEN[ident] = fields_as_of(session, as_of)
        while len(_FIELDS_SEEN) > 8:
            _FIELDS_SEEN.popitem(last=False)
    _FIELDS_SEEN.move_to_end(ident)
    return _FIELDS_SEEN[ident]


def _statuses(session: Session, as_of: datetime, statuses: dict[str, str] | None) -> dict[str, str]:
    return statuses if statuses is not None else statuses_as_of(session, as_of)


# ---------------------------------------------------------------- overview tiles and figures


def summary(session: Session, as_of: datetime | None = None, *, stale_after_days: int = 90,
            statuses: dict[str, str] | None = None) -> dict:
    """Totals by status, share implemented, overdue and stale counts."""
    moment = _moment(as_of)
    last = _last_change_sq(as_of)
    if as_of is None:
        sq = _current_status_sq()
        by_status = {s: n for s, n in session.exec(select(sq.c.status, func.count()).group_by(sq.c.status)).all()}
        overdue = session.exec(
            select(func.count()).select_from(sq).join(Recommendation, Recommendation.key == sq.c.key)
            .where(sq.c.status.in_(OPEN), Recommendation.target_date.is_not(None),
                   Recommendation.target_date < moment.date())
        ).one()
        stale = session.exec(
            select(func.count()).select_from(sq).join(last, last.c.key == sq.c.key)
            .where(sq.c.status.in_(OPEN), last.c.last_at < moment - timedelta(days=stale_after_days))
        ).one()
    else:
        status_of = _statuses(session, as_of, statuses)
        by_status = {}
        for st in status_of.values():
            by_status[st] = by_status.get(st, 0) + 1
        fields = _fields(session, as_of)
        day = moment.date().isoformat()
        stale_keys = select(last.c.key).where(last.c.last_at < moment - timedelta(days=stale_after_days))
        overdue = sum(1 for k, st in status_of.items()
                      if st in OPEN and (fields.get(k, {}).get("target_date") or "9999") < day)
        stale = sum(1 for k in session.exec(stale_keys) if status_of.get(k) in OPEN)
    total = sum(by_status.values())
    implemented = by_status.get("implemented", 0)
    return {
        "total": total,
        "by_status": {s: by_status.get(s, 0) for s in STATUSES},
        "open": sum(by_status.get(s, 0) for s in OPEN),
        "implemented_share": (implemented / total) if total else 0.0,
        "overdue": overdue,
        "stale": stale,
    }


def status_breakdown(session: Session, dimension: str, as_of: datetime | None = None, *,
                     statuses: dict[str, str] | None = None) -> list[dict]:
    """Count of recommendations per (dimension value, status), e.g. theme x status."""
    col = DIMENSIONS[dimension]
    if as_of is None:
        sq = _current_status_sq()
        rows = session.exec(
            select(col, sq.c.status, func.count()).select_from(sq).join(Recommendation, Recommendation.key == sq.c.key)
            .group_by(col, sq.c.status).order_by(col)
        ).all()
    else:
        # the database orders the dimension's values (its collation, its NULLs); Python counts
        status_of = _statuses(session, as_of, statuses)
        owners = ({k: f["owner"] for k, f in _fields(session, as_of).items() if "owner" in f}
                  if dimension == "owner" else {})
        counts: dict = {}
        for v, k in session.exec(select(col, Recommendation.key).order_by(col)):
            st = status_of.get(k)
            if st is not None:
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


def blocking_obstacles(session: Session, as_of: datetime | None = None, *, limit: int = 15,
                       statuses: dict[str, str] | None = None) -> list[dict]:
    """The obstacles that block the most open recommendations."""
    if as_of is None:
        sq = _current_status_sq()
        open_n = func.count().label("open_n")
        rows = session.exec(
            select(Obstacle.key, Obstacle.title, Obstacle.category, open_n)
            .join(RecommendationObstacle, RecommendationObstacle.obstacle_id == Obstacle.id)
            .join(Recommendation, Recommendation.id == RecommendationObstacle.recommendation_id)
            .join(sq, sq.c.key == Recommendation.key)
            .where(sq.c.status.in_(OPEN))
            .group_by(Obstacle.key, Obstacle.title, Obstacle.category)
            .order_by(open_n.desc(), Obstacle.key).limit(limit)
        ).all()
    else:
        status_of = _statuses(session, as_of, statuses)
        counts: dict[tuple, int] = {}  # in the database's order of obstacle keys
        for ok, t, c, rk in session.exec(
            select(Obstacle.key, Obstacle.title, Obstacle.category, Recommendation.key)
            .join(RecommendationObstacle, RecommendationObstacle.obstacle_id == Obstacle.id)
            .join(Recommendation, Recommendation.id == RecommendationObstacle.recommendation_id)
            .order_by(Obstacle.key)
        ):
            if status_of.get(rk) in OPEN:
                counts[(ok, t, c)] = counts.get((ok, t, c), 0) + 1
        # a stable sort keeps the database's key order among equal counts
        rows = [(*o, n) for o, n in sorted(counts.items(), key=lambda kv: -kv[1])][:limit]
    return [{"obstacle": k, "title": t, "category": c, "open": n} for k, t, c, n in rows]


def segment_records(session: Session, as_of: datetime | None = None, *, status: str | None = None,
                    theme: str | None = None, owner: str | None = None, who_must_act: str | None = None,
                    obstacle: str | None = None, open_only: bool = False, overdue: bool = False,
                    stale_after_days: int | None = None, limit: int = 500,
                    statuses: dict[str, str] | None = None) -> list[dict]:
    """The records behind one figure segment (drill-down), with their status as of the date."""
    cols = ("key", "title", "status", "theme", "owner", "who_must_act", "target_date", "progress")
    if as_of is None:
        sq = _current_status_sq()
        q = (select(Recommendation.key, Recommendation.title, sq.c.status, Recommendation.theme,
                    Recommendation.owner, Recommendation.who_must_act, Recommendation.target_date,
                    Recommendation.progress)
             .select_from(sq).join(Recommendation, Recommendation.key == sq.c.key))
        key_col = sq.c.key
        if status:
            q = q.where(sq.c.status == status)
        if open_only or overdue or stale_after_days is not None:
            q = q.where(sq.c.status.in_(OPEN))
    else:
        # the database filters on today's columns and orders; the status as of the date comes
        # from the map, so rows stream until ``limit`` of them match it
        status_of = _statuses(session, as_of, statuses)
        q = select(Recommendation.key, Recommendation.title, Recommendation.theme, Recommendation.owner,
                   Recommendation.who_must_act, Recommendation.target_date, Recommendation.progress)
        key_col = Recommendation.key
        wanted = ({status} if status else None)
        if open_only or overdue or stale_after_days is not None:
            wanted = (wanted & set(OPEN)) if wanted is not None else set(OPEN)
    if theme:
        q = q.where(Recommendation.theme == theme)
    if owner and as_of is None:
        q = q.where(Recommendation.owner == owner)
    if who_must_act:
        q = q.where(Recommendation.who_must_act == who_must_act)
    moment = _moment(as_of)
    if overdue and as_of is None:
        q = q.where(Recommendation.target_date.is_not(None), Recommendation.target_date < moment.date())
    if stale_after_days is not None:
        last = _last_change_sq(as_of)
        q = q.join(last, last.c.key == key_col).where(last.c.last_at < moment - timedelta(days=stale_after_days))
    if obstacle:
        q = (q.join(RecommendationObstacle, RecommendationObstacle.recommendation_id == Recommendation.id)
             .join(Obstacle, Obstacle.id == RecommendationObstacle.obstacle_id).where(Obstacle.key == obstacle))
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
        if (owner and row["owner"] != owner) or (overdue and not (row["target_date"] and row["target_date"] < moment.date())):
            continue
        out.append(row)
        if len(out) >= limit:
            break
    return out


# ---------------------------------------------------------------- recommendations


def filter_options(session: Session) -> dict[str, list]:
    """Distinct values for the recommendation filters."""

    def distinct(col) -> list:
        return [v for v in session.exec(select(col).where(col.is_not(None)).distinct().order_by(col)).all()]

    return {
        "status": [s for s in STATUSES],
        "theme": distinct(Recommendation.theme),
        "owner": distinct(Recommendation.owner),
        "who_must_act": distinct(Recommendation.who_must_act),
        "kind": distinct(Recommendation.kind),
        "source": [{"id": i, "short": s} for i, s in session.exec(select(Source.id, Source.short).order_by(Source.id)).all()],
    }


def recommendation_view(session: Session, key: str) -> dict:
    """Everything the detail view shows about one recommendation, as plain data."""
    d = recommendation_detail(session, key)
    cite = lambda c: {"source_id": c.source_id, "source_short": c.source_short, "source_file": c.source_file,  # noqa: E731
                      "section": c.section, "line_start": c.line_start, "line_end": c.line_end, "label": c.label}
    children = [c.model_dump() for c in d.children]
    rolled = {}
    for c in children:
        rolled[c["status"]] = rolled.get(c["status"], 0) + 1
    return {
        "rec": d.rec.model_dump(),
        "citations": [cite(c) for c in d.citations],
        "children": children,
        "children_by_status": rolled,
        "obstacles": [{"key": o.key, "title": o.title, "category": o.category, "side": o.side} for o in d.obstacles],
        "institutions": [{"key": i.key, "name": i.name, "acronym": i.acronym, "kind": i.kind, "country": i.country}
                         for i in d.institutions],
        "evidence": [
            {"key": e["item"].key, "title": e["item"].title, "summary": e["item"].summary, "kind": e["item"].kind,
             "observed_on": e["item"].observed_on, "status_claim": e["item"].status_claim,
             "created_by": e["item"].created_by, "created_at": e["item"].created_at,
             "files": [{"filename": f.filename, "stored_path": f.stored_path, "sha256": f.sha256,
                        "size_bytes": f.size_bytes, "media_type": f.media_type} for f in e["files"]],
             "citations": [cite(c) for c in e["citations"]]}
            for e in d.evidence
        ],
        "history": d.history,
    }


def recommendation_choices(session: Session) -> list[dict]:
    rows = session.exec(select(Recommendation.key, Recommendation.title, Recommendation.owner, Recommendation.status)
                        .order_by(Recommendation.key)).all()
    return [{"key": k, "title": t, "owner": o, "status": s} for k, t, o, s in rows]


def recommendation_state(session: Session, key: str) -> dict:
    """The editable fields and version of one recommendation, read fresh for the update form."""
    rec = get_recommendation(session, key)
    return {"key": rec.key, "title": rec.title, "status": rec.status, "owner": rec.owner,
            "target_date": rec.target_date, "progress": rec.progress, "version": rec.version,
            "updated_by": rec.updated_by, "updated_at": rec.updated_at,
            "evidence_count": evidence_count(session, rec.id)}


def source_choices(session: Session) -> list[dict]:
    """Sources with their reproduction terms (``cite_only_never_quote`` sources are cited, never shown)."""
    rows = session.exec(select(Source.id, Source.short, Source.file, Source.reproduction).order_by(Source.id)).all()
    return [{"id": i, "short": s, "file": f, "reproduction": r} for i, s, f, r in rows]


# ---------------------------------------------------------------- obstacles


def obstacle_register(session: Session) -> list[dict]:
    is_open = case((Recommendation.status.in_(OPEN), 1), else_=0)
    rows = session.exec(
        select(Obstacle.key, Obstacle.title, Obstacle.category, Obstacle.side, Obstacle.summary,
               func.count(Recommendation.id), func.coalesce(func.sum(is_open), 0))
        .join(RecommendationObstacle, RecommendationObstacle.obstacle_id == Obstacle.id, isouter=True)
        .join(Recommendation, Recommendation.id == RecommendationObstacle.recommendation_id, isouter=True)
        .group_by(Obstacle.key, Obstacle.title, Obstacle.category, Obstacle.side, Obstacle.summary)
        .order_by(Obstacle.key)
    ).all()
    return [{"key": k, "title": t, "category": c, "side": sd, "summary": sm, "recommendations": n, "open": o}
            for k, t, c, sd, sm, n, o in rows]


def obstacle_matrix(session: Session, *, category: str | None = None, theme: str | None = None) -> list[dict]:
    """One row per (obstacle, recommendation) link, with the recommendation's current status."""
    q = (select(Obstacle.key, Obstacle.title, Obstacle.category, Recommendation.key, Recommendation.title,
                Recommendation.status, Recommendation.theme)
         .join(RecommendationObstacle, RecommendationObstacle.obstacle_id == Obstacle.id)
         .join(Recommendation, Recommendation.id == RecommendationObstacle.recommendation_id))
    if category:
        q = q.where(Obstacle.category == category)
    if theme:
        q = q.where(Recommendation.theme == theme)
    rows = session.exec(q.order_by(Obstacle.key, Recommendation.key)).all()
    cols = ("obstacle", "obstacle_title", "category", "recommendation", "recommendation_title", "status", "theme")
    return [dict(zip(cols, r)) for r in rows]


# ---------------------------------------------------------------- indicators


def indicator_catalog(session: Session) -> list[dict]:
    rows = session.exec(
        select(Indicator.key, Indicator.name, Indicator.unit, Indicator.country, Indicator.category,
               func.count(IndicatorValue.id), func.count(IndicatorValue.conflict_note))
        .join(IndicatorValue, IndicatorValue.indicator_id == Indicator.id, isouter=True)
        .group_by(Indicator.key, Indicator.name, Indicator.unit, Indicator.country, Indicator.category)
        .order_by(Indicator.category, Indicator.name)
    ).all()
    return [{"key": k, "name": n, "unit": u, "country": c, "category": cat, "values": nv, "conflict_notes": nc}
            for k, n, u, c, cat, nv, nc in rows]


def indicator_values(session: Session, keys: tuple[str, ...] | list[str]) -> list[dict]:
    """Every cited value of the given indicators, each flagged when it conflicts with another
    value for the same indicator, period and country (or carries a conflict note)."""
    groups = (select(IndicatorValue.indicator_id, IndicatorValue.period, IndicatorValue.country,
                     func.count().label("n"))
              .group_by(IndicatorValue.indicator_id, IndicatorValue.period, IndicatorValue.country).subquery())
    rows = session.exec(
        select(Indicator.key, Indicator.name, Indicator.unit, IndicatorValue.period, IndicatorValue.year,
               IndicatorValue.value, IndicatorValue.country, Source.short, IndicatorValue.section,
               IndicatorValue.line_start, IndicatorValue.line_end, IndicatorValue.note, IndicatorValue.conflict_note,
               groups.c.n)
        .join(IndicatorValue, IndicatorValue.indicator_id == Indicator.id)
        .join(Source, Source.id == IndicatorValue.source_id)
        .join(groups, and_(groups.c.indicator_id == IndicatorValue.indicator_id,
                           groups.c.period == IndicatorValue.period, groups.c.country == IndicatorValue.country))
        .where(Indicator.key.in_(list(keys)))
        .order_by(Indicator.key, IndicatorValue.year, IndicatorValue.period, IndicatorValue.id)
    ).all()
    out = []
    for (k, name, unit, period, year, value, country, short, section, ls, le, note, cnote, n) in rows:
        out.append({"indicator": k, "name": name, "unit": unit, "period": period, "year": year, "value": value,
                    "country": country, "source": short, "section": section, "lines": f"{ls}-{le}",
                    "note": note or "", "conflict_note": cnote or "", "conflict": bool(n > 1 or cnote)})
    return out


# ---------------------------------------------------------------- timeline


def timeline_countries(session: Session) -> list[str]:
    a = set(session.exec(select(TimelineEvent.country).distinct()).all())
    b = set(session.exec(select(Recommendation.who_must_act).distinct()).all())
    return sorted(a | b)


def timeline_bounds(session: Session) -> tuple[int, int] | None:
    lo, hi = session.exec(select(func.min(TimelineEvent.occurred_on), func.max(TimelineEvent.occurred_on))).one()
    tlo, thi = session.exec(select(func.min(Recommendation.target_date), func.max(Recommendation.target_date))).one()
    elo, ehi = session.exec(select(func.min(AuditEvent.effective_at), func.max(AuditEvent.effective_at))
                            .where(AuditEvent.record_type == "recommendation", AuditEvent.action == "create")).one()
    years = [d.year for d in (lo, hi, tlo, thi, elo, ehi) if d is not None]
    return (min(years), max(years)) if years else None


def timeline_items(session: Session, *, start: date, end: date, countries: tuple[str, ...] = ()) -> list[dict]:
    """Historical events, recommendation creation dates (from the trail) and target dates in a period."""
    out: list[dict] = []
    q = select(TimelineEvent.key, TimelineEvent.occurred_on, TimelineEvent.title, TimelineEvent.country,
               TimelineEvent.category, TimelineEvent.precision).where(TimelineEvent.occurred_on.between(start, end))
    if countries:
        q = q.where(TimelineEvent.country.in_(countries))
    for k, d, t, c, cat, p in session.exec(q.order_by(TimelineEvent.occurred_on)).all():
        out.append({"key": k, "date": d, "title": t, "country": c, "lane": "Historical event", "category": cat,
                    "precision": p})
    q = (select(Recommendation.key, AuditEvent.effective_at, Recommendation.title, Recommendation.who_must_act,
                Recommendation.theme)
         .join(AuditEvent, and_(AuditEvent.record_key == Recommendation.key, AuditEvent.record_type == "recommendation",
                                AuditEvent.action == "create"))
         .where(AuditEvent.effective_at >= datetime.combine(start, time(0), tzinfo=timezone.utc),
                AuditEvent.effective_at <= end_of_day(end)))
    if countries:
        q = q.where(Recommendation.who_must_act.in_(countries))
    for k, at, t, c, theme in session.exec(q.order_by(AuditEvent.effective_at)).all():
        out.append({"key": k, "date": at.date(), "title": t, "country": c, "lane": "Recommendation made",
                    "category": theme, "precision": "day"})
    q = (select(Recommendation.key, Recommendation.target_date, Recommendation.title, Recommendation.who_must_act,
                Recommendation.theme).where(Recommendation.target_date.is_not(None),
                                            Recommendation.target_date.between(start, end)))
    if countries:
        q = q.where(Recommendation.who_must_act.in_(countries))
    for k, d, t, c, theme in session.exec(q.order_by(Recommendation.target_date)).all():
        out.append({"key": k, "date": d, "title": t, "country": c, "lane": "Target date", "category": theme,
                    "precision": "day"})
    return out


# ---------------------------------------------------------------- evidence trail


def trail_facets(session: Session) -> dict:
    return {
        "actors": list(session.exec(select(AuditEvent.actor).distinct().order_by(AuditEvent.actor)).all()),
        "actions": list(session.exec(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()),
        "record_types": list(session.exec(select(AuditEvent.record_type).distinct().order_by(AuditEvent.record_type)).all()),
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
        q = q.where(AuditEvent.effective_at >= datetime.combine(start, time(0), tzinfo=timezone.utc))
    if end:
        q = q.where(AuditEvent.effective_at <= end_of_day(end))
    return q


def trail_page(session: Session, *, record: str | None = None, record_type: str | None = None,
               actor: str | None = None, action: str | None = None, start: date | None = None,
               end: date | None = None, offset: int = 0, limit: int = 50) -> dict:
    """One page of the audit trail (newest first) and the number of matching events."""
    kw = dict(record=record, record_type=record_type, actor=actor, action=action, start=start, end=end)
    total = session.exec(_trail_filters(select(func.count()).select_from(AuditEvent), **kw)).one()
    rows = session.exec(_trail_filters(select(AuditEvent), **kw).order_by(AuditEvent.seq.desc())
                        .offset(offset).limit(limit)).all()
    return {"total": total, "rows": [
        {"seq": e.seq, "recorded_at": e.recorded_at, "effective_at": e.effective_at, "actor": e.actor,
         "action": e.action, "record_type": e.record_type, "record_key": e.record_key,
         "status_before": e.status_before, "status_after": e.status_after, "reason": e.reason,
         "before": e.before, "after": e.after, "hash": e.hash} for e in rows]}


def trail_head(session: Session) -> int:
    return session.exec(select(func.coalesce(func.max(AuditEvent.seq), 0))).one()





# ---------------------------------------------------------------- verified closure


def _proposal(p, key: str | None = None, title: str | None = None) -> dict:
    return {"id": p.id, "key": key, "title": title, "target": p.target_status, "state": p.state,
            "proposed_by": p.proposed_by, "proposed_at": p.proposed_at, "reason": p.reason,
            "decided_by": p.decided_by, "decided_at": p.decided_at, "decision_reason": p.decision_reason}


def closure_state(session: Session, key: str) -> dict:
    """One recommendation's closure: the proposal waiting for verification (or None) and the
    latest decided one (or None), as plain data."""
    from models.tables import ClosureProposal

    rec = get_recommendation(session, key)
    rows = session.exec(select(ClosureProposal).where(ClosureProposal.recommendation_id == rec.id)
                        .order_by(ClosureProposal.id.desc())).all()
    pending = next((p for p in rows if p.state == "pending"), None)
    decided = next((p for p in rows if p.state in ("accepted", "returned")), None)
    return {"pending": _proposal(pending, rec.key, rec.title) if pending else None,
            "last_decided": _proposal(decided, rec.key, rec.title) if decided else None}


def closure_queue(session: Session, username: str) -> list[dict]:
    """The closures ``username`` may verify now (never their own), oldest first, each with its
    recommendation and the evidence in force (files with SHA-256 and stored path, citations)."""
    from models.closure import evidence_in_force, pending_for_verifier
    from models.tables import EvidenceFile
    from models.users import get_user

    user = get_user(session, username)
    out = []
    for proposal, rec in pending_for_verifier(session, user):
        evidence = evidence_in_force(session, rec.id)
        shas = sorted({f["sha256"] for e in evidence for f in e["files"]})
        paths = dict(session.exec(select(EvidenceFile.sha256, EvidenceFile.stored_path)
                                  .where(EvidenceFile.sha256.in_(shas))).all()) if shas else {}
        for e in evidence:
            for f in e["files"]:
                f["stored_path"] = paths.get(f["sha256"])
        out.append({**_proposal(proposal, rec.key, rec.title), "status": rec.status, "owner": rec.owner,
                    "version": rec.version, "evidence": evidence})
    return out


# ---------------------------------------------------------------- my items, accounts, demo marking


def my_items(session: Session, username: str, today: date) -> dict:
    """The "My items" digest of a user (:func:`models.reminders.digest_for_user`) as plain data."""
    from dataclasses import asdict

    from models.reminders import digest_for_user
    from models.users import get_user

    d = digest_for_user(session, get_user(session, username), today)
    return {"owner": d.owner, "kind": d.kind, "today": d.today,
            **{k: [asdict(i) for i in getattr(d, k)] for k in ("overdue", "due_soon", "stale", "awaiting_verification")}}


def user_list(session: Session) -> list[dict]:
    """Every account a person can use (the catalog loader excluded), for the Users page."""
    from models.tables import User

    rows = session.exec(select(User).where(User.role != "system").order_by(User.username)).all()
    return [{"username": u.username, "display_name": u.display_name, "role": u.role, "office": u.office,
             "email": u.email, "can_verify": u.can_verify, "disabled": u.disabled,
             "has_password": bool(u.password_hash), "locked_until": u.locked_until,
             "last_login_at": u.last_login_at, "created_at": u.created_at} for u in rows]


def owner_choices(session: Session) -> list[str]:
    """Every owning office in the store, for filters and account forms."""
    return list(session.exec(select(Recommendation.owner).distinct().order_by(Recommendation.owner)).all())


def is_synthetic_store(session: Session) -> bool:
    """True when the store holds synthetic demo data (:func:`models.demo.is_synthetic`); False
    when that module is not there."""
    try:
        from models.demo import is_synthetic
    except ImportError:
        return False
    return bool(is_synthetic(session))


def time_in_status_overview(session: Session, *, group: str = "owner", limit: int = 10) -> dict:
    """Today's time-in-status picture: median age of open items, the longest stuck with their
    obstacles, and mean days per status by owner, theme or source (from the trail)."""
    from dataclasses import asdict

    from models.durations import longest_stuck, median_open_age_days, time_in_status_by

    return {
        "median_open_age_days": median_open_age_days(session),
        "stuck": [asdict(i) for i in longest_stuck(session, limit)],
        "by_group": [{"group": g, "status": s, "days": d}
                     for g, per in sorted(time_in_status_by(session, group).items()) for s, d in per.items()],
    }
