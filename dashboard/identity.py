"""Who is signed in: the username lives in ``st.session_state["username"]``; the user row is
re-read on every run, so a disabled account loses access at once, and an idle session ends.

Single sign-on: when ``.streamlit/secrets.toml`` has an ``[auth]`` section, Streamlit's own
OpenID Connect login (``st.login``) is offered; the identity that comes back (``st.user.email``)
maps to a local account through :func:`models.rules.auth.user_for_identity`. :func:`sso_identity` is
the one place that reads it (tests replace it)."""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from dashboard import data
from models.rules.users import get_user
from models.store.db import read_session, write_session
from models.store.errors import DomainError, NotFound
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

def sso_configured() -> bool:
    """True when secrets.toml has an [auth] section; a missing or unreadable secrets file is fine."""
    try:
        return st.secrets.load_if_toml_exists() and "auth" in st.secrets
    except Exception:  # no secrets.toml, or one that does not parse: no single sign-on
        return False


def sso_identity() -> str | None:
    """The e-mail of the identity signed in through the provider, or None."""
    if not sso_configured():
        return None
    try:
        if not st.user.is_logged_in:
            return None
        email = st.user.get("email")
    except Exception:
        return None
    return str(email).strip().lower() if email else None


def sso_sign_in(engine=None) -> None:
    """If the provider has signed someone in and the app has not, map them to a local account
    (recorded in the trail). An unknown identity is refused once per session, with the reason kept
    for the sign-in page."""
    if st.session_state.get("username"):
        return
    email = sso_identity()
    if not email or email in (st.session_state.get("sso_suppressed"), st.session_state.get("sso_refused")):
        return
    try:
        from models.rules.auth import user_for_identity

        with write_session(engine or data.engine()) as session:
            name = user_for_identity(session, email=email).username
    except DomainError as e:
        st.session_state["sso_refused"] = email
        st.session_state["sso_refused_message"] = str(e)
        return
    data.invalidate()  # the sign-in is in the trail now
    st.session_state.pop("sso_refused", None)
    sign_in(name)


def sso_sign_out() -> None:
    """End the provider session too (st.logout), when there is one."""
    if sso_identity():
        st.logout()


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
