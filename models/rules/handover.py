"""Handover: when an officer leaves, an admin names a successor for every open record an office
owns (or that the outgoing person answers for) in one audited batch.

The owner of a record stays an office; ``Recommendation.responsible`` names the person. A handover
sets it on every open record of the batch, each record with its own ``handover`` event (its
version moves, so a colleague's open form sees the change), all in the caller's one transaction:
the batch lands whole or not at all. Every event's reason is the admin's reason for the batch plus
where the batch starts in the trail and how many records it moved, so an auditor reading one
record's history can find the rest of the batch.

Records a colleague has open in a form are not a reason to stop: the optimistic version check
protects one officer's edit of one record, and a batch reads each row fresh inside the write lock,
so it never writes over a newer version. The colleague's next save of such a record is refused as
stale, naming the handover, which is what should happen.

Only an admin who signed in may do it: the operator identity manages accounts but never changes a
record, and a handover changes many.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from models.rules import lifecycle
from models.rules.offices import check_owner
from models.rules.permissions import NOT_PEOPLE, can, require
from models.rules.recommendations import _check_reason
from models.rules.records import record_change
from models.rules.users import get_person, get_user, set_office
from models.store.errors import InvalidInput
from models.store.tables import Recommendation, User
from models.trail.chain import chain_head

#: room left in an event's reason (4,000 characters) for the batch's own note
MAX_REASON = 3800


@dataclass
class HandoverResult:
    to_user: str
    office: str | None
    from_user: str | None
    reason: str
    first_seq: int  # the batch's first event: where an auditor finds it in the trail
    keys: list[str] = field(default_factory=list)  # the records moved, by key
    office_set: bool = False  # the successor's account now edits for the office

    @property
    def moved(self) -> int:
        return len(self.keys)


def batch_records(
    session: Session, *, office: str | None = None, from_user: str | None = None, to_user: str | None = None
) -> list[Recommendation]:
    """The open records a handover would move, by key: owned by ``office`` and/or answered for by
    ``from_user``, leaving out those ``to_user`` already answers for (their event would say nothing).
    The preview on the Handover page counts these, so it and the batch agree."""
    if office is None and from_user is None:
        raise InvalidInput("say whose records move: give an office, an outgoing person, or both")
    q = select(Recommendation).where(col(Recommendation.status).not_in(lifecycle.CLOSED))
    if office is not None:
        q = q.where(Recommendation.owner == office)
    if from_user is not None:
        q = q.where(Recommendation.responsible == from_user)
    if to_user is not None:
        q = q.where(col(Recommendation.responsible).is_(None) | (col(Recommendation.responsible) != to_user))
    return list(session.exec(q.order_by(Recommendation.key)).all())


def _successor(session: Session, username: str) -> User:
    if not username or not username.strip():
        raise InvalidInput("successor: name the person who takes the records over")
    if username in NOT_PEOPLE:
        raise InvalidInput(f"{username!r} is not a person's account; hand over to a person")
    user = get_person(session, username.strip())
    if user.disabled:
        raise InvalidInput(f"{user.username!r} is disabled; enable the account or pick someone else")
    if not can(user, "recommendation.update"):
        raise InvalidInput(
            f"{user.username!r} has role {user.role} and could not update the records; make them an "
            "editor first (Users page or rectrack user role)"
        )
    return user


def _empty(office: str | None, from_user: str | None, to_user: str) -> str:
    if office and from_user:
        whose = f"{from_user!r} answers for no open recommendation of {office!r}"
    elif office:
        whose = f"{office} owns no open recommendation"
    else:
        whose = f"{from_user!r} answers for no open recommendation"
    return f"{whose} that is not already handed to {to_user}; nothing was handed over"


def hand_over(
    session: Session,
    *,
    to_user: str,
    reason: str,
    actor: User,
    office: str | None = None,
    from_user: str | None = None,
) -> HandoverResult:
    """Make ``to_user`` responsible for every open record of ``office`` (or that ``from_user``
    answers for; with both, that person's records in that office), one event per record, in the
    caller's transaction. An editor taking over a whole office also edits for it from now on
    (their account's office changes, with its own event)."""
    require(actor, "handover")
    reason = _check_reason(reason)
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"reason: at most {MAX_REASON} characters for a handover; say why in brief")
    office = check_owner(session, office, field="office") if office else None
    if from_user:
        from_user = get_user(session, from_user.strip()).username
    else:
        from_user = None
    successor = _successor(session, to_user)
    if from_user == successor.username:
        raise InvalidInput(f"{from_user!r} cannot hand over to themselves; pick the successor")
    recs = batch_records(session, office=office, from_user=from_user, to_user=successor.username)
    if not recs:
        raise InvalidInput(_empty(office, from_user, successor.username))
    first_seq = chain_head(session)[0] + 1
    note = f" (handover batch from event {first_seq}: {len(recs)} record{'s' if len(recs) != 1 else ''})"
    result = HandoverResult(
        to_user=successor.username,
        office=office,
        from_user=from_user,
        reason=reason,
        first_seq=first_seq,
    )
    for rec in recs:
        before = {"responsible": rec.responsible}
        rec.responsible = successor.username
        record_change(
            session,
            rec,
            actor=actor,
            action="handover",
            reason=reason + note,
            before=before,
            after={"responsible": successor.username},
        )
        result.keys.append(rec.key)
    if office and successor.role == "editor" and successor.office != office:
        set_office(session, username=successor.username, office=office, actor=actor)
        result.office_set = True
    return result
