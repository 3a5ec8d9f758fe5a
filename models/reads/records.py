"""Reading recommendations: lists and filters, one record's detail, its citations and history,
choices for pickers, and the state a form starts from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import and_, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models.reads.plans import obstacles_of, plan_summary, steps_of
from models.rules.records import evidence_count, get_recommendation
from models.store.schemas import RecommendationRead
from models.store.tables import (
    AuditEvent,
    Citation,
    EvidenceFile,
    EvidenceItem,
    EvidenceLink,
    Institution,
    Obstacle,
    Office,
    Recommendation,
    RecommendationInstitution,
    RecommendationObstacle,
    Source,
)
from models.store.vocabulary import STATUSES


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
        "source": [
            {"id": i, "short": s}
            for i, s in session.exec(select(Source.id, Source.short).order_by(Source.id)).all()
        ],
    }


def recommendation_view(session: Session, key: str) -> dict:
    """Everything the detail view shows about one recommendation, as plain data."""
    d = recommendation_detail(session, key)

    def cite(c):
        return {
            "source_id": c.source_id,
            "source_short": c.source_short,
            "source_file": c.source_file,
            "section": c.section,
            "line_start": c.line_start,
            "line_end": c.line_end,
            "label": c.label,
        }

    children = [c.model_dump() for c in d.children]
    rolled: dict[str, int] = {}
    for c in children:
        rolled[c["status"]] = rolled.get(c["status"], 0) + 1
    return {
        "rec": d.rec.model_dump(),
        "citations": [cite(c) for c in d.citations],
        "children": children,
        "children_by_status": rolled,
        "obstacles": obstacles_of(session, key),
        "steps": steps_of(session, key, today=datetime.now(UTC).date()),
        "plan": plan_summary(session, key),
        "institutions": [
            {"key": i.key, "name": i.name, "acronym": i.acronym, "kind": i.kind, "country": i.country}
            for i in d.institutions
        ],
        "evidence": [
            {
                "key": e["item"].key,
                "title": e["item"].title,
                "summary": e["item"].summary,
                "kind": e["item"].kind,
                "observed_on": e["item"].observed_on,
                "status_claim": e["item"].status_claim,
                "created_by": e["item"].created_by,
                "created_at": e["item"].created_at,
                "files": [
                    {
                        "filename": f.filename,
                        "stored_path": f.stored_path,
                        "sha256": f.sha256,
                        "size_bytes": f.size_bytes,
                        "media_type": f.media_type,
                    }
                    for f in e["files"]
                ],
                "citations": [cite(c) for c in e["citations"]],
            }
            for e in d.evidence
        ],
        "history": d.history,
    }


def recommendation_choices(session: Session) -> list[dict]:
    rows = session.exec(
        select(
            Recommendation.key, Recommendation.title, Recommendation.owner, Recommendation.status
        ).order_by(Recommendation.key)
    ).all()
    return [{"key": k, "title": t, "owner": o, "status": s} for k, t, o, s in rows]


PICK_LIMIT = 50


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_records(
    session: Session, query: str = "", *, owner: str | None = None, limit: int = PICK_LIMIT
) -> dict:
    """Recommendations for a picker: keys starting with ``query``, or titles containing each of its
    words, ordered by key, at most ``limit`` (and whether there are more); with ``owner``, only that
    office's (an editor scoped to an office picks among what they may update).

    A select box over every record formatted 50,000 options on each run; this returns one screenful.
    Rows are read in the order of the unique key index and the read stops at ``limit + 1`` matches,
    so a common word costs a screenful and a rare one at most one pass over keys and titles."""
    q = select(Recommendation.key, Recommendation.title)
    text = " ".join(query.split()).lower()
    if text:
        by_key = func.lower(Recommendation.key).like(f"{_like_escape(text)}%", escape="\\")
        words = [
            func.lower(Recommendation.title).like(f"%{_like_escape(w)}%", escape="\\") for w in text.split()
        ]
        q = q.where(by_key | and_(*words))
    if owner is not None:
        q = q.where(Recommendation.owner == owner)
    rows = session.exec(q.order_by(Recommendation.key).limit(limit + 1)).all()
    return {"rows": [{"key": k, "title": t} for k, t in rows[:limit]], "more": len(rows) > limit}


def record_titles(session: Session, keys: tuple[str, ...], *, owner: str | None = None) -> dict[str, str]:
    """Key -> title for a few keys (a picker's current choice that its search does not match); with
    ``owner``, only those that office owns."""
    if not keys:
        return {}
    q = select(Recommendation.key, Recommendation.title).where(col(Recommendation.key).in_(keys))
    if owner is not None:
        q = q.where(Recommendation.owner == owner)
    rows = session.exec(q).all()
    return {k: t for k, t in rows}


def recommendation_state(session: Session, key: str) -> dict:
    """The editable fields and version of one recommendation, read fresh for the update form."""
    rec = get_recommendation(session, key)
    return {
        "key": rec.key,
        "title": rec.title,
        "status": rec.status,
        "owner": rec.owner,
        "target_date": rec.target_date,
        "progress": rec.progress,
        "version": rec.version,
        "updated_by": rec.updated_by,
        "updated_at": rec.updated_at,
        "evidence_count": evidence_count(session, rec.id),
    }


def source_choices(session: Session) -> list[dict]:
    """Sources with their reproduction terms (``cite_only_never_quote`` sources are cited, never shown)."""
    rows = session.exec(
        select(Source.id, Source.short, Source.file, Source.reproduction).order_by(Source.id)
    ).all()
    return [{"id": i, "short": s, "file": f, "reproduction": r} for i, s, f, r in rows]


def owner_choices(session: Session) -> list[str]:
    """Every owning office in the store and every office in the register (one an admin just added
    owns nothing yet but can be given an account), for filters and account forms."""
    owners = set(session.exec(select(Recommendation.owner).distinct()).all())
    return sorted(owners | set(session.exec(select(Office.name)).all()))


def _read(rec: Recommendation, parent_key: str | None) -> RecommendationRead:
    return RecommendationRead.model_validate(rec, from_attributes=True).model_copy(
        update={"parent_key": parent_key}
    )


def _listing_filters(
    q, *, status=None, theme=None, owner=None, source=None, kind=None, who_must_act=None, search=None
):
    if status:
        q = q.where(Recommendation.status == status)
    if theme:
        q = q.where(Recommendation.theme == theme)
    if owner:
        q = q.where(Recommendation.owner == owner)
    if source:
        q = q.where(Recommendation.primary_source_id == source)
    if kind:
        q = q.where(Recommendation.kind == kind)
    if who_must_act:
        q = q.where(Recommendation.who_must_act == who_must_act)
    if search:
        like = f"%{_like_escape(search.lower())}%"
        q = q.where(
            func.lower(Recommendation.title).like(like, escape="\\")
            | func.lower(Recommendation.summary).like(like, escape="\\")
            | func.lower(Recommendation.key).like(like, escape="\\")
        )
    return q


def list_recommendations(
    session: Session,
    *,
    status: str | None = None,
    theme: str | None = None,
    owner: str | None = None,
    source: str | None = None,
    kind: str | None = None,
    who_must_act: str | None = None,
    search: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[RecommendationRead]:
    parent = aliased(Recommendation)
    q = select(Recommendation, parent.key).join(
        parent, col(Recommendation.parent_id) == parent.id, isouter=True
    )
    q = _listing_filters(
        q,
        status=status,
        theme=theme,
        owner=owner,
        source=source,
        kind=kind,
        who_must_act=who_must_act,
        search=search,
    )
    q = q.order_by(Recommendation.key)
    if offset:
        q = q.offset(offset)
    if limit:
        q = q.limit(limit)
    return [_read(rec, pk) for rec, pk in session.exec(q).all()]


def recommendation_page(session: Session, *, offset: int = 0, limit: int = 100, **filters) -> dict:
    """One page of the filtered list (ordered by key) and the number of matching records, counted
    in SQL: the page holds at most ``limit`` rows whatever the size of the store."""
    total = session.exec(_listing_filters(select(func.count()).select_from(Recommendation), **filters)).one()
    rows = list_recommendations(session, offset=offset, limit=limit, **filters)
    return {"total": total, "rows": rows}


def status_counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(Recommendation.status, func.count()).group_by(Recommendation.status)).all()
    return {s: n for s, n in rows}


@dataclass
class CitationView:
    source_id: str
    source_short: str
    source_file: str
    section: str
    line_start: int
    line_end: int

    @property
    def label(self) -> str:
        return f"{self.source_short}, {self.section}, lines {self.line_start}-{self.line_end}"


def citations_for(session: Session, record_type: str, record_id: int | None) -> list[CitationView]:

    rows = session.exec(
        select(Citation, Source.short, Source.file)
        .join(Source, col(Source.id) == Citation.source_id)
        .where(Citation.record_type == record_type, Citation.record_id == record_id)
        .order_by(col(Citation.id))
    ).all()
    return [
        CitationView(c.source_id, short, file, c.section, c.line_start, c.line_end) for c, short, file in rows
    ]


@dataclass
class RecommendationDetail:
    rec: RecommendationRead
    citations: list[CitationView]
    children: list[RecommendationRead]
    obstacles: list[Obstacle]
    institutions: list[Institution]
    evidence: list[dict]
    history: list[dict]


def history_for(session: Session, record_type: str, key: str) -> list[dict]:
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.record_type == record_type, AuditEvent.record_key == key)
        .order_by(col(AuditEvent.seq))
    ).all()
    return [
        {
            "seq": e.seq,
            "recorded_at": e.recorded_at,
            "effective_at": e.effective_at,
            "actor": e.actor,
            "action": e.action,
            "status_after": e.status_after,
            "reason": e.reason,
            "before": json.loads(e.before) if e.before else None,
            "after": json.loads(e.after) if e.after else None,
        }
        for e in events
    ]


def recommendation_detail(session: Session, key: str) -> RecommendationDetail:
    rec = get_recommendation(session, key)
    parent_key = (  # a parent row always exists: the foreign key holds it
        cast(Recommendation, session.get(Recommendation, rec.parent_id)).key if rec.parent_id else None
    )
    children = session.exec(
        select(Recommendation).where(Recommendation.parent_id == rec.id).order_by(Recommendation.key)
    ).all()
    obstacles = session.exec(
        select(Obstacle)
        .join(RecommendationObstacle, col(RecommendationObstacle.obstacle_id) == Obstacle.id)
        .where(RecommendationObstacle.recommendation_id == rec.id)
        .order_by(Obstacle.key)
    ).all()
    institutions = session.exec(
        select(Institution)
        .join(RecommendationInstitution, col(RecommendationInstitution.institution_id) == Institution.id)
        .where(RecommendationInstitution.recommendation_id == rec.id)
        .order_by(Institution.key)
    ).all()
    items = session.exec(
        select(EvidenceItem)
        .join(EvidenceLink, col(EvidenceLink.evidence_id) == EvidenceItem.id)
        .where(EvidenceLink.recommendation_id == rec.id)
        .order_by(col(EvidenceItem.observed_on), col(EvidenceItem.id))
    ).all()
    evidence = []
    for item in items:
        files = session.exec(select(EvidenceFile).where(EvidenceFile.evidence_id == item.id)).all()
        evidence.append(
            {"item": item, "files": files, "citations": citations_for(session, "evidence", item.id)}
        )
    return RecommendationDetail(
        rec=_read(rec, parent_key),
        citations=citations_for(session, "recommendation", rec.id),
        children=[_read(c, rec.key) for c in children],
        obstacles=list(obstacles),
        institutions=list(institutions),
        evidence=evidence,
        history=history_for(session, "recommendation", rec.key),
    )


def last_change(session: Session, key: str) -> tuple[str, datetime] | None:
    e = session.exec(
        select(AuditEvent)
        .where(AuditEvent.record_type == "recommendation", AuditEvent.record_key == key)
        .order_by(col(AuditEvent.seq).desc())
        .limit(1)
    ).first()
    return (e.actor, e.recorded_at) if e else None


def evidence_as_of(session: Session, key: str, as_of: datetime) -> list[EvidenceItem]:
    """The evidence a recommendation had at ``as_of``: observed by then, and not yet superseded."""
    rec = get_recommendation(session, key)
    day = as_of.date()
    items = session.exec(
        select(EvidenceItem)
        .join(EvidenceLink, col(EvidenceLink.evidence_id) == EvidenceItem.id)
        .where(EvidenceLink.recommendation_id == rec.id)
        .order_by(col(EvidenceItem.id))
    ).all()

    def known(i: EvidenceItem) -> bool:
        return (i.observed_on <= day) if i.observed_on else i.created_at <= as_of

    current = [i for i in items if known(i)]
    replaced = {i.supersedes_id for i in current if i.supersedes_id}
    return [i for i in current if i.id not in replaced]
