"""The status lifecycle: which moves are allowed and what each move demands.

This is the only place the rules live. The write functions in :mod:`models.rules.recommendations`
call :func:`check_transition` for every path in (pages, CLI, imports, seeding), and the
update page asks :func:`allowed_next` so it offers only the moves that would succeed.
"""

from __future__ import annotations

from models.store.errors import DomainError
from models.store.schemas import has_visible_text
from models.store.vocabulary import STATUS_LABELS, STATUSES  # noqa: F401  (STATUS_LABELS re-exported)

OPEN = ("proposed", "under_review", "accepted", "in_progress", "on_hold")
CLOSED = ("implemented", "not_implemented")

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "proposed": ("under_review", "accepted", "not_implemented"),
    "under_review": ("accepted", "not_implemented"),
    "accepted": ("in_progress", "on_hold", "not_implemented"),
    "in_progress": ("on_hold", "implemented", "not_implemented"),
    "on_hold": ("in_progress", "not_implemented"),
    "implemented": ("under_review", "in_progress"),
    "not_implemented": ("under_review", "in_progress"),
}


class RuleViolation(DomainError):
    """A change the lifecycle refuses; the message tells the user what to do instead."""


def allowed_next(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def is_reopening(old: str, new: str) -> bool:
    return old in CLOSED and new in OPEN


def check_transition(old: str, new: str, *, reason: str | None, evidence_count: int) -> None:
    if new not in STATUSES:
        raise RuleViolation(f"unknown status {new!r}; use one of: {', '.join(STATUSES)}")
    if not has_visible_text(reason):
        raise RuleViolation(
            "a reason is required for every change (visible text, not only spaces or invisible "
            "characters); say why in a sentence"
        )
    if new == old:
        raise RuleViolation(f"the recommendation is already {new!r}")
    if new not in TRANSITIONS[old]:
        allowed = ", ".join(TRANSITIONS[old]) or "none"
        raise RuleViolation(
            f"cannot move from {old!r} to {new!r}; from {old!r} the allowed moves are: {allowed}"
        )
    if new == "implemented" and evidence_count < 1:
        raise RuleViolation(
            "closing as implemented needs at least one evidence item; attach a file or a citation first"
        )


def path_to(old: str, new: str) -> list[str]:
    """Shortest chain of allowed moves from ``old`` to ``new`` (seeding a status a source reports)."""
    if old == new:
        return []
    frontier, seen = [[old]], {old}
    while frontier:
        nxt = []
        for path in frontier:
            for step in TRANSITIONS[path[-1]]:
                if step == new:
                    return path[1:] + [step]
                if step not in seen:
                    seen.add(step)
                    nxt.append(path + [step])
        frontier = nxt
    raise RuleViolation(f"no allowed path from {old!r} to {new!r}")
