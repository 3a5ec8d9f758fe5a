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
    usable = user is not None and user.role != "system" and bool(user.password_hash)
    try:
        ok = _hasher.verify(user.password_hash if usable else _DUMMY_HASH, password or "x") and usable
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
    elif not usable:
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
    append_event(
        session,
        actor=username[:80] or "?",
        action=refused,
        record_type="user",
        record_key=username[:80] or "?",
        reason=why,
        after={"client": client},
        effective_at=now,
    )
    if counted:
        by_client = by_client or SigninThrottle(key=f"client {client}"[:400])
        by_pair = by_pair or SigninThrottle(key=f"pair {client} {username}"[:400])
        if _count(by_client, now, window, settings.client_lockout_threshold):
            append_event(
                session,
                actor=username[:80] or "?",
                action="lockout",
                record_type="user",
                record_key=username[:80] or "?",
                reason=f"client {client} paused until {by_client.blocked_until:%H:%M} UTC",
                after={"client": client},
                effective_at=now,
            )
        if _count(by_pair, now, window, settings.lockout_threshold):
            append_event(
                session,
                actor=username[:80] or "?",
                action="lockout",
                record_type="user",
                record_key=username[:80] or "?",
                reason=f"account locked for client {client} until {by_pair.blocked_until:%H:%M} UTC",
                after={"client": client},
                effective_at=now,
            )
        session.add(by_client)
        session.add(by_pair)
        if usable:
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
            or_(SigninThrottle.first_failed_at.is_(None), SigninThrottle.first_failed_at < now - window),
            or_(SigninThrottle.blocked_until.is_(None), SigninThrottle.blocked_until < now),
        )
    )


def authenticate(
    session: Session, *, username: str, password: str, now: datetime | None = None, client: str | None = None
) -> User:
    """Check a username and password from ``client`` (its address); record the outcome.

    Every refusal raises :class:`AuthError` with the one message :data:`REFUSED`."""
    now = now or utcnow()
    user = _check_password(
        session, username=username, password=password, client=client, now=now, action="signin"
    )
    if _hasher.check_needs_rehash(user.password_hash):
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
        reason="signed in with a password",
        effective_at=now,
    )
    return user


def _sso_refuse(session: Session, *, who: str, reason: str, message: str, now: datetime) -> None:
    append_event(
        session,
        actor=who[:80] or "?",
        action="signin_refused",
        record_type="user",
        record_key=who[:80] or "?",
        reason=f"single sign-on: {reason}",
        effective_at=now,
    )
    session.commit()  # the refusal stays in the trail; the caller's rollback has nothing to undo
    raise PermissionDenied(message)


def user_for_identity(
    session: Session,
    *,
    email: str | None,
    now: datetime | None = None,
    subject: str = "",
    email_verified=True,
    require_verified: bool = False,
    email_source: str | None = "ID token",
    problem: str | None = None,
) -> User:
    """Map a single-sign-on identity to a local account by its e-mail; refuse, in words and in the
    trail, an identity without an e-mail, one whose e-mail the provider has not verified
    (``email_verified`` false; with ``require_verified``, also when the provider does not say), and
    one with no enabled account here."""
    now = now or utcnow()
    email = (email or "").strip().lower()
    who = email or (f"sso:{subject}" if subject else "sso")
    if not email:
        why = problem or "the provider sent no e-mail for this identity"
        _sso_refuse(
            session,
            who=who,
            reason=f"no e-mail ({why})",
            now=now,
            message=f"single sign-on worked, but the provider sent no e-mail address for you: {why}. "
            "Ask the administrator of the identity provider to release the e-mail claim "
            '(scope "email")',
        )
    verified = (
        email_verified
        if isinstance(email_verified, bool)
        else (None if email_verified is None else str(email_verified).strip().lower() == "true")
    )
    if verified is False or (verified is None and require_verified):
        said = "says it is not verified" if verified is False else "does not say it is verified"
        _sso_refuse(
            session,
            who=who,
            reason=f"e-mail {email} not verified by the provider ({said})",
            now=now,
            message=f"the identity provider {said} that {email} is yours, so it cannot sign you in here. "
            "Verify the address with the provider, then sign in again",
        )
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None or user.role == "system":
        _sso_refuse(
            session,
            who=who,
            reason=f"identity {email} has no local account",
            now=now,
            message=f"{email} has no access yet; ask an administrator to add it (Users page, or "
            f"rectrack user add NAME --role ROLE --email {email} --no-password)",
        )
    if user.disabled:
        _sso_refuse(
            session,
            who=user.username,
            reason=f"account {user.username} is disabled",
            now=now,
            message="this account is disabled; ask an administrator",
        )
    user.last_login_at = now
    session.add(user)
    append_event(
        session,
        actor=user.username,
        action="signin",
        record_type="user",
        record_key=user.username,
        reason=f"signed in through single sign-on (e-mail from the {email_source or 'ID token'})",
        effective_at=now,
    )
    return user


SSO_HINTS = {
    "invalid_request": "if it names the prompt, set client_kwargs.prompt in the [auth] section of secrets.toml to one "
    'the provider supports (for example "login"; Streamlit asks for "select_account")',
    "access_denied": "the sign-in or the consent was declined at the provider",
    "token_exchange_failed": "check client_id, client_secret and redirect_uri in secrets.toml against the provider",
}


def record_sso_failure(
    session: Session, *, error: str, description: str = "", now: datetime | None = None
) -> str:
    """A sign-in the provider refused or that could not be completed: recorded; returns the words to show."""
    hint = SSO_HINTS.get(error, "see the provider's log")
    said = f"{error}: {description}" if description else error
    append_event(
        session,
        actor="sso",
        action="signin_refused",
        record_type="user",
        record_key="sso",
        reason=f"single sign-on failed at the provider ({said})"[:4000],
        effective_at=now or utcnow(),
    )
    return f"single sign-on did not complete: the identity provider answered “{said}”. What to do: {hint}"


def change_password(
    session: Session,
    *,
    user: User,
    old_password: str,
    new_password: str,
    client: str | None = None,
    now: datetime | None = None,
) -> None:
    """A wrong current password counts as a failed sign-in (and is refused while the account is
    locked), so My account is no side door for guessing."""
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
    user = get_user(session, username)
    password = generate_password()
    user.password_hash = hash_password(password)
    user.locked_until, user.failed_logins, user.first_failed_at = None, 0, None
    user.version += 1
    session.add(user)
    from sqlalchemy import delete

    session.exec(
        delete(SigninThrottle).where(SigninThrottle.key.like(f"pair % {username}"))
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


def set_role(
    session: Session, *, username: str, role: str, actor: User, reason: str = "role changed"
) -> User:
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
    user = get_user(session, username)
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
    user = get_user(session, username)
    if user.username == actor.username and disabled:
        raise InvalidInput("you cannot disable your own account")
    if disabled:
        _keep_an_admin(session, user, leaving=user.role == "admin")
    user.disabled = disabled
    user.version += 1
    session.add(user)
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


def bootstrap_admin(session: Session) -> str | None:
    """On a fresh install, create ``admin`` with a generated password and return it (shown once)."""
    has_admin = session.exec(
        select(User).where(User.role == "admin", User.password_hash.is_not(None))
    ).first()
    if has_admin:
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
        actor=system_user(session),
        display_name="First administrator",
    )
    return password


def set_can_verify(session: Session, *, username: str, can_verify: bool, actor: User) -> User:
    """Designate (or stop designating) someone as a verifier of closures."""
    require(actor, "user.manage")
    user = get_user(session, username)
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
