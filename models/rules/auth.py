"""Signing in and managing accounts, with every outcome in the audit trail.

Passwords are hashed with Argon2id and never stored, logged or exported. Repeated failures
lock an account for a while, so guessing is slow; a fresh install has no fixed password:
the first start creates an admin with a generated one, shown once.

Failed sign-ins must be remembered even though the attempt is refused, so
:func:`authenticate` commits the failure before raising.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, select

from models.rules.permissions import NOT_PEOPLE, require
from models.rules.users import add_user, get_person
from models.rules.web_sessions import end_all_for
from models.store.errors import DomainError, InvalidInput, NotFound
from models.store.schemas import UserCreate
from models.store.settings import get_settings
from models.store.tables import SigninThrottle, User, utcnow
from models.trail.chain import append_event

_hasher = PasswordHasher()  # argon2-cffi's default type is Argon2id
_DUMMY_HASH = _hasher.hash("not-a-real-password-used-for-timing")


class AuthError(DomainError):
    """A refused sign-in; the message never says which of username or password was wrong."""


def hash_password(password: str) -> str:
    settings = get_settings()
    if not password.strip():
        raise InvalidInput("a password cannot be only spaces; use a passphrase of words")
    if len(password.strip()) < settings.min_password_length:
        raise InvalidInput(
            f"a password needs at least {settings.min_password_length} characters (spaces at the "
            "start and end do not count)"
        )
    if "\x00" in password:
        raise InvalidInput("a password cannot contain a NUL character")
    return _hasher.hash(password)


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def create_user(
    session: Session,
    *,
    username: str,
    role: str,
    password: str | None,
    actor: User,
    office: str | None = None,
    display_name: str = "",
    email: str | None = None,
) -> User:
    email = email.strip().lower() if email else None  # single sign-on looks identities up in lower case
    data = UserCreate(username=username, role=role, office=office, display_name=display_name, email=email)
    hashed = hash_password(password) if password is not None else None
    user = add_user(session, data=data, actor=actor)
    user.password_hash = hashed
    session.add(user)
    session.flush()
    return user


REFUSED = (
    "wrong username or password, or the account cannot sign in now; after repeated failures sign-in "
    "pauses for a while. Try again later, or ask an administrator"
)


def _window(settings) -> timedelta:
    return timedelta(minutes=settings.lockout_minutes)


def _count(row: SigninThrottle, now: datetime, window: timedelta, threshold: int) -> bool:
    """One more failure on ``row``; True when it reaches ``threshold`` within ``window`` (and blocks)."""
    if not row.first_failed_at or now - row.first_failed_at > window:
        row.first_failed_at, row.failures = now, 0
    row.failures += 1
    if row.failures >= threshold:
        row.blocked_until, row.failures, row.first_failed_at = now + window, 0, None
        return True
    return False


def _blocked(row: SigninThrottle | None, now: datetime) -> bool:
    return bool(row is not None and row.blocked_until and row.blocked_until > now)


def _check_password(
    session: Session, *, username: str, password: str, client: str | None, now: datetime, action: str
) -> User:
    """The one password check, for signing in (``action`` "signin") and for changing a password:
    one Argon2 verification whatever the case, so wrong, locked, disabled and unknown take the same
    time and get the same message; the true reason goes to the audit trail.

    Failures count three ways. A client (its address) with ``client_lockout_threshold`` failures in
    the window pauses for the window, for every account; an account with ``lockout_threshold``
    failures from one client is locked for that client only, so guessing from one place never locks
    the owner out elsewhere; an account with ``account_lockout_threshold`` failures from several
    clients is locked for everyone. Attempts refused by a pause or a lock are not counted, so a lock
    runs out after one window however long the guessing goes on."""
    settings = get_settings()
    window = _window(settings)
    client = (client or "unknown")[:200]
    user = session.exec(select(User).where(User.username == username)).first()
    stored = user.password_hash if user is not None and user.role not in NOT_PEOPLE else None
    usable = bool(stored)
    try:
        ok = _hasher.verify(stored or _DUMMY_HASH, password or "x") and usable

    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    by_client = session.get(SigninThrottle, f"client {client}"[:400])
    by_pair = session.get(SigninThrottle, f"pair {client} {username}"[:400])
    if _blocked(by_client, now):
        why = f"this client ({client}) is paused after {settings.client_lockout_threshold} failed sign-ins"
    elif _blocked(by_pair, now):
        why = f"this account is locked for this client ({client}) after {settings.lockout_threshold} failed sign-ins"
    elif user is not None and user.locked_until and user.locked_until > now:
        why = f"this account is locked after {settings.account_lockout_threshold} failed sign-ins from several clients"
    elif user is None or not usable:  # (usable implies an account)
        why = "no account with a password has this username"
    elif user.disabled:
        why = "this account is disabled"
    elif not ok:
        why = "wrong password"
    else:
        return user
    counted = why.startswith(("no account", "this account is disabled", "wrong password"))
    refused = "signin_failed" if counted else "signin_refused"
    if action != "signin":
        refused = f"{action}_failed"

    def audit(what: str, reason: str) -> None:  # every refusal and pause names the client it came from
        append_event(
            session,
            actor=username[:80] or "?",
            action=what,
            record_type="user",
            record_key=username[:80] or "?",
            reason=reason,
            after={"client": client},
            effective_at=now,
        )

    audit(refused, why)
    if counted:
        by_client = by_client or SigninThrottle(key=f"client {client}"[:400])
        by_pair = by_pair or SigninThrottle(key=f"pair {client} {username}"[:400])
        if _count(by_client, now, window, settings.client_lockout_threshold):
            audit("lockout", f"client {client} paused until {by_client.blocked_until:%H:%M} UTC")
        if _count(by_pair, now, window, settings.lockout_threshold):
            audit("lockout", f"account locked for client {client} until {by_pair.blocked_until:%H:%M} UTC")
        session.add(by_client)
        session.add(by_pair)
        if usable and user is not None:
            if not user.first_failed_at or now - user.first_failed_at > window:
                user.first_failed_at, user.failed_logins = now, 0
            user.failed_logins += 1
            if user.failed_logins >= settings.account_lockout_threshold:
                user.locked_until = now + window
                user.failed_logins, user.first_failed_at = 0, None
                append_event(
                    session,
                    actor=username,
                    action="lockout",
                    record_type="user",
                    record_key=username,
                    reason=f"account locked for every client until {user.locked_until:%H:%M} UTC",
                    effective_at=now,
                )
            session.add(user)
        _prune(session, now, window)
    session.commit()  # keep the record of the refusal; the caller's rollback then has nothing to undo
    raise AuthError(
        REFUSED
        if action == "signin"
        else "the current password is not right, or password changes are paused after repeated failures; "
        "nothing changed"
    )


def _prune(session: Session, now: datetime, window: timedelta) -> None:
    """Forget counts whose window and block have both run out (the table stays small)."""
    from sqlalchemy import delete, or_

    session.flush()
    session.exec(
        delete(SigninThrottle).where(
            or_(
                col(SigninThrottle.first_failed_at).is_(None),
                col(SigninThrottle.first_failed_at) < now - window,
            ),
            or_(col(SigninThrottle.blocked_until).is_(None), col(SigninThrottle.blocked_until) < now),
        )
    )


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    now: datetime | None = None,
    client: str | None = None,
    how: str = "with a password",
) -> User:
    """Check a username and password from ``client`` (its address); record the outcome.

    Every refusal raises :class:`AuthError` with the one message :data:`REFUSED`."""
    now = now or utcnow()
    user = _check_password(
        session, username=username, password=password, client=client, now=now, action="signin"
    )
    if _hasher.check_needs_rehash(cast(str, user.password_hash)):  # it just verified, so it is set
        user.password_hash = _hasher.hash(password)
    user.failed_logins, user.first_failed_at, user.locked_until, user.last_login_at = 0, None, None, now
    session.add(user)
    pair = session.get(SigninThrottle, f"pair {(client or 'unknown')[:200]} {username}"[:400])
    if pair is not None:
        session.delete(pair)
    append_event(
        session,
        actor=username,
        action="signin",
        record_type="user",
        record_key=username,
        reason=f"signed in {how}",
        effective_at=now,
    )
    return user


def change_password(
    session: Session,
    *,
    user: User,
    old_password: str,
    new_password: str,
    client: str | None = None,
    now: datetime | None = None,
    keep_session: str | None = None,
) -> None:
    """A wrong current password counts as a failed sign-in (and is refused while the account is
    locked), so My account is no side door for guessing. Every other signed-in browser of the
    account is signed out (``keep_session``, the one making the change, stays)."""
    user = _check_password(
        session,
        username=user.username,
        password=old_password,
        client=client,
        now=now or utcnow(),
        action="password_change",
    )
    user.password_hash = hash_password(new_password)
    user.version += 1
    session.add(user)
    end_all_for(session, username=user.username, why="password changed", except_id=keep_session)
    append_event(
        session,
        actor=user.username,
        action="password_change",
        record_type="user",
        record_key=user.username,
        reason="changed their own password",
    )


def reset_password(session: Session, *, username: str, actor: User) -> str:
    """An admin sets a new generated password, returned once to hand over."""
    require(actor, "user.manage")
    user = get_person(session, username)
    password = generate_password()
    user.password_hash = hash_password(password)
    user.locked_until, user.failed_logins, user.first_failed_at = None, 0, None
    user.version += 1
    session.add(user)
    end_all_for(session, username=username, why="password reset")
    from sqlalchemy import delete

    session.exec(
        delete(SigninThrottle).where(col(SigninThrottle.key).like(f"pair % {username}"))
    )  # every client's lock
    append_event(
        session,
        actor=actor.username,
        action="password_reset",
        record_type="user",
        record_key=username,
        reason="password reset by an administrator",
    )
    return password


def needs_first_admin(session: Session) -> bool:
    return (
        session.exec(select(User).where(User.role == "admin", col(User.password_hash).is_not(None))).first()
        is None
    )


def bootstrap_admin(session: Session, *, actor: User) -> str | None:
    """On a fresh install, create ``admin`` with a generated password and return it (shown once);
    ``actor`` is whoever started the install (the command-line operator)."""
    if not needs_first_admin(session):
        return None
    if session.exec(select(User).where(User.username == "admin")).first():
        raise NotFound(
            "a user named 'admin' exists without a password; run: rectrack user reset-password admin"
        )
    password = generate_password()
    create_user(
        session,
        username="admin",
        role="admin",
        password=password,
        actor=actor,
        display_name="First administrator",
    )
    return password
