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

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, select

from models.rules.permissions import ROLES, require
from models.rules.users import add_user, get_user, system_user
from models.store.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from models.store.schemas import UserCreate
from models.store.settings import get_settings
from models.store.tables import User, utcnow
from models.trail.chain import append_event

_hasher = PasswordHasher()  # argon2-cffi's default type is Argon2id
_DUMMY_HASH = _hasher.hash("not-a-real-password-used-for-timing")


class AuthError(DomainError):
    """A refused sign-in; the message never says which of username or password was wrong."""


def hash_password(password: str) -> str:
    settings = get_settings()
    if len(password) < settings.min_password_length:
        raise InvalidInput(f"a password needs at least {settings.min_password_length} characters")
    if "\x00" in password:
        raise InvalidInput("a password cannot contain a NUL character")
    return _hasher.hash(password)


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def create_user(session: Session, *, username: str, role: str, password: str | None, actor: User,
                office: str | None = None, display_name: str = "", email: str | None = None) -> User:
    email = email.strip().lower() if email else None  # single sign-on looks identities up in lower case
    data = UserCreate(username=username, role=role, office=office, display_name=display_name, email=email)
    hashed = hash_password(password) if password is not None else None
    user = add_user(session, data=data, actor=actor)
    user.password_hash = hashed
    session.add(user)
    session.flush()
    return user


def _fail(session: Session, user: User | None, username: str, action: str, message: str, now: datetime) -> None:
    append_event(session, actor=username[:80] or "?", action=action, record_type="user", record_key=username[:80] or "?",
                 reason=message, effective_at=now)
    session.commit()  # keep the record of the refusal; the caller's rollback then has nothing to undo
    raise AuthError(message)


def authenticate(session: Session, *, username: str, password: str, now: datetime | None = None) -> User:
    """Check a username and password; record the outcome; lock after repeated failures."""
    settings = get_settings()
    now = now or utcnow()
    user = session.exec(select(User).where(User.username == username)).first()
    wrong = "wrong username or password"
    if user is None or user.role == "system" or not user.password_hash:
        try:
            _hasher.verify(_DUMMY_HASH, password or "x")  # same work either way: no user enumeration by timing
        except VerificationError:
            pass
        _fail(session, None, username, "signin_failed", wrong, now)
    if user.disabled:
        _fail(session, user, username, "signin_refused", "this account is disabled; ask an administrator", now)
    if user.locked_until and user.locked_until > now:
        _fail(session, user, username, "signin_refused",
              f"this account is locked after {settings.lockout_threshold} failed sign-ins; "
              f"try again after {user.locked_until:%H:%M} UTC or ask an administrator", now)
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        window = timedelta(minutes=settings.lockout_minutes)
        if not user.first_failed_at or now - user.first_failed_at > window:
            user.first_failed_at, user.failed_logins = now, 0
        user.failed_logins += 1
        if user.failed_logins >= settings.lockout_threshold:
            user.locked_until = now + window
            user.failed_logins, user.first_failed_at = 0, None
            session.add(user)
            append_event(session, actor=username, action="signin_failed", record_type="user", record_key=username,
                         reason=wrong, effective_at=now)
            _fail(session, user, username, "lockout",
                  f"too many failed sign-ins: this account is locked until {user.locked_until:%H:%M} UTC", now)
        session.add(user)
        _fail(session, user, username, "signin_failed", wrong, now)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins, user.first_failed_at, user.locked_until, user.last_login_at = 0, None, None, now
    session.add(user)
    append_event(session, actor=username, action="signin", record_type="user", record_key=username,
                 reason="signed in with a password", effective_at=now)
    return user


def user_for_identity(session: Session, *, email: str, now: datetime | None = None) -> User:
    """Map a single-sign-on identity (its e-mail) to a local account; unknown identities get nothing."""
    now = now or utcnow()
    email = (email or "").strip().lower()
    user = session.exec(select(User).where(User.email == email)).first() if email else None
    if user is None:
        append_event(session, actor=email[:80] or "?", action="signin_refused", record_type="user",
                     record_key=email[:80] or "?", reason="single sign-on identity has no local account", effective_at=now)
        session.commit()
        raise PermissionDenied(f"{email or 'this identity'} has no access yet; ask an administrator to add it")
    if user.disabled:
        _fail(session, user, user.username, "signin_refused", "this account is disabled; ask an administrator", now)
    user.last_login_at = now
    session.add(user)
    append_event(session, actor=user.username, action="signin", record_type="user", record_key=user.username,
                 reason="signed in through single sign-on", effective_at=now)
    return user


def change_password(session: Session, *, user: User, old_password: str, new_password: str) -> None:
    try:
        _hasher.verify(user.password_hash or _DUMMY_HASH, old_password)
    except (VerificationError, InvalidHashError):
        raise AuthError("the current password is not right; nothing changed") from None
    user.password_hash = hash_password(new_password)
    user.version += 1
    session.add(user)
    append_event(session, actor=user.username, action="password_change", record_type="user",
                 record_key=user.username, reason="changed their own password")


def reset_password(session: Session, *, username: str, actor: User) -> str:
    """An admin sets a new generated password, returned once to hand over."""
    require(actor, "user.manage")
    user = get_user(session, username)
    password = generate_password()
    user.password_hash = hash_password(password)
    user.locked_until, user.failed_logins = None, 0
    user.version += 1
    session.add(user)
    append_event(session, actor=actor.username, action="password_reset", record_type="user", record_key=username,
                 reason="password reset by an administrator")
    return password


def set_role(session: Session, *, username: str, role: str, actor: User, reason: str = "role changed") -> User:
    require(actor, "user.manage")
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; use viewer, editor, auditor or admin")
    user = get_user(session, username)
    if user.role == role:
        raise InvalidInput(f"{username!r} already has role {role}")
    _keep_an_admin(session, user, leaving=user.role == "admin")
    before = user.role
    user.role = role
    user.version += 1
    session.add(user)
    append_event(session, actor=actor.username, action="role_change", record_type="user", record_key=username,
                 reason=reason, before={"role": before}, after={"role": role})
    return user


def set_office(session: Session, *, username: str, office: str | None, actor: User) -> User:
    require(actor, "user.manage")
    user = get_user(session, username)
    before = user.office
    user.office = office or None
    user.version += 1
    session.add(user)
    append_event(session, actor=actor.username, action="user_change", record_type="user", record_key=username,
                 reason="office changed", before={"office": before}, after={"office": user.office})
    return user


def set_disabled(session: Session, *, username: str, disabled: bool, actor: User) -> User:
    require(actor, "user.manage")
    user = get_user(session, username)
    if user.username == actor.username and disabled:
        raise InvalidInput("you cannot disable your own account")
    if disabled:
        _keep_an_admin(session, user, leaving=user.role == "admin")
    user.disabled = disabled
    user.version += 1
    session.add(user)
    append_event(session, actor=actor.username, action="user_disable" if disabled else "user_enable",
                 record_type="user", record_key=username, reason="account disabled" if disabled else "account enabled")
    return user


def _keep_an_admin(session: Session, user: User, *, leaving: bool) -> None:
    if not leaving:
        return
    others = session.exec(select(User).where(User.role == "admin", User.disabled == False,  # noqa: E712
                                             User.id != user.id)).first()
    if others is None:
        raise InvalidInput("this is the last active admin; make someone else admin first")


def bootstrap_admin(session: Session) -> str | None:
    """On a fresh install, create ``admin`` with a generated password and return it (shown once)."""
    has_admin = session.exec(select(User).where(User.role == "admin", User.password_hash.is_not(None))).first()
    if has_admin:
        return None
    if session.exec(select(User).where(User.username == "admin")).first():
        raise NotFound("a user named 'admin' exists without a password; run: rectrack user reset-password admin")
    password = generate_password()
    create_user(session, username="admin", role="admin", password=password, actor=system_user(session),
                display_name="First administrator")
    return password


def set_can_verify(session: Session, *, username: str, can_verify: bool, actor: User) -> User:
    """Designate (or stop designating) someone as a verifier of closures."""
    require(actor, "user.manage")
    user = get_user(session, username)
    before = user.can_verify
    user.can_verify = can_verify
    user.version += 1
    session.add(user)
    append_event(session, actor=actor.username, action="user_change", record_type="user", record_key=username,
                 reason="verifier designation changed", before={"can_verify": before}, after={"can_verify": can_verify})
    return user
