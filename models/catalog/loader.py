"""Loading the catalog into a store, through the same write path as everyone else.

Seeding only adds what is missing, keyed by each record's stable key, so a second run
changes nothing and a staff officer's edits to a seeded record are never overwritten.
A status a source reports is reached by walking the lifecycle's allowed moves, each an audited
event dated to the passage that supports it (a year-only claim to the end of that year, capped at
the reporting text's publication). Only the last move is the one the source reports; the moves the
lifecycle needs on the way are labelled as implied by the loader, so the trail never shows a step
nobody reported as if a source had.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import cast

from sqlmodel import Session, select

from models.catalog.checks import Catalog
from models.catalog.offices import canonical_owner, seed_offices
from models.catalog.priority_marks import at_day as _at
from models.catalog.priority_marks import mark_priority
from models.catalog.reading import reported_on
from models.catalog.schema import Citation as SeedCitation
from models.catalog.schema import InstitutionSeed, ObstacleSeed, RecommendationSeed, parse_partial_date
from models.rules import catalog_records, lifecycle
from models.rules.permissions import require, seeding
from models.rules.recommendations import attach_evidence, create_recommendation, update_recommendation
from models.rules.records import get_recommendation
from models.rules.users import system_user
from models.store.db import select_row
from models.store.schemas import EvidenceCreate, RecommendationCreate, RecommendationUpdate
from models.store.tables import (
    EvidenceItem,
    Indicator,
    IndicatorValue,
    Institution,
    Obstacle,
    Recommendation,
    Source,
    TimelineEvent,
    User,
)

REPORTED = "status reported by a source: "
IMPLIED = "step implied by the loader (no source reports it), on the way to the reported status "


@dataclass
class SeedReport:
    added: Counter = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return sum(self.added.values()) > 0

    def __str__(self) -> str:
        if not self.changed:
            return "catalog already loaded; nothing changed"
        return "added " + ", ".join(f"{n} {k}" for k, n in sorted(self.added.items()))


def _cite(c: SeedCitation) -> dict:
    return {"source_id": c.source, "section": c.section, "line_start": c.line_start, "line_end": c.line_end}


def _add_citations(session: Session, actor: User, record_type: str, record_id: int, citations) -> None:
    catalog_records.add_citations(
        session,
        actor=actor,
        record_type=record_type,
        record_id=record_id,
        citations=[_cite(c) for c in citations],
    )


def _existing_keys(session: Session, model) -> dict[str, int]:
    return {k: i for k, i in session.exec(select(model.key, model.id)).all()}


def _parents_first(recs: dict[str, RecommendationSeed]) -> list[RecommendationSeed]:
    ordered, done = [], set()

    def visit(key: str) -> None:
        if key in done:
            return
        parent = recs[key].parent
        if parent:
            visit(parent)
        done.add(key)
        ordered.append(recs[key])

    for key in sorted(recs):
        visit(key)
    return ordered


def seed_catalog(session: Session, *, catalog: Catalog, actor: User) -> SeedReport:
    """Add what the catalog holds and the store lacks; ``actor`` (an admin or the operator) asked for
    it, and the loader's own identity writes it, the one time that identity may act."""
    require(actor, "catalog.seed")
    with seeding():
        return _seed_catalog(session, catalog=catalog, requested_by=actor.username)


def _seed_catalog(session: Session, *, catalog: Catalog, requested_by: str) -> SeedReport:
    # records, evidence and source-reported statuses are attributed to the catalog itself
    actor = system_user(session)
    report = SeedReport()
    published = {}
    have_sources = set(session.exec(select(Source.id)).all())
    for s in catalog.sources:
        published[s.id] = parse_partial_date(s.published)[0]
        if s.id not in have_sources:
            note = catalog.coverage_notes.get(s.id)
            catalog_records.add_row(
                session,
                actor=actor,
                row=Source(**s.model_dump(exclude={"coverage_note"}), coverage_note=note or s.coverage_note),
            )
            report.added["sources"] += 1
    seed_offices(session, catalog, actor, report.added)
    session.flush()

    refs: list[tuple[type[Obstacle | Institution], str, Mapping[str, ObstacleSeed | InstitutionSeed]]]
    refs = [(Obstacle, "obstacle", catalog.obstacles), (Institution, "institution", catalog.institutions)]
    for model, kind, items in refs:
        have = _existing_keys(session, model)
        for key in sorted(items):  # (keys are unique, so this is the order sorting the items gave)
            item = items[key]
            if key in have:
                continue
            row = catalog_records.add_row(
                session, actor=actor, row=model(**item.model_dump(exclude={"citations", "recommendations"}))
            )
            _add_citations(session, actor, kind, cast(int, row.id), item.citations)
            report.added[f"{kind}s"] += 1

    # A historical proposal can be reported acted on before the source that records it was
    # published; its creation is then dated to the earliest reported status, not after it.
    def claimed_on(value: str, citation: SeedCitation) -> date:
        return reported_on(value, next(s.published for s in catalog.sources if s.id == citation.source))

    earliest_claim: dict[str, date] = {}
    for ev in catalog.evidence.values():
        if ev.status_claim and ev.observed:
            for rkey in ev.recommendations:
                d = claimed_on(ev.observed, ev.citations[0])
                earliest_claim[rkey] = min(d, earliest_claim.get(rkey, d))
    for rkey, seed in catalog.recommendations.items():
        if seed.seeded_status:
            d = claimed_on(seed.seeded_status.as_of, seed.seeded_status.citations[0])
            earliest_claim[rkey] = min(d, earliest_claim.get(rkey, d))

    obstacle_ids = _existing_keys(session, Obstacle)
    institution_ids = _existing_keys(session, Institution)
    have_recs = _existing_keys(session, Recommendation)
    new_recs: list[RecommendationSeed] = []
    for seed in _parents_first(catalog.recommendations):
        if seed.key in have_recs:
            continue
        source_id = seed.citations[0].source
        data = RecommendationCreate(
            key=seed.key,
            title=seed.title,
            summary=seed.summary,
            kind=seed.kind,
            confidence=seed.confidence,
            theme=seed.theme,
            who_must_act=seed.who_must_act,
            owner=canonical_owner(catalog, seed.owner),
            owner_inferred=seed.owner_inferred,
            parent_key=seed.parent,
            primary_source_id=source_id,
        )
        c = seed.citations[0]
        created_on = min(published[source_id], earliest_claim.get(seed.key, published[source_id]))
        rec = create_recommendation(
            session,
            data=data,
            actor=actor,
            origin="catalog",
            effective_at=_at(created_on),
            reason=f"from the catalog: {c.source}, {c.section}, lines {c.lines}",
        )
        new_id = cast(int, rec.id)  # flushed by create_recommendation
        _add_citations(session, actor, "recommendation", new_id, seed.citations)
        for o in seed.obstacles:
            catalog_records.link(session, actor=actor, recommendation_id=new_id, obstacle_id=obstacle_ids[o])
        for i in seed.institutions:
            catalog_records.link(
                session, actor=actor, recommendation_id=new_id, institution_id=institution_ids[i]
            )
        new_recs.append(seed)
        report.added["recommendations"] += 1
    session.flush()

    # institutions may name the recommendations that concern them, too
    for inst_key, inst in catalog.institutions.items():
        for rkey in inst.recommendations:
            rec_id = cast(
                int, session.exec(select(Recommendation.id).where(Recommendation.key == rkey)).one()
            )
            catalog_records.link(
                session, actor=actor, recommendation_id=rec_id, institution_id=institution_ids[inst_key]
            )

    session.flush()

    have_evidence = _existing_keys(session, EvidenceItem)
    claims: dict[str, list[tuple[date, str, str]]] = {}
    for key, ev in sorted(catalog.evidence.items()):
        # undated evidence is known only to have been reported by the source's publication
        src = ev.citations[0].source
        observed, precision = parse_partial_date(ev.observed) if ev.observed else (published[src], "none")
        if ev.status_claim:
            claim_day = claimed_on(ev.observed, ev.citations[0]) if ev.observed else observed
            for rkey in ev.recommendations:
                c = ev.citations[0]
                claims.setdefault(rkey, []).append(
                    (claim_day, ev.status_claim, f"{ev.title} ({c.source}, {c.section}, lines {c.lines})")
                )
        if key in have_evidence:
            continue
        added = attach_evidence(
            session,
            keys=ev.recommendations,
            actor=actor,
            key=key,
            status_claim=ev.status_claim,
            evidence=EvidenceCreate(
                title=ev.title,
                summary=ev.summary,
                observed_on=observed if ev.observed else None,
                kind="source_report",
            ),
            citations=[_cite(c) for c in ev.citations],
            effective_at=_at(observed),
            reason="evidence reported in the source library",
        )
        added.observed_precision = precision
        report.added["evidence items"] += 1

    for seed in new_recs:
        if seed.seeded_status:
            seeded = seed.seeded_status
            c = seeded.citations[0]
            as_of, precision = parse_partial_date(seeded.as_of)
            # the passage that supports the status is itself evidence, recorded as such
            basis = attach_evidence(
                session,
                keys=[seed.key],
                actor=actor,
                key=f"{seed.key[:66]}-status-basis",
                status_claim=seeded.status,
                evidence=EvidenceCreate(
                    title=f"Status reported by {c.source[:4]} source",
                    summary=seeded.note,
                    observed_on=as_of,
                    kind="source_report",
                ),
                citations=[_cite(x) for x in seeded.citations],
                effective_at=_at(as_of),
                reason="the source passage that supports the seeded status",
            )
            basis.observed_precision = precision
            report.added["evidence items"] += 1
            claims.setdefault(seed.key, []).append(
                (
                    claimed_on(seeded.as_of, c),
                    seeded.status,
                    f"{seeded.note} ({c.source}, {c.section}, lines {c.lines})",
                )
            )
    new_keys = {s.key for s in new_recs}
    for rkey, rec_claims in sorted(claims.items()):
        if rkey not in new_keys:
            continue  # never move a record a user may have edited
        for when, status, why in sorted(rec_claims):
            rec = get_recommendation(session, rkey)
            if rec.status == status:
                continue  # a second source reporting the same status adds evidence, not a move
            steps = lifecycle.path_to(rec.status, status)
            for step in steps:
                reason = REPORTED + why if step == status else IMPLIED + f"{status}: {why}"
                rec = update_recommendation(
                    session,
                    key=rkey,
                    actor=actor,
                    effective_at=_at(when),
                    change=RecommendationUpdate(
                        expected_version=rec.version, status=step, reason=reason[:4000]
                    ),
                )
            report.added["seeded status moves"] += 1

    mark_priority(session, catalog, actor, published, report.added)

    have_ind = _existing_keys(session, Indicator)
    for key, ind in sorted(catalog.indicators.items(), key=lambda kv: (kv[1].parent is not None, kv[0])):
        if key not in have_ind:
            indicator = catalog_records.add_row(
                session, actor=actor, row=Indicator(**ind.model_dump(exclude={"values", "parent"}))
            )
            have_ind[key] = cast(int, indicator.id)
            report.added["indicators"] += 1
    for key, ind in catalog.indicators.items():
        if ind.parent:
            catalog_records.set_indicator_parent(
                session, actor=actor, indicator_id=have_ind[key], parent_id=have_ind[ind.parent]
            )
    have_values = set(
        session.exec(
            select_row(
                IndicatorValue.indicator_id,
                IndicatorValue.period,
                IndicatorValue.country,
                IndicatorValue.source_id,
                IndicatorValue.line_start,
            )
        ).all()
    )
    for key, ind in sorted(catalog.indicators.items()):
        for v in ind.values:
            country = v.country or ind.country
            ident = (have_ind[key], v.period, country, v.citation.source, v.citation.line_start)
            if ident in have_values:
                continue
            have_values.add(ident)
            cited = _cite(v.citation)
            catalog_records.add_indicator_value(
                session,
                actor=actor,
                value=IndicatorValue(
                    indicator_id=have_ind[key],
                    period=v.period,
                    year=v.year,
                    value=v.value,
                    country=country,
                    note=v.note,
                    conflict_note=v.conflict_note,
                    **cited,
                ),
            )
            report.added["indicator values"] += 1

    have_events = _existing_keys(session, TimelineEvent)
    for key, event in sorted(catalog.events.items()):
        if key in have_events:
            continue
        d, precision = parse_partial_date(event.date)
        catalog_records.add_timeline_event(
            session,
            actor=actor,
            citations=[_cite(c) for c in event.citations],
            event=TimelineEvent(
                key=key,
                occurred_on=d,
                precision=precision,
                title=event.title,
                summary=event.summary,
                country=event.country,
                category=event.category,
            ),
        )
        report.added["timeline events"] += 1

    if report.changed:
        catalog_records.record_seed(session, actor=actor, requested_by=requested_by, added=dict(report.added))
    session.flush()
    return report
