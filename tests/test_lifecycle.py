"""The transition table as users rely on it (no database needed)."""

import pytest

from models.rules.lifecycle import CLOSED, TRANSITIONS, RuleViolation, allowed_next, check_transition, path_to
from models.store.vocabulary import STATUSES


@pytest.mark.parametrize("old,new", [(o, n) for o in STATUSES for n in TRANSITIONS[o]])
def test_every_listed_move_is_allowed_with_reason_and_evidence(old, new):
    check_transition(old, new, reason="why", evidence_count=1)


@pytest.mark.parametrize(
    "old,new", [(o, n) for o in STATUSES for n in STATUSES if n not in TRANSITIONS[o] and n != o]
)
def test_every_unlisted_move_is_refused_naming_the_allowed_ones(old, new):
    with pytest.raises(RuleViolation, match="allowed moves are"):
        check_transition(old, new, reason="why", evidence_count=1)


def test_closing_as_implemented_without_evidence_is_refused():
    with pytest.raises(RuleViolation, match="needs at least one evidence item"):
        check_transition("in_progress", "implemented", reason="done", evidence_count=0)


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_change_without_a_reason_is_refused(reason):
    with pytest.raises(RuleViolation, match="reason is required"):
        check_transition("proposed", "accepted", reason=reason, evidence_count=0)


def test_an_unknown_status_is_refused_listing_the_known_ones():
    with pytest.raises(RuleViolation, match="unknown status 'done'.*proposed"):
        check_transition("proposed", "done", reason="x", evidence_count=0)


def test_closed_statuses_can_only_reopen():
    for closed in CLOSED:
        assert set(allowed_next(closed)) == {"under_review", "in_progress"}


def test_path_to_walks_only_allowed_moves():
    assert path_to("proposed", "implemented") == ["accepted", "in_progress", "implemented"]
    path = ["proposed"] + path_to("proposed", "on_hold")
    assert all(b in TRANSITIONS[a] for a, b in zip(path, path[1:]))
