"""Accounts as the Users page lists them, and whether the store holds synthetic data."""

from __future__ import annotations

from sqlmodel import Session, select

from models.store.tables import Recommendation
from models.store.vocabulary import SYNTHETIC_ORIGIN


def user_list(session: Session) -> list[dict]:
    """Every account a person can use (the catalog loader excluded), for the Users page."""
    from models.store.tables import User

    rows = session.exec(select(User).where(User.role != "system").order_by(User.username)).all()
    return [
        {
            "username": u.username,
            "display_name": u.display_name,
            "role": u.role,
            "office": u.office,
            "email": u.email,
            "can_verify": u.can_verify,
            "disabled": u.disabled,
            "has_password": bool(u.password_hash),
            "locked_until": u.locked_until,
            "last_login_at": u.last_login_at,
            "created_at": u.created_at,
        }
        for u in rows
    ]


def is_synthetic_store(session: Session) -> bool:
    """True when any recommendation was made by ``rectrack demo``: every page then shows a
    SYNTHETIC DATA banner."""
    q = select(Recommendation.id).where(Recommendation.origin == SYNTHETIC_ORIGIN).limit(1)
    return session.exec(q).first() is not None
