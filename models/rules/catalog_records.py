"""The catalog loader's writes of reference records: sources, obstacles, institutions, their
citations and links, indicators and their values, timeline events, and the ``seed`` event.

These records come only from the cited catalog (``seeds/``), so the one rule here is who may load
it (``catalog.seed``: an admin, or the loader's own identity); recommendations, evidence and
statuses go through :mod:`models.rules.recommendations` like everyone else's.
"""

from __future__ import annotations

from typing import TypeVar, cast

from sqlmodel import Session, SQLModel

from models.rules.permissions import require
from models.store.tables import (
    Citation,
    Indicator,
    IndicatorValue,
    RecommendationInstitution,
    RecommendationObstacle,
    TimelineEvent,
    User,
)
from models.trail.chain import append_event

_Row = TypeVar("_Row", bound=SQLModel)


def add_row(session: Session, *, actor: User, row: _Row) -> _Row:
    """Add one reference row (a source, obstacle, institution, indicator or event) and give it an id."""
    require(actor, "catalog.seed")
    session.add(row)
    session.flush()
    return row


def add_citations(
    session: Session, *, actor: User, record_type: str, record_id: int, citations: list[dict]
) -> None:
    require(actor, "catalog.seed")
    for c in citations:
        session.add(Citation(record_type=record_type, record_id=record_id, **c))


def link(
    session: Session,
    *,
    actor: User,
    recommendation_id: int,
    obstacle_id: int | None = None,
    institution_id: int | None = None,
) -> None:
    """Link a recommendation to an obstacle that blocks it or an institution that concerns it."""
    require(actor, "catalog.seed")
    if obstacle_id is not None:
        session.add(RecommendationObstacle(recommendation_id=recommendation_id, obstacle_id=obstacle_id))
    if institution_id is not None and not session.get(
        RecommendationInstitution, (recommendation_id, institution_id)
    ):
        session.add(
            RecommendationInstitution(recommendation_id=recommendation_id, institution_id=institution_id)
        )


def set_indicator_parent(session: Session, *, actor: User, indicator_id: int, parent_id: int) -> None:
    require(actor, "catalog.seed")
    row = session.get(Indicator, indicator_id)
    if row is not None and row.parent_id is None:
        row.parent_id = parent_id


def add_indicator_value(session: Session, *, actor: User, value: IndicatorValue) -> None:
    require(actor, "catalog.seed")
    session.add(value)


def add_timeline_event(
    session: Session, *, actor: User, event: TimelineEvent, citations: list[dict]
) -> TimelineEvent:
    add_row(session, actor=actor, row=event)
    add_citations(
        session, actor=actor, record_type="event", record_id=cast(int, event.id), citations=citations
    )
    return event


def record_seed(session: Session, *, actor: User, requested_by: str, added: dict[str, int]) -> None:
    """The trail's record of one catalog load, attributed to the person who asked for it."""
    require(actor, "catalog.seed")
    append_event(
        session,
        actor=requested_by,
        action="seed",
        record_type="catalog",
        record_key="catalog",
        reason="catalog loaded from seeds/",
        after=dict(added),
    )
