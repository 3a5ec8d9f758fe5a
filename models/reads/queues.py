"""Work queues: a recommendation's closure state, closures awaiting a verifier, and "My items"."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from models.rules.records import get_recommendation


def _proposal(p, key: str | None = None, title: str | None = None) -> dict:
    return {
        "id": p.id,
        "key": key,
        "title": title,
        "target": p.target_status,
        "state": p.state,
        "proposed_by": p.proposed_by,
        "proposed_at": p.proposed_at,
        "reason": p.reason,
        "decided_by": p.decided_by,
        "decided_at": p.decided_at,
        "decision_reason": p.decision_reason,
    }


def closure_state(session: Session, key: str) -> dict:
    """One recommendation's closure: the proposal waiting for verification (or None) and the
    latest decided one (or None), as plain data."""
    from models.store.tables import ClosureProposal

    rec = get_recommendation(session, key)
    rows = session.exec(
        select(ClosureProposal)
        .where(ClosureProposal.recommendation_id == rec.id)
        .order_by(col(ClosureProposal.id).desc())
    ).all()
    pending = next((p for p in rows if p.state == "pending"), None)
    decided = next((p for p in rows if p.state in ("accepted", "returned")), None)
    return {
        "pending": _proposal(pending, rec.key, rec.title) if pending else None,
        "last_decided": _proposal(decided, rec.key, rec.title) if decided else None,
    }


def closure_queue(session: Session, username: str) -> list[dict]:
    """The closures ``username`` may verify now (never their own), oldest first, each with its
    recommendation and the evidence in force (files with SHA-256 and stored path, citations)."""
    from models.rules.closure import evidence_in_force, pending_for_verifier
    from models.rules.users import get_user
    from models.store.tables import EvidenceFile

    user = get_user(session, username)
    out = []
    for proposal, rec in pending_for_verifier(session, user):
        evidence = evidence_in_force(session, rec.id)
        shas = sorted({f["sha256"] for e in evidence for f in e["files"]})
        paths = (
            dict(
                session.exec(
                    select(EvidenceFile.sha256, EvidenceFile.stored_path).where(
                        col(EvidenceFile.sha256).in_(shas)
                    )
                ).all()
            )
            if shas
            else {}
        )
        for e in evidence:
            for f in e["files"]:
                f["stored_path"] = paths.get(f["sha256"])
        out.append(
            {
                **_proposal(proposal, rec.key, rec.title),
                "status": rec.status,
                "owner": rec.owner,
                "owner_inferred": rec.owner_inferred,
                "kind": rec.kind,
                "version": rec.version,
                "evidence": evidence,
            }
        )
    return out


def my_items(session: Session, username: str, today: date) -> dict:
    """The "My items" digest of a user (:func:`models.reads.digests.digest_for_user`) as plain data."""
    from dataclasses import asdict

    from models.reads.digests import digest_for_user
    from models.rules.users import get_user

    d = digest_for_user(session, get_user(session, username), today)
    return {
        "owner": d.owner,
        "kind": d.kind,
        "today": d.today,
        **{
            k: [asdict(i) for i in getattr(d, k)]
            for k in ("overdue", "due_soon", "stale", "overdue_steps", "awaiting_verification")
        },
        "responsible": responsible_for(session, username, today),
    }


def responsible_for(session: Session, username: str, today: date) -> list[dict]:
    """The open records a handover named ``username`` responsible for, whatever office owns them,
    by target date (none last); ``days`` is the days since each last changed."""
    from sqlmodel import col

    from models.rules.lifecycle import CLOSED
    from models.store.db import select_row
    from models.store.tables import Recommendation as R

    rows = session.exec(
        select_row(R.key, R.title, R.status, R.target_date, R.updated_at, R.owner, R.kind, R.owner_inferred)
        .where(R.responsible == username, col(R.status).not_in(CLOSED))
        .order_by(col(R.target_date).is_(None), col(R.target_date), col(R.key))
    ).all()
    return [
        {
            "key": k,
            "title": t,
            "status": s,
            "target_date": d,
            "days": (today - u.date()).days,
            "note": "",
            "kind": kind,
            "owner": o,
            "owner_inferred": inferred,
        }
        for k, t, s, d, u, o, kind, inferred in rows
    ]
