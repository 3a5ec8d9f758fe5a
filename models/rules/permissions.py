"""Who may do what. Checked by every domain function, so no page or script can bypass it.

Two identities are not people and never sign in. ``system`` is the catalog loader: it may act only
while the catalog is being loaded (inside :func:`seeding`), so no script or command can borrow it to
skip a rule. ``operator`` is whoever runs ``rectrack`` on the server with the store's URL (one row
per OS account and host, see :func:`models.rules.users.operator_user`): they can manage accounts,
seed and verify, which database access allows anyway, but never update or close a recommendation;
those need a person who signed in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from models.store.errors import PermissionDenied
from models.store.tables import Recommendation, User

ROLES = ("viewer", "editor", "auditor", "admin")
NOT_PEOPLE = frozenset({"system", "operator"})  # identities that cannot sign in

_seeding: ContextVar[bool] = ContextVar("seeding", default=False)


@contextmanager
def seeding() -> Iterator[None]:
    """The catalog loader's job: the only time the ``system`` identity may act."""
    token = _seeding.set(True)
    try:
        yield
    finally:
        _seeding.reset(token)


def is_seeding() -> bool:
    return _seeding.get()


# action -> roles allowed. "system" is the catalog loader, never a person.
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset({"viewer", "editor", "auditor", "admin", "system", "operator"}),
    "recommendation.create": frozenset({"editor", "admin", "system"}),
    "recommendation.update": frozenset({"editor", "admin", "system"}),
    "evidence.attach": frozenset({"editor", "admin", "system"}),
    "obstacle.create": frozenset({"editor", "admin", "system"}),  # linking is recommendation.update
    "catalog.seed": frozenset({"admin", "system", "operator"}),
    "trail.export": frozenset({"auditor", "admin"}),
    "briefing.export": frozenset({"viewer", "editor", "auditor", "admin"}),  # the leadership briefing (PDF)
    "closure.propose": frozenset({"editor", "admin"}),
    "closure.verify": frozenset({"auditor", "admin", "system"}),  # plus users flagged can_verify
    "trail.verify": frozenset({"auditor", "admin", "system", "operator"}),
    "user.manage": frozenset({"admin", "system", "operator"}),
    # a successor for an office's or a person's open records (models.rules.handover): a person who
    # signed in, never the operator, since it changes records
    "handover": frozenset({"admin"}),
    "office.add": frozenset(
        {"admin", "system", "operator"}
    ),  # the office register owners are checked against
}


def require(user: User, action: str, rec: Recommendation | None = None) -> None:
    if user.disabled:
        raise PermissionDenied(f"user {user.username!r} is disabled")
    if user.role == "system" and not is_seeding():
        raise PermissionDenied(
            f"{user.username!r} is the catalog loader's identity; it acts only while the catalog is loaded"
        )
    allowed = PERMISSIONS.get(action, frozenset())
    if action == "closure.verify" and user.can_verify:
        allowed = allowed | {user.role}
    if user.role not in allowed:
        raise PermissionDenied(f"{user.username!r} (role {user.role}) may not {action.replace('.', ' ')}")
    if rec is not None and user.role == "editor" and user.office and rec.owner != user.office:
        raise PermissionDenied(
            f"{user.username!r} edits for {user.office!r}; {rec.key!r} is owned by {rec.owner!r}"
        )


def can(user: User, action: str, rec: Recommendation | None = None) -> bool:
    try:
        require(user, action, rec)
    except PermissionDenied:
        return False
    return True
