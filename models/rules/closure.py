"""Verified closure: closing a recommendation takes two people.

As GAO confirms an agency's action before closing a recommendation, an editor proposes the
closure with its evidence and someone else with the right to verify (an auditor, an admin,
or a designated verifier; never the proposer) accepts it or returns it with a reason. The
evidence in force at acceptance, with its file hashes, goes into the closing event, so a
later change to the evidence cannot silently change what the closure rested on.
"""

from __future__ import annotations

from typing import Any, cast

from sqlmodel import Session, col, select

from models.rules import lifecycle
from models.rules.lifecycle import RuleViolation
from models.rules.permissions import can, require
from models.rules.records import evidence_count, get_recommendation, pending_closure, stale_version
from models.store.errors import InvalidInput, PermissionDenied
from models.store.schemas import has_visible_text
from models.store.tables import (
    Citation,
    ClosureProposal,
    EvidenceFile,
    EvidenceItem,
    EvidenceLink,
    Recommendation,
    User,
    utcnow,
)
from models.trail.chain import append_event, canonical_json


def evidence_in_force(session: Session, rec_id: int | None) -> list[dict]:
    """The recommendation's current (not superseded) evidence with file hashes and citations."""
    superseded = select(EvidenceItem.supersedes_id).where(col(EvidenceItem.supersedes_id).is_not(None))
    items = session.exec(
        select(EvidenceItem)
        .join(EvidenceLink, col(EvidenceLink.evidence_id) == EvidenceItem.id)
        .where(EvidenceLink.recommendation_id == rec_id, col(EvidenceItem.id).not_in(superseded))
        .order_by(col(EvidenceItem.id))
    ).all()
    out = []
    for item in items:
        files = session.exec(
            select(EvidenceFile).where(EvidenceFile.evidence_id == item.id).order_by(col(EvidenceFile.id))
        ).all()
        cites = session.exec(
            select(Citation).where(Citation.record_type == "evidence", Citation.record_id == item.id)
        ).all()
        out.append(
            {
                "key": item.key,
                "title": item.title,
                "observed_on": item.observed_on,
                "files": [{"name": f.filename, "sha256": f.sha256} for f in files],
                "citations": [f"{c.source_id}:{c.line_start}-{c.line_end}" for c in cites],
            }
        )
    return out


def _bump(rec: Recommendation, actor: User) -> None:
    rec.version += 1
    rec.updated_at = utcnow()
    rec.updated_by = actor.username


def propose_closure(
    session: Session, *, key: str, target: str, reason: str, expected_version: int, actor: User
) -> ClosureProposal:
    rec = get_recommendation(session, key)
    require(actor, "closure.propose", rec)
    if rec.version != expected_version:
        raise stale_version(session, rec, expected_version)
    if target not in lifecycle.CLOSED:
        raise InvalidInput(f"a closure proposal closes as implemented or not_implemented, not {target!r}")
    if pending_closure(session, rec.id):
        raise RuleViolation(f"{key!r} already has a closure waiting for verification")
    lifecycle.check_transition(
        rec.status, target, reason=reason, evidence_count=evidence_count(session, rec.id)
    )
    proposal = ClosureProposal(
        recommendation_id=cast(int, rec.id),
        target_status=target,
        proposed_by=actor.username,
        reason=reason.strip(),
    )
    session.add(proposal)
    _bump(rec, actor)
    session.add(rec)
    session.flush()
    append_event(
        session,
        actor=actor.username,
        action="closure_proposed",
        record_type="recommendation",
        record_key=key,
        reason=reason,
        before={"version": rec.version - 1},
        after={"closure_target": target, "version": rec.version},
        status_before=rec.status,
        status_after=rec.status,
    )
    return proposal


def decide_closure(session: Session, *, key: str, accept: bool, reason: str, actor: User) -> Recommendation:
    """Accept (close the recommendation) or return (it stays open, with the reason)."""
    rec = get_recommendation(session, key)
    require(actor, "closure.verify")
    proposal = pending_closure(session, rec.id)
    if proposal is None:
        raise InvalidInput(f"{key!r} has no closure waiting for verification")
    if proposal.proposed_by == actor.username:
        raise PermissionDenied("a closure must be verified by someone other than the person who proposed it")
    if not has_visible_text(reason):
        raise RuleViolation(
            "a reason is required to accept or return a closure (visible text, not only spaces or "
            "invisible characters)"
        )
    before_status = rec.status
    proposal.decided_by, proposal.decided_at, proposal.decision_reason = (
        actor.username,
        utcnow(),
        reason.strip(),
    )
    after: dict[str, Any]
    if accept:
        lifecycle.check_transition(
            rec.status, proposal.target_status, reason=reason, evidence_count=evidence_count(session, rec.id)
        )
        evidence = evidence_in_force(session, rec.id)
        proposal.state, proposal.evidence_hashes = "accepted", canonical_json(evidence)
        rec.status = proposal.target_status
        action, after = (
            "closure_accepted",
            {"status": rec.status, "evidence": evidence, "proposed_by": proposal.proposed_by},
        )
    else:
        proposal.state = "returned"
        action, after = "closure_returned", {"closure_target": None, "proposed_by": proposal.proposed_by}
    _bump(rec, actor)
    after["version"] = rec.version
    session.add_all([proposal, rec])
    session.flush()
    append_event(
        session,
        actor=actor.username,
        action=action,
        record_type="recommendation",
        record_key=key,
        reason=reason,
        before={"status": before_status, "version": rec.version - 1},
        after=after,
        status_before=before_status,
        status_after=rec.status,
    )
    return rec


def pending_for_verifier(session: Session, user: User) -> list[tuple[ClosureProposal, Recommendation]]:
    """Closures this user could verify now (never their own proposals)."""
    if not can(user, "closure.verify"):
        return []
    rows = session.exec(
        select(ClosureProposal, Recommendation)
        .join(Recommendation, col(Recommendation.id) == ClosureProposal.recommendation_id)
        .where(ClosureProposal.state == "pending", ClosureProposal.proposed_by != user.username)
        .order_by(col(ClosureProposal.proposed_at))
    ).all()
    return list(rows)
