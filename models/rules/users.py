"""Accounts: looking up who is acting, adding people, and an admin's changes to them (role, office,
disabled, verifier), each with its event; one active admin always remains."""

from __future__ import annotations

from sqlmodel import Session, select

from models.rules.permissions import NOT_PEOPLE, ROLES, require
from models.rules.web_sessions import end_all_for
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


def get_person(session: Session, username: str) -> User:
    """An account an admin may change: never the loader's or an operator's identity."""
    user = get_user(session, username)
    if user.role in NOT_PEOPLE:
        raise InvalidInput(
            f"{username!r} is a {user.role} identity, not a person's account; it cannot be changed"
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


def operator_identity() -> tuple[str, str]:
    """The OS account and host running this process, as the trail names an operator."""
    import getpass
    import socket

    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers): the numeric uid still names it
        import os

        who = f"uid{os.getuid()}"
    return who, socket.gethostname()


def operator_user(session: Session, *, who: str | None = None, host: str | None = None) -> User:
    """The command-line operator, one account per OS user and host, added with its own event the
    first time it acts, so every event it writes names who ran the command and where."""
    if who is None or host is None:
        who, host = operator_identity()
    clean = lambda v: "".join(c if c.isalnum() or c in "._-" else "_" for c in v)[:36] or "_"  # noqa: E731
    username = f"os:{clean(who)}@{clean(host)}"
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        user = User(username=username, display_name=f"Operator {who} on {host}"[:200], role="operator")
        session.add(user)
        session.flush()
        append_event(
            session,
            actor=username,
            action="user_add",
            record_type="user",
            record_key=username,
            reason=f"command-line operator: OS user {who!r} on host {host!r}"[:4000],
            after={"role": "operator", "office": None},
        )
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


def set_role(
    session: Session, *, username: str, role: str, actor: User, reason: str = "role changed"
) -> User:
    require(actor, "user.manage")
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; use viewer, editor, auditor or admin")
    user = get_person(session, username)
    if user.role == role:
        raise InvalidInput(f"{username!r} already has role {role}")
    _keep_an_admin(session, user, leaving=user.role == "admin")
    before = user.role
    user.role = role
    user.version += 1
    session.add(user)
    append_event(
        session,
        actor=actor.username,
        action="role_change",
        record_type="user",
        record_key=username,
        reason=reason,
        before={"role": before},
        after={"role": role},
    )
    return user


def set_office(session: Session, *, username: str, office: str | None, actor: User) -> User:
    require(actor, "user.manage")
    user = get_person(session, username)
    before = user.office
    user.office = office or None
    user.version += 1
    session.add(user)
    append_event(
        session,
        actor=actor.username,
        action="user_change",
        record_type="user",
        record_key=username,
        reason="office changed",
        before={"office": before},
        after={"office": user.office},
    )
    return user


def set_disabled(session: Session, *, username: str, disabled: bool, actor: User) -> User:
    require(actor, "user.manage")
    user = get_person(session, username)
    if user.username == actor.username and disabled:
        raise InvalidInput("you cannot disable your own account")
    if disabled:
        _keep_an_admin(session, user, leaving=user.role == "admin")
    user.disabled = disabled
    user.version += 1
    session.add(user)
    if disabled:  # signed-in browsers lose access at once, not at their next sign-in
        end_all_for(session, username=username, why="account disabled")
    append_event(
        session,
        actor=actor.username,
        action="user_disable" if disabled else "user_enable",
        record_type="user",
        record_key=username,
        reason="account disabled" if disabled else "account enabled",
    )
    return user


def _keep_an_admin(session: Session, user: User, *, leaving: bool) -> None:
    if not leaving:
        return
    others = session.exec(
        select(User).where(
            User.role == "admin",
            User.disabled == False,  # noqa: E712
            User.id != user.id,
        )
    ).first()
    if others is None:
        raise InvalidInput("this is the last active admin; make someone else admin first")


def set_can_verify(session: Session, *, username: str, can_verify: bool, actor: User) -> User:
    """Designate (or stop designating) someone as a verifier of closures."""
    require(actor, "user.manage")
    user = get_person(session, username)
    before = user.can_verify
    user.can_verify = can_verify
    user.version += 1
    session.add(user)
    append_event(
        session,
        actor=actor.username,
        action="user_change",
        record_type="user",
        record_key=username,
        reason="verifier designation changed",
        before={"can_verify": before},
        after={"can_verify": can_verify},
    )
    return user
