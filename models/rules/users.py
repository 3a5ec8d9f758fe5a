"""Accounts: looking up who is acting, and adding people."""

from __future__ import annotations

from sqlmodel import Session, select

from models.rules.permissions import require
from models.store.errors import InvalidInput, NotFound
from models.store.schemas import UserCreate
from models.store.tables import User
from models.trail.chain import append_event

SYSTEM_USERNAME = "catalog"


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(
            f"no user {username!r}; an admin can add one with: rectrack user add {username} --role editor"
        )
    return user


def system_user(session: Session) -> User:
    """The catalog loader's identity, created on first use; it has no password and cannot sign in."""
    user = session.exec(select(User).where(User.username == SYSTEM_USERNAME)).first()
    if user is None:
        user = User(username=SYSTEM_USERNAME, display_name="Catalog loader", role="system")
        session.add(user)
        session.flush()
    return user


def add_user(session: Session, *, data: UserCreate, actor: User) -> User:
    require(actor, "user.manage")
    if session.exec(select(User).where(User.username == data.username)).first():
        raise InvalidInput(f"user {data.username!r} already exists")
    user = User(**data.model_dump())
    session.add(user)
    session.flush()
    append_event(
        session,
        actor=actor.username,
        action="user_add",
        record_type="user",
        record_key=user.username,
        reason=f"added with role {user.role}",
        after={"role": user.role, "office": user.office},
    )
    return user
