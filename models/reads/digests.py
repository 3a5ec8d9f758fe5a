"""Digests: what each owner (and each verifier) should look at today, for the "My items" page and
the daily reminder.

Who gets a digest
-----------------
* **An owning office** (the ``Recommendation.owner`` string, e.g. ``"OSD Policy"``) gets one
  digest of its *open* recommendations:

  - ``overdue``: the target date is before ``today`` (``days`` = days overdue);
  - ``due_soon``: the target date is ``today`` or within the next 30 days (``days`` = days left);
  - ``stale``: no recorded change for ``settings.stale_after_days`` days or more (``days`` = days
    since the last change): the latest effective date of the recommendation's events, counting
    only those on or before ``today``, so a digest for a past day reads as it would have on that
    day, and a recommendation that did not exist yet is never stale. This is the Overview's
    meaning too (:func:`models.reads.figures.summary`); the row's ``updated_at`` (when it was last
    written, e.g. by the catalog loader) is not a change anyone reported;
  - ``overdue_steps``: steps of its open recommendations' action plans that are past their due
    date and neither done nor dropped (one item per step, ``days`` = days overdue, ``note`` names
    the step), from :func:`models.reads.plans.overdue_steps`;
  - ``awaiting_verification``: closures waiting for a verifier *in that office*, i.e. the union of
    :func:`models.rules.closure.pending_for_verifier` over the enabled users whose ``office`` equals the
    owner (``days`` = days since the proposal). A verifier never sees their own proposal, so a
    proposal appears here only if someone else in the office can verify it.

  It goes to the e-mail addresses of the enabled users whose ``office`` equals the owner.
* **A verifier without an office** (an auditor or admin, or a user flagged ``can_verify``) gets a
  personal digest keyed by their *username* (``Digest.kind == "verifier"``) listing only the
  closures waiting for their verification, sent to their own address. A verifier *with* an office
  is served by the office digest instead, so nobody gets the same item twice.

Digests with no items are not produced. :func:`digest_for` and :func:`digest_for_user` give the
"My items" page its data; :func:`digests` gives every digest for a day.

Sending them is :mod:`models.workflow.reminders`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import cast, overload

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.reads.plans import overdue_steps
from models.rules.closure import pending_for_verifier
from models.rules.lifecycle import OPEN
from models.rules.permissions import can
from models.store.settings import get_settings
from models.store.tables import AuditEvent, ClosureProposal, Recommendation, User

DUE_SOON_DAYS = 30


@dataclass(frozen=True)
class DigestItem:
    key: str
    title: str
    status: str
    target_date: date | None
    days: int
    note: str = ""
    # so a page or mail can say "No status claimed" and "(inferred)" as the Recommendations list
    # does; how the item reads, not which item it is (equality ignores them)
    kind: str = field(default="", compare=False)
    owner: str = field(default="", compare=False)
    owner_inferred: bool = field(default=False, compare=False)


def _item(rec: Recommendation, days: int, note: str = "") -> DigestItem:
    return DigestItem(
        rec.key, rec.title, rec.status, rec.target_date, days, note, rec.kind, rec.owner, rec.owner_inferred
    )


@dataclass
class Digest:
    owner: str  # the owning office, or a verifier's username when kind == "verifier"
    today: date
    kind: str = "office"  # office | verifier
    overdue: list[DigestItem] = field(default_factory=list)
    due_soon: list[DigestItem] = field(default_factory=list)
    stale: list[DigestItem] = field(default_factory=list)
    overdue_steps: list[DigestItem] = field(default_factory=list)
    awaiting_verification: list[DigestItem] = field(default_factory=list)

    @property
    def key(self) -> str:
        """What the reminder log and file names use: the office, or ``user:<username>``."""
        return self.owner if self.kind == "office" else f"user:{self.owner}"

    @property
    def label(self) -> str:
        return self.owner if self.kind == "office" else f"{self.owner} (verifier)"

    @property
    def total(self) -> int:
        return (
            len(self.overdue)
            + len(self.due_soon)
            + len(self.stale)
            + len(self.overdue_steps)
            + len(self.awaiting_verification)
        )

    def __bool__(self) -> bool:  # an empty digest is not worth sending
        return self.total > 0


@overload
def _aware(value: None) -> None: ...
@overload
def _aware(value: datetime | str) -> datetime: ...
def _aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _end_of(today: date) -> datetime:
    return datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC)


def _open_items(session: Session, today: date, owner: str | None = None) -> dict[str, Digest]:
    """Overdue, due-soon and stale items of every owner (or one), by owner."""
    end = _end_of(today)
    stale_after = get_settings().stale_after_days
    touched = (
        select(AuditEvent.record_key, func.max(AuditEvent.effective_at).label("at"))
        .where(AuditEvent.record_type == "recommendation", AuditEvent.effective_at < end)
        .group_by(AuditEvent.record_key)
        .subquery()
    )
    q = (
        select(Recommendation, touched.c.at)
        .join(touched, touched.c.record_key == Recommendation.key, isouter=True)
        .where(col(Recommendation.status).in_(OPEN))
        .order_by(Recommendation.owner, Recommendation.key)
    )
    if owner is not None:
        q = q.where(Recommendation.owner == owner)
    out: dict[str, Digest] = {}
    for rec, event_at in session.exec(q):
        d = out.setdefault(rec.owner, Digest(owner=rec.owner, today=today))
        if rec.target_date is not None:
            left = (rec.target_date - today).days
            if left < 0:
                d.overdue.append(_item(rec, -left))
            elif left <= DUE_SOON_DAYS:
                d.due_soon.append(_item(rec, left))
        last = _aware(event_at)
        if last is not None and last < end:
            idle = (today - last.date()).days
            if idle >= stale_after:
                d.stale.append(_item(rec, idle, note=f"last updated {last.date().isoformat()}"))
    late = overdue_steps(session, today=today, owner=owner)  # oldest due date first
    recs = {
        r.key: r
        for r in (
            session.exec(select(Recommendation).where(col(Recommendation.key).in_({k for k, _ in late})))
            if late
            else ()
        )
    }
    for key, step in late:
        rec = recs[key]
        due = cast(date, step.due_date)  # overdue steps all have a due date
        office = f", {step.office}" if step.office else ""
        out.setdefault(rec.owner, Digest(owner=rec.owner, today=today)).overdue_steps.append(
            _item(
                rec,
                (today - due).days,
                note=f"step {step.position}: {step.title}{office}, due {due.isoformat()}",
            )
        )
    for d in out.values():
        d.overdue.sort(key=lambda i: (-i.days, i.key))
        d.due_soon.sort(key=lambda i: (i.days, i.key))
        d.stale.sort(key=lambda i: (-i.days, i.key))
    return out


def _awaiting(session: Session, verifiers: list[User], today: date) -> list[DigestItem]:
    seen: dict[int | None, tuple[ClosureProposal, Recommendation]] = {}
    for user in verifiers:
        for proposal, rec in pending_for_verifier(session, user):
            seen.setdefault(proposal.id, (proposal, rec))
    items = []
    for proposal, rec in sorted(seen.values(), key=lambda pr: (_aware(pr[0].proposed_at), pr[1].key)):
        proposed = _aware(proposal.proposed_at)
        items.append(
            _item(
                rec,
                max((today - proposed.date()).days, 0),
                note=f"closure as {proposal.target_status} proposed by {proposal.proposed_by} "
                f"on {proposed.date().isoformat()}",
            )
        )
    return items


def _active_users(session: Session) -> list[User]:
    return list(
        session.exec(
            select(User)
            .where(User.disabled == False, User.role != "system")  # noqa: E712
            .order_by(User.username)
        ).all()
    )


def _is_verifier(user: User) -> bool:
    return can(user, "closure.verify")


def digest_for(session: Session, owner: str, today: date) -> Digest:
    """One office's digest for ``today`` (possibly empty)."""
    digest = _open_items(session, today, owner).get(owner) or Digest(owner=owner, today=today)
    office_users = [u for u in _active_users(session) if u.office == owner]
    digest.awaiting_verification = _awaiting(session, office_users, today)
    return digest


def digest_for_user(session: Session, user: User, today: date) -> Digest:
    """What the "My items" page shows a signed-in user: their office's digest, or, for a verifier
    without an office, the closures waiting for them; otherwise an empty digest."""
    if user.office:
        return digest_for(session, user.office, today)
    digest = Digest(owner=user.username, today=today, kind="verifier")
    if not user.disabled and _is_verifier(user):
        digest.awaiting_verification = _awaiting(session, [user], today)
    return digest


def digests(session: Session, today: date) -> list[Digest]:
    """Every non-empty digest for ``today``: offices by name, then verifiers by username."""
    by_owner = _open_items(session, today)
    users = _active_users(session)
    offices = {u.office for u in users if u.office and _is_verifier(u)}
    for office in offices:
        items = _awaiting(session, [u for u in users if u.office == office], today)
        if items:
            by_owner.setdefault(office, Digest(owner=office, today=today)).awaiting_verification = items
    out = [d for _, d in sorted(by_owner.items()) if d]
    for user in users:
        if not user.office and _is_verifier(user):
            d = Digest(
                owner=user.username,
                today=today,
                kind="verifier",
                awaiting_verification=_awaiting(session, [user], today),
            )
            if d:
                out.append(d)
    return out
