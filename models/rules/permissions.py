"""Who may do what. Checked by every domain function, so no page or script can bypass it."""

from __future__ import annotations

from models.store.errors import PermissionDenied
from models.store.tables import Recommendation, User

ROLES = ("viewer", "editor", "auditor", "admin")

# action -> roles allowed. "system" is the catalog loader, never a person.
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset({"viewer", "editor", "auditor", "admin", "system"}),
    "recommendation.create": frozenset({"editor", "admin", "system"}),
    "recommendation.update": frozenset({"editor", "admin", "system"}),
    "evidence.attach": frozenset({"editor", "admin", "system"}),
    "obstacle.create": frozenset({"editor", "admin", "system"}),  # linking is recommendation.update
    "catalog.seed": frozenset({"admin", "system"}),
    "trail.export": frozenset({"auditor", "admin"}),
    "briefing.export": frozenset({"viewer", "editor", "auditor", "admin"}),  # the leadership briefing (PDF)
    "closure.propose": frozenset({"editor", "admin"}),
    "closure.verify": frozenset({"auditor", "admin", "system"}),  # plus users flagged can_verify
    "trail.verify": frozenset({"auditor", "admin", "system"}),
    "user.manage": frozenset({"admin", "system"}),
    "office.add": frozenset({"admin", "system"}),  # the office register owners are checked against
}


def require(user: User, action: str, rec: Recommendation | None = None) -> None:
    if user.disabled:
        raise PermissionDenied(f"user {user.username!r} is disabled")
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
