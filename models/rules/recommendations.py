"""The one write path for recommendations and their evidence.

Every function here runs inside the caller's :func:`models.store.db.write_session`, checks the
actor's permission, checks the lifecycle rule, bumps the row version and appends the audit
event, so a change either happens whole with its trail or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import cast

from sqlmodel import Session, col, select

from models.rules import lifecycle
from models.rules.evidence_files import slug
from models.rules.offices import check_owner
from models.rules.permissions import is_seeding, require
from models.rules.records import evidence_count, get_recommendation, pending_closure, stale_version
from models.store.errors import DuplicateEvidence, InvalidInput, NotFound
from models.store.schemas import EvidenceCreate, RecommendationCreate, RecommendationUpdate
from models.store.tables import (
    Citation,
    EvidenceFile,
    EvidenceItem,
    EvidenceLink,
    Recommendation,
    Source,
    User,
    utcnow,
)
from models.trail.chain import append_event

TRACKED_FIELDS = ("status", "owner", "target_date", "progress", "priority", "close_plan")


def _check_reason(reason: str | None) -> str:
    """Every write path needs a reason a person can read back; the same rule as the schemas'."""
    from pydantic import TypeAdapter, ValidationError

    from models.store.schemas import Reason

    try:
        TypeAdapter(Reason).validate_python(reason)
        return cast(str, reason)  # stored exactly as given (the check refuses None)
    except ValidationError as e:
        raise InvalidInput(f"reason: {e.errors()[0]['msg']}; say why in a sentence") from None


def _check_citation(cite: dict) -> dict:
    """A citation as typed on a form or read from a seed file, held to the schema's one-line rules."""
    from pydantic import ValidationError

    from models.store.schemas import CitationIn

    try:
        checked = CitationIn.model_validate(
            {k: cite.get(k) for k in ("source_id", "section", "line_start", "line_end")}
        )
    except ValidationError as e:
        err = e.errors()[0]
        raise InvalidInput(f"citation {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    return {**cite, "section": checked.section}


def create_recommendation(
    session: Session,
    *,
    data: RecommendationCreate,
    actor: User,
    reason: str,
    origin: str = "user",
    effective_at: datetime | None = None,
) -> Recommendation:
    require(actor, "recommendation.create")
    reason = _check_reason(reason)
    if data.primary_source_id and not session.get(Source, data.primary_source_id):
        raise InvalidInput(f"primary_source_id: no source {data.primary_source_id!r} in the library")
    if session.exec(select(Recommendation.id).where(Recommendation.key == data.key)).first():
        raise InvalidInput(f"key {data.key!r} is already in use; choose another key")
    parent_id = None
    if data.parent_key:
        parent_id = get_recommendation(session, data.parent_key).id
    fields = data.model_dump(exclude={"key", "parent_key"})
    rec = Recommendation(
        key=data.key, parent_id=parent_id, origin=origin, updated_by=actor.username, **fields
    )
    session.add(rec)
    session.flush()
    append_event(
        session,
        actor=actor.username,
        action="create",
        record_type="recommendation",
        record_key=rec.key,
        reason=reason,
        after={**data.model_dump(mode="json"), "status": rec.status, "version": rec.version},
        status_after=rec.status,
        effective_at=effective_at,
    )
    return rec


def _snapshot(rec: Recommendation) -> dict:
    return {f: getattr(rec, f) for f in TRACKED_FIELDS}


def update_recommendation(
    session: Session,
    *,
    key: str,
    change: RecommendationUpdate,
    actor: User,
    effective_at: datetime | None = None,
) -> Recommendation:
    rec = get_recommendation(session, key)
    require(actor, "recommendation.update", rec)
    if rec.version != change.expected_version:
        raise stale_version(session, rec, change.expected_version)
    requested = change.model_dump(exclude_unset=True, exclude={"expected_version", "reason"})
    if "close_plan" in requested and not requested["close_plan"]:
        requested["close_plan"] = None  # a blank statement clears it
    if requested.get("priority") is None:
        requested.pop("priority", None)  # the flag is set or cleared, never unknown
    if requested.get("owner") is not None:
        requested["owner"] = check_owner(session, requested["owner"])  # one office, one spelling
    before = _snapshot(rec)
    diff = {k: v for k, v in requested.items() if before.get(k) != v}
    if not diff:
        raise InvalidInput("nothing to change: the values given are the ones already saved")
    if "owner" in diff and rec.owner_inferred and actor.role != "system":
        # an officer's assignment is a decision, not the catalog's inference from the text (the
        # catalog's own respelling of an office keeps the mark)
        before["owner_inferred"], diff["owner_inferred"] = True, False
    action = "update"
    if "status" in diff:
        lifecycle.check_transition(
            rec.status, diff["status"], reason=change.reason, evidence_count=evidence_count(session, rec.id)
        )
        if diff["status"] in lifecycle.CLOSED and not (actor.role == "system" and is_seeding()):
            raise lifecycle.RuleViolation(
                "closing needs verification: propose the closure (it then waits for an auditor or a "
                "designated verifier other than you to accept it)"
            )
        if pending_closure(session, rec.id):
            raise lifecycle.RuleViolation(
                "a closure proposal is waiting for verification; it must be accepted or returned first"
            )
        action = "reopen" if lifecycle.is_reopening(rec.status, diff["status"]) else "status_change"
    elif "priority" in diff:
        action = "priority_change"  # leadership's list moved: who, when and why stay in this event
    for k, v in diff.items():
        setattr(rec, k, v)
    if "progress" in diff:
        rec.progress_explicit = True  # the officer's figure now stands over the steps' (models.rules.steps)
    rec.version += 1
    rec.updated_at = utcnow()
    rec.updated_by = actor.username
    session.add(rec)
    append_event(
        session,
        actor=actor.username,
        action=action,
        record_type="recommendation",
        record_key=rec.key,
        reason=change.reason,
        before={**{k: before[k] for k in diff}, "version": rec.version - 1},
        after={**diff, "version": rec.version},
        status_before=before["status"],
        status_after=rec.status,
        effective_at=effective_at,
    )
    session.flush()
    return rec


def _unique_evidence_key(session: Session, base: str) -> str:
    key, n = base[:80], 1
    while session.exec(select(EvidenceItem.id).where(EvidenceItem.key == key)).first():
        n += 1
        key = f"{base[:74]}-{n}"
    return key


def _refuse_duplicate_files(session: Session, recs, files, *, replacing: EvidenceItem | None) -> None:
    """Saving the same file twice made two evidence items that count as two; a file already attached
    to one of these recommendations is refused, naming the item that holds it (a superseding item may
    carry the files of the item it replaces)."""
    by_hash = {f["sha256"]: f for f in files}
    if not by_hash:
        return
    q = (
        select(EvidenceFile.sha256, EvidenceItem.key, EvidenceItem.id, Recommendation.key)
        .join(EvidenceItem, col(EvidenceItem.id) == EvidenceFile.evidence_id)
        .join(EvidenceLink, col(EvidenceLink.evidence_id) == EvidenceItem.id)
        .join(Recommendation, col(Recommendation.id) == EvidenceLink.recommendation_id)
        .where(col(EvidenceFile.sha256).in_(list(by_hash)), col(Recommendation.id).in_([r.id for r in recs]))
    )
    for sha, ev_key, ev_id, rec_key in session.exec(q):
        if replacing is not None and ev_id == replacing.id:
            continue
        name = by_hash[sha]["filename"]
        raise DuplicateEvidence(
            f"{name} is already evidence for {rec_key} (item {ev_key}, same SHA-256 {sha[:12]}…); "
            "nothing was saved. Open that item instead of attaching the file again.",
            recommendation=rec_key,
            evidence=ev_key,
            filename=name,
        )


def attach_evidence(
    session: Session,
    *,
    keys: list[str],
    evidence: EvidenceCreate,
    actor: User,
    reason: str,
    files: Sequence[dict] = (),
    citations: Sequence[dict] = (),
    key: str | None = None,
    status_claim: str | None = None,
    effective_at: datetime | None = None,
    supersedes: EvidenceItem | None = None,
) -> EvidenceItem:
    """Record an evidence item supporting one or more recommendations.

    ``files`` are the dicts :func:`models.rules.evidence_files.store_file` returns (already stored);
    ``citations`` are source passages ``{source_id, section, line_start, line_end}``.
    """
    reason = _check_reason(reason)
    if not files and not citations:
        raise InvalidInput("evidence needs a file or a citation")
    citations = [_check_citation(c) for c in citations]
    recs = [get_recommendation(session, k) for k in keys]
    if not recs:
        raise InvalidInput("evidence must support at least one recommendation")
    for rec in recs:
        require(actor, "evidence.attach", rec)
    _refuse_duplicate_files(session, recs, files, replacing=supersedes)
    item = EvidenceItem(
        key=key or _unique_evidence_key(session, f"ev-{slug(evidence.title)}"),
        created_by=actor.username,
        status_claim=status_claim,
        supersedes_id=supersedes.id if supersedes else None,
        **evidence.model_dump(),
    )
    action = "evidence_supersede" if supersedes else "evidence_add"
    session.add(item)
    session.flush()
    for rec in recs:
        session.add(EvidenceLink(evidence_id=cast(int, item.id), recommendation_id=cast(int, rec.id)))
    for f in files:
        session.add(EvidenceFile(evidence_id=cast(int, item.id), **f))
    for c in citations:
        session.add(Citation(record_type="evidence", record_id=cast(int, item.id), **c))
    session.flush()
    if effective_at is None and item.observed_on is not None:
        effective_at = min(datetime.combine(item.observed_on, time(), tzinfo=UTC), utcnow())
    append_event(
        session,
        actor=actor.username,
        action=action,
        record_type="evidence",
        record_key=item.key,
        reason=reason,
        effective_at=effective_at,
        after={
            "recommendations": [r.key for r in recs],
            "title": item.title,
            "kind": item.kind,
            "supersedes": supersedes.key if supersedes else None,
            "observed_on": item.observed_on,
            "files": [{"name": f["filename"], "sha256": f["sha256"]} for f in files],
            "citations": list(citations),
        },
    )
    return item


def supersede_evidence(
    session: Session,
    *,
    old_key: str,
    evidence: EvidenceCreate,
    actor: User,
    reason: str,
    files: Sequence[dict] = (),
    citations: Sequence[dict] = (),
) -> EvidenceItem:
    """Correct an evidence item without editing it: a new item replaces it for the same
    recommendations; both stay in the trail, and only the new one counts from now on."""
    old = session.exec(select(EvidenceItem).where(EvidenceItem.key == old_key)).first()
    if old is None:
        raise NotFound(f"no evidence item with key {old_key!r}")
    if session.exec(select(EvidenceItem.id).where(EvidenceItem.supersedes_id == old.id)).first():
        raise InvalidInput(
            f"evidence {old_key!r} has already been superseded; correct the newer item instead"
        )
    keys = session.exec(
        select(Recommendation.key)
        .join(EvidenceLink, col(EvidenceLink.recommendation_id) == Recommendation.id)
        .where(EvidenceLink.evidence_id == old.id)
    ).all()
    return attach_evidence(
        session,
        keys=list(keys),
        evidence=evidence,
        actor=actor,
        reason=reason,
        files=files,
        citations=citations,
        supersedes=old,
    )
