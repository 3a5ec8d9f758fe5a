"""Single sign-on: mapping a provider's identity to a local account, and every refusal in words.

A provider vouches for an e-mail, not for an account here, so the mapping is by e-mail and each
outcome (signed in, no e-mail, unverified e-mail, no account, disabled, provider error) is written
to the trail; refusals are committed before raising so the caller's rollback keeps them.
"""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

from sqlmodel import Session, select

from models.rules.permissions import NOT_PEOPLE
from models.store.errors import PermissionDenied
from models.store.tables import User, utcnow
from models.trail.chain import append_event


def _sso_refuse(session: Session, *, who: str, reason: str, message: str, now: datetime) -> NoReturn:
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
    if user is None or user.role in NOT_PEOPLE:
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
