"""Who is signed in: the username lives in ``st.session_state["username"]``; the user row is
re-read on every run, so a disabled account loses access at once, and an idle session ends.

Single sign-on: when ``.streamlit/secrets.toml`` has an ``[auth]`` section, Streamlit's own
OpenID Connect login (``st.login``) is offered; the identity that comes back maps to a local
account through :func:`models.rules.single_sign_on.user_for_identity` (see :mod:`dashboard.sso`)."""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from dashboard import data
from models.rules.users import get_user
from models.store.db import read_session
from models.store.errors import NotFound
from models.store.settings import get_settings
from models.store.tables import User


def idle_limit_seconds() -> int:
    return int(getattr(get_settings(), "session_idle_minutes", 30)) * 60


def sign_in(username: str) -> None:
    st.session_state["username"] = username
    st.session_state["last_active"] = time.time()


PREPARED_FILES = "_prepared_files"  # files on the server a page made for this session (exports)


def sign_out(message: str | None = None) -> None:
    """Forget everything this session prepared (downloads, results, form input, files written for
    it), so the next person at the same browser tab starts from nothing."""
    for path in st.session_state.get(PREPARED_FILES, ()):
        Path(path).unlink(missing_ok=True)
    identity = sso_identity()
    st.session_state.clear()
    if message:
        st.session_state["signed_out_message"] = message
    if identity:  # still signed in at the provider: do not sign straight back in on the next run
        st.session_state["sso_suppressed"] = identity


# ------------------------------------------------------------------ single sign-on (OpenID Connect)
# the provider side (claims from the ID token or UserInfo, refusals in words, failed callbacks) is
# dashboard.sso; these are the names the app and the sign-in page use


def sso_configured() -> bool:
    """True when secrets.toml has an [auth] section; a missing or unreadable secrets file is fine."""
    from dashboard import sso

    return sso.configured()


def sso_identity() -> str | None:
    """The e-mail of the identity signed in through the provider, or None."""
    from dashboard import sso

    return sso.identity_email()


def sso_sign_in(engine=None) -> None:
    """A failed provider callback is reported; an identity back from the provider is mapped to a
    local account (recorded in the trail), or refused once per session with the reason in words."""
    from dashboard import sso

    sso.report_callback_failure(engine)
    sso.sign_in_from_provider(engine, sign_in)


def sso_sign_out() -> bool:
    """End the provider session too (st.logout goes through the provider's end-session endpoint);
    True when it did, and the browser is on its way there (no rerun then: it would drop that)."""
    from dashboard import sso

    if sso.logged_in():
        st.logout()
        return True
    return False


def current_user(engine=None) -> User | None:
    """The signed-in user, or None (not signed in, idle too long, disabled or removed)."""
    name = st.session_state.get("username")
    if not name:
        return None
    now = time.time()
    last = st.session_state.get("last_active")
    if last is not None and now - last > idle_limit_seconds():
        sign_out(f"You were signed out after {idle_limit_seconds() // 60} minutes without activity.")
        return None
    try:
        with read_session(engine or data.engine()) as session:
            user = get_user(session, name)
    except NotFound:
        sign_out("Your account no longer exists; ask an administrator.")
        return None
    if user.disabled or user.role == "system":
        sign_out("Your account is disabled; ask an administrator.")
        return None
    st.session_state["last_active"] = now
    return user
