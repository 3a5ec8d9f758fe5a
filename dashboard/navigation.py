"""Which pages a role sees. The pages check again (a URL typed by hand still meets a refusal)."""

from __future__ import annotations

from models.rules.permissions import can
from models.store.tables import User

ALL_PAGES = (
    "overview",
    "my_items",
    "notifications",
    "recommendations",
    "update",
    "verify",
    "bulk",
    "obstacles",
    "indicators",
    "timeline",
    "trail",
    "users",
    "handover",
    "account",
)

# page -> the permission it needs (models.rules.permissions); the rest need "read"
NEEDS = {
    "update": "recommendation.update",
    "bulk": "recommendation.update",
    "verify": "closure.verify",
    "trail": "trail.export",
    "users": "user.manage",
    "handover": "handover",
}


def page_names_for(user: User) -> list[str]:
    """viewer: overview, my items, notifications, recommendations, obstacles, indicators, timeline, my account;
    editor: + update, bulk edits; auditor: + verify closures, evidence trail (verify closures also
    for a flagged verifier); admin: all, with users and handover."""
    return [name for name in ALL_PAGES if can(user, NEEDS.get(name, "read"))]
