"""Which pages a role sees. The pages check again (a URL typed by hand still meets a refusal)."""

from __future__ import annotations

from models.permissions import can
from models.tables import User

ALL_PAGES = ("overview", "recommendations", "update", "obstacles", "indicators", "timeline", "trail")


def page_names_for(user: User) -> list[str]:
    """viewer: overview, recommendations, obstacles, indicators, timeline; editor: + update;
    auditor: + evidence trail; admin: all."""
    names = []
    for name in ALL_PAGES:
        if name == "update" and not can(user, "recommendation.update"):
            continue
        if name == "trail" and not can(user, "trail.export"):
            continue
        if name not in ("update", "trail") and not can(user, "read"):
            continue
        names.append(name)
    return names
