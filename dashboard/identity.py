"""Who is signed in: the username lives in ``st.session_state["username"]``; the user row is
re-read on every run, so a disabled account loses access at once, and an idle session ends.

A password sign-in also opens a server-side web session (:mod:`models.rules.web_sessions`) whose
token the server sets as an HttpOnly cookie (:mod:`dashboard.session_cookie`): a reload, a new tab or
a pasted link presents it and is signed in again, until sign-out in any tab, the idle timeout, the
session's maximum age, or the account being disabled ends it everywhere.

Single sign-on: when ``.streamlit/secrets.toml`` has an ``[auth]`` section, Streamlit's own
OpenID Connect login (``st.login``) is offered; the identity that comes back maps to a local
account through :func:`models.rules.single_sign_on.user_for_identity` (see :mod:`dashboard.sso`)."""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from dashboard import data
from models.rules.permissions import NOT_PEOPLE
from models.rules.users import get_user
from models.store.db import read_session, write_session
from models.store.errors import NotFound
from models.store.settings import get_settings
from models.store.tables import User


def idle_limit_seconds() -> int:
    return int(getattr(get_settings(), "session_idle_minutes", 30)) * 60


WEB_SESSION = "_web_session"  # the id of this browser's server-side session
WEB_CLAIM = "_web_claim"  # its one-time claim code, until the browser has exchanged it for the cookie
CLEAR_COOKIE = "_clear_session_cookie"


def sign_in(username: str, web_session: str | None = None, claim_code: str | None = None) -> None:
    st.session_state["username"] = username
    st.session_state["last_active"] = time.time()
    st.session_state.pop(CLEAR_COOKIE, None)
    if web_session:
        st.session_state[WEB_SESSION] = web_session
    if claim_code:
        st.session_state[WEB_CLAIM] = claim_code


def session_cookie_html() -> str | None:
    """The invisible image that sets (after sign-in) or clears (after sign-out) the session cookie."""
    from dashboard import session_cookie

    if code := st.session_state.get(WEB_CLAIM):
        return session_cookie.claim_image(code)
    if st.session_state.get(CLEAR_COOKIE):
        return session_cookie.clear_image()
    return None


def _cookie_token() -> str | None:
    from dashboard.session_cookie import COOKIE

    try:
        token = st.context.cookies.get(COOKIE)
    except Exception:  # no browser connection (a script run outside the server)
        return None
    return token if isinstance(token, str) else None


def _resume_from_cookie(engine) -> None:
    """A new connection from a browser that is still signed in (reload, new tab, pasted link)."""
    from models.rules.web_sessions import resume

    token = _cookie_token()
    if not token or st.session_state.get(CLEAR_COOKIE):
        return
    with write_session(engine) as session:
        back = resume(session, token=token)
    if back is None:  # ended or unknown: stop presenting it
        st.session_state[CLEAR_COOKIE] = True
    else:
        sign_in(back.username, web_session=back.session_id)


def _web_session_open(engine) -> bool:
    """False once this browser's session was ended anywhere; drops the claim code once it is used.
    Most runs only read; a write happens to end the session or to note activity once a minute."""
    from models.rules.web_sessions import look, still_open

    sid = st.session_state.get(WEB_SESSION)
    if not sid:
        return True  # signed in without one (single sign-on keeps its own cookie; tests)
    with read_session(engine) as session:
        seen = look(session, session_id=sid)
    if seen.needs_write:
        with write_session(engine) as session:
            still_open(session, session_id=sid)
    if seen.claimed:
        st.session_state.pop(WEB_CLAIM, None)
    return seen.open


PREPARED_FILES = "_prepared_files"  # files on the server a page made for this session (exports)


def sign_out(message: str | None = None) -> None:
    """Forget everything this session prepared (downloads, results, form input, files written for
    it), so the next person at the same browser tab starts from nothing."""
    for path in st.session_state.get(PREPARED_FILES, ()):
        Path(path).unlink(missing_ok=True)
    identity = sso_identity()
    if sid := st.session_state.get(WEB_SESSION):
        from models.rules.web_sessions import end_session

        with write_session(data.engine()) as session:
            end_session(session, session_id=sid)
    had_cookie = bool(sid) or bool(_cookie_token())
    st.session_state.clear()
    if had_cookie:  # this connection still presents the old cookie: do not resume it, clear it
        st.session_state[CLEAR_COOKIE] = True
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
    engine = engine or data.engine()
    if not st.session_state.get("username"):
        _resume_from_cookie(engine)
    name = st.session_state.get("username")
    if not name:
        return None
    if not _web_session_open(engine):
        sign_out("Your session has ended (signed out in another tab, expired, or the account changed).")
        return None
    now = time.time()
    last = st.session_state.get("last_active")
    if last is not None and now - last > idle_limit_seconds():
        sign_out(f"You were signed out after {idle_limit_seconds() // 60} minutes without activity.")
        return None
    try:
        with read_session(engine) as session:
            user = get_user(session, name)
    except NotFound:
        sign_out("Your account no longer exists; ask an administrator.")
        return None
    if user.disabled or user.role in NOT_PEOPLE:
        sign_out("Your account is disabled; ask an administrator.")
        return None
    st.session_state["last_active"] = now
    return user
