"""A recommendation's action plan: steps with a responsible office, a due date and a status, and
the progress derived from them.

Progress is derived BY COUNT: done steps / (all steps - dropped steps), rounded to a whole percent,
until an officer sets progress by hand (``Recommendation.progress_explicit``); from then on the
officer's figure stands until :func:`use_step_progress` hands it back to the steps. Every step
change is the recommendation's event (its version moves) and carries the progress it caused, so
"as of" replays progress like any other field.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import func
from sqlmodel import Session, select

from models.rules.permissions import require
from models.rules.recommendations import _check_reason
from models.rules.records import evidence_supporting, get_recommendation, record_change, stale_version
from models.store.errors import InvalidInput, NotFound
from models.store.schemas import StepCreate, StepUpdate
from models.store.tables import ActionStep, Recommendation, User, utcnow

STEP_FIELDS = ("title", "office", "due_date", "status")
#: steps still to do: past their due date they are overdue (My items, reminders)
OPEN_STEP = ("not_started", "in_progress")


def progress_from_steps(statuses: list[str]) -> int | None:
    """Done / (all - dropped) as a whole percent; None when no step counts."""
    counted = [s for s in statuses if s != "dropped"]
    if not counted:
        return None
    return round(100 * sum(s == "done" for s in counted) / len(counted))


def _derive(session: Session, rec: Recommendation) -> int | None:
    """The progress the steps give, or None when the officer's own figure stands or no step counts."""
    if rec.progress_explicit:
        return None
    statuses = session.exec(select(ActionStep.status).where(ActionStep.recommendation_id == rec.id)).all()
    return progress_from_steps(list(statuses))


def _event(
    session: Session,
    rec: Recommendation,
    *,
    actor: User,
    action: str,
    reason: str,
    before: dict,
    after: dict,
    effective_at: datetime | None,
) -> None:
    progress = _derive(session, rec)
    if progress is not None and progress != rec.progress:
        before, after = {**before, "progress": rec.progress}, {**after, "progress": progress}
        rec.progress = progress
    record_change(
        session,
        rec,
        actor=actor,
        action=action,
        reason=reason,
        before=before,
        after=after,
        effective_at=effective_at,
    )


def _check_evidence(session: Session, rec: Recommendation, evidence_key: str | None):
    if not evidence_key:
        return None
    return evidence_supporting(session, rec, evidence_key)


def _snapshot(step: ActionStep) -> dict:
    return {f: getattr(step, f) for f in STEP_FIELDS}


def add_step(
    session: Session,
    *,
    key: str,
    step: StepCreate,
    actor: User,
    reason: str,
    evidence_key: str | None = None,
    expected_version: int | None = None,
    effective_at: datetime | None = None,
) -> ActionStep:
    reason = _check_reason(reason)
    rec = get_recommendation(session, key)
    require(actor, "recommendation.update", rec)
    if expected_version is not None and rec.version != expected_version:
        raise stale_version(session, rec, expected_version)
    ev = _check_evidence(session, rec, evidence_key)
    last = session.exec(
        select(func.max(ActionStep.position)).where(ActionStep.recommendation_id == rec.id)
    ).one()
    row = ActionStep(
        recommendation_id=cast(int, rec.id),
        position=(last or 0) + 1,
        evidence_id=ev.id if ev else None,
        updated_by=actor.username,
        **step.model_dump(),
    )
    session.add(row)
    session.flush()
    _event(
        session,
        rec,
        actor=actor,
        action="step_added",
        reason=reason,
        before={"step": row.position},
        after={"step": row.position, **_snapshot(row), "evidence": ev.key if ev else None},
        effective_at=effective_at,
    )
    return row


def update_step(
    session: Session,
    *,
    key: str,
    position: int,
    change: StepUpdate,
    actor: User,
    evidence_key: str | None = None,
    effective_at: datetime | None = None,
) -> ActionStep:
    """Change one step (its status, due date, office or title); ``change.expected_version`` is the
    step's version, so two officers updating the same step are told rather than overwritten."""
    rec = get_recommendation(session, key)
    require(actor, "recommendation.update", rec)
    row = session.exec(
        select(ActionStep).where(ActionStep.recommendation_id == rec.id, ActionStep.position == position)
    ).first()
    if row is None:
        raise NotFound(f"{rec.key!r} has no step {position}; `rectrack show {rec.key}` lists its steps")
    if row.version != change.expected_version:
        raise InvalidInput(
            f"step {position} of {rec.key!r} was changed by {row.updated_by} while you were editing "
            f"(you had version {change.expected_version}, it is now {row.version}); nothing was saved, "
            "reload and apply your change again"
        )
    ev = _check_evidence(session, rec, evidence_key)
    requested = change.model_dump(exclude_unset=True, exclude={"expected_version", "reason"})
    before = _snapshot(row)
    diff = {k: v for k, v in requested.items() if before.get(k) != v}
    if not diff and ev is None:
        raise InvalidInput("nothing to change: the values given are the ones already saved")
    for k, v in diff.items():
        setattr(row, k, v)
    if ev is not None:
        row.evidence_id = ev.id
    row.version += 1
    row.updated_at = utcnow()
    row.updated_by = actor.username
    session.add(row)
    session.flush()
    _event(
        session,
        rec,
        actor=actor,
        action="step_changed",
        reason=change.reason,
        before={"step": position, **{k: before[k] for k in diff}, "step_version": row.version - 1},
        after={
            "step": position,
            **diff,
            "evidence": ev.key if ev else None,
            "step_version": row.version,
        },
        effective_at=effective_at,
    )
    return row


def use_step_progress(session: Session, *, key: str, actor: User, reason: str) -> Recommendation:
    """Hand progress back to the steps after an officer had set it by hand."""
    reason = _check_reason(reason)
    rec = get_recommendation(session, key)
    require(actor, "recommendation.update", rec)
    if not rec.progress_explicit:
        raise InvalidInput(f"{rec.key!r} already takes its progress from its steps")
    rec.progress_explicit = False
    _event(
        session,
        rec,
        actor=actor,
        action="progress_from_steps",
        reason=reason,
        before={"progress_explicit": True},
        after={"progress_explicit": False},
        effective_at=None,
    )
    return rec
