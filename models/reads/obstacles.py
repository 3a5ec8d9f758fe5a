"""The obstacle register and the obstacle x recommendation matrix."""

from __future__ import annotations

from sqlalchemy import case, func
from sqlmodel import Session, col

from models.rules.lifecycle import OPEN
from models.store.db import select_row
from models.store.tables import (
    Obstacle,
    Recommendation,
    RecommendationObstacle,
)


def obstacle_register(session: Session) -> list[dict]:
    # "open" counts the open recommendations the obstacle still blocks (not resolved for them)
    is_open = case(
        ((col(Recommendation.status).in_(OPEN)) & (RecommendationObstacle.state == "blocking"), 1), else_=0
    )
    rows = session.exec(
        select_row(
            Obstacle.key,
            Obstacle.title,
            Obstacle.category,
            Obstacle.side,
            Obstacle.summary,
            func.count(col(Recommendation.id)),
            func.coalesce(func.sum(is_open), 0),
        )
        .join(RecommendationObstacle, col(RecommendationObstacle.obstacle_id) == Obstacle.id, isouter=True)
        .join(
            Recommendation, col(Recommendation.id) == RecommendationObstacle.recommendation_id, isouter=True
        )
        .group_by(Obstacle.key, Obstacle.title, Obstacle.category, Obstacle.side, col(Obstacle.summary))
        .order_by(Obstacle.key)
    ).all()
    return [
        {"key": k, "title": t, "category": c, "side": sd, "summary": sm, "recommendations": n, "open": o}
        for k, t, c, sd, sm, n, o in rows
    ]


def obstacle_matrix(session: Session, *, category: str | None = None, theme: str | None = None) -> list[dict]:
    """One row per (obstacle, recommendation) link, with the recommendation's current status."""
    q = (
        select_row(
            Obstacle.key,
            Obstacle.title,
            Obstacle.category,
            Recommendation.key,
            Recommendation.title,
            Recommendation.status,
            Recommendation.theme,
        )
        .join(RecommendationObstacle, col(RecommendationObstacle.obstacle_id) == Obstacle.id)
        .join(Recommendation, col(Recommendation.id) == RecommendationObstacle.recommendation_id)
    )
    if category:
        q = q.where(Obstacle.category == category)
    if theme:
        q = q.where(Recommendation.theme == theme)
    rows = session.exec(q.order_by(Obstacle.key, Recommendation.key)).all()
    cols = (
        "obstacle",
        "obstacle_title",
        "category",
        "recommendation",
        "recommendation_title",
        "status",
        "theme",
    )
    return [dict(zip(cols, r)) for r in rows]


def obstacle_by_theme(session: Session, *, category: str | None = None) -> list[dict]:
    """Open recommendations each obstacle blocks, per theme: the obstacle view that fits a screen."""
    is_open = case(
        ((col(Recommendation.status).in_(OPEN)) & (RecommendationObstacle.state == "blocking"), 1), else_=0
    )
    q = (
        select_row(Obstacle.key, Obstacle.title, Recommendation.theme, func.sum(is_open), func.count())
        .join(RecommendationObstacle, col(RecommendationObstacle.obstacle_id) == Obstacle.id)
        .join(Recommendation, col(Recommendation.id) == RecommendationObstacle.recommendation_id)
    )
    if category:
        q = q.where(Obstacle.category == category)
    rows = session.exec(
        q.group_by(Obstacle.key, Obstacle.title, Recommendation.theme).order_by(
            Obstacle.key, Recommendation.theme
        )
    ).all()
    return [
        {"obstacle": k, "obstacle_title": t, "theme": th, "open": int(o or 0), "all": n}
        for k, t, th, o, n in rows
    ]
