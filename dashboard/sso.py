"""Single sign-on through Streamlit's own OpenID Connect login (``st.login``), made to work with
real providers and to say what went wrong.

Streamlit keeps the ID token's claims in ``st.user``. Many providers (the OpenID-certified
``oidc-provider``, Okta, Keycloak with default mappers) put the e-mail in the UserInfo response
instead; with ``expose_tokens = ["access"]`` in secrets.toml this module asks the provider's
UserInfo endpoint (from its discovery document) for it. An identity is admitted only with an
e-mail the provider says is verified (``RECTRACK_SSO_REQUIRE_EMAIL_VERIFIED``), that maps to an
enabled local account (:func:`models.rules.single_sign_on.user_for_identity`, which audits every outcome).

When the provider refuses the sign-in (``/oauth2callback?error=...``: a prompt it does not
support, a denied consent) or the token exchange fails, Streamlit only redirects home.
:class:`CallbackWatch`, an ASGI middleware on the server (``dashboard/server.py``), sees that
callback, keeps what happened under a random token and adds ``?sso_failure=TOKEN`` to the
redirect; the sign-in page then shows it in words and records it (:func:`take_failure`).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.request
from urllib.parse import parse_qs, urlencode

import streamlit as st

from models.store.errors import DomainError
from models.store.settings import get_settings

_FAILURES: dict[str, tuple[float, dict]] = {}
_LOCK = threading.Lock()
_KEEP_SECONDS = 600


def remember_failure(what: dict) -> str:
    token = secrets.token_urlsafe(16)
    now = time.time()
    with _LOCK:
        for k in [k for k, (at, _) in _FAILURES.items() if now - at > _KEEP_SECONDS]:
            del _FAILURES[k]
        _FAILURES[token] = (now, what)
    return token


def take_failure(token: str | None) -> dict | None:
    """What happened at the callback that redirected here with ``?sso_failure=token`` (once)."""
    if not token:
        return None
    with _LOCK:
        entry = _FAILURES.pop(str(token), None)
    return entry[1] if entry else None


class CallbackWatch:
    """ASGI middleware: a callback that carried an error, or a code that did not end in a signed-in
    cookie, is remembered and the redirect home gets ``?sso_failure=TOKEN``. A callback with neither
    (the provider sending the browser back after signing out) passes untouched."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http" or not scope.get("path", "").endswith("/oauth2callback"):
            return await self.app(scope, receive, send)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        error, code = (query.get("error") or [""])[0], (query.get("code") or [""])[0]
        if not error and not code:
            return await self.app(scope, receive, send)

        async def watch(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                signed_in = any(
                    k.lower() == b"set-cookie"
                    and v.startswith(b"_streamlit_user=")
                    and b"max-age=0" not in v.lower()
                    for k, v in headers
                )
                if not signed_in:
                    what = (
                        {
                            "error": error[:200],
                            "description": (query.get("error_description") or [""])[0][:500],
                        }
                        if error
                        else {
                            "error": "token_exchange_failed",
                            "description": "the code from the provider could not be exchanged for "
                            "tokens (see the server log)",
                        }
                    )
                    token = remember_failure(what)
                    out = []
                    for k, v in headers:
                        if k.lower() == b"location":
                            sep = b"&" if b"?" in v else b"?"
                            v = v + sep + urlencode({"sso_failure": token}).encode()
                        out.append((k, v))
                    message = {**message, "headers": out}
            await send(message)

        return await self.app(scope, receive, watch)


# ------------------------------------------------------------------ the identity, from the ID token or UserInfo


def configured() -> bool:
    """True when secrets.toml has an [auth] section; a missing or unreadable secrets file is fine."""
    try:
        return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)
    except Exception:  # no secrets.toml, or one that does not parse: no single sign-on
        return False


def logged_in() -> bool:
    if not configured():
        return False
    try:
        return bool(st.user.is_logged_in)
    except Exception:
        return False


def _metadata_url() -> str | None:
    auth = st.secrets.get("auth", {})
    url = auth.get("server_metadata_url")
    if not url:  # a named provider: [auth.NAME]
        for value in auth.values():
            if hasattr(value, "get") and value.get("server_metadata_url"):
                return value.get("server_metadata_url")
    return url


def _userinfo(access_token: str) -> dict:
    timeout = 10
    with urllib.request.urlopen(_metadata_url(), timeout=timeout) as r:
        endpoint = json.load(r).get("userinfo_endpoint")
    if not endpoint:
        raise DomainError("the provider's discovery document names no userinfo_endpoint")
    req = urllib.request.Request(
        endpoint, headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.load(r)


def claims() -> dict:
    """The identity's claims: the ID token's, completed from UserInfo when it lacks the e-mail.
    Read once per session (the result, or the reason it could not be read, is kept)."""
    cached = st.session_state.get("_sso_claims")
    user = st.user.to_dict()
    if cached and cached.get("sub") == user.get("sub"):
        return cached
    found = {k: v for k, v in user.items() if k != "tokens"}
    found["email_source"] = "ID token" if found.get("email") else None
    if not found.get("email"):
        try:
            access = st.user.tokens.get("access") if hasattr(st.user.tokens, "get") else None
        except Exception:
            access = None
        if not access:
            found["userinfo_problem"] = (
                "the ID token has no e-mail, and the access token is not exposed to ask "
                'UserInfo for it (add expose_tokens = ["access"] to [auth] in '
                "secrets.toml)"
            )
        else:
            try:
                info = _userinfo(access)
            except (OSError, ValueError, DomainError) as e:
                found["userinfo_problem"] = f"the provider's UserInfo endpoint could not be read ({e})"
            else:
                if info.get("sub") and found.get("sub") and info["sub"] != found["sub"]:
                    found["userinfo_problem"] = "UserInfo answered for another subject than the ID token"
                else:
                    for k in ("email", "email_verified"):
                        if k in info:
                            found[k] = info[k]
                    found["email_source"] = "UserInfo" if found.get("email") else None
    st.session_state["_sso_claims"] = found
    return found


def identity_email() -> str | None:
    """The e-mail of the identity signed in at the provider, or None."""
    if not logged_in():
        return None
    email = claims().get("email")
    return str(email).strip().lower() if email else None


def sign_in_from_provider(engine, sign_in) -> None:
    """If the provider signed someone in and the app has not: map them to a local account (through
    :func:`models.rules.single_sign_on.user_for_identity`, which records the outcome) and ``sign_in(name)``;
    a refusal is kept, in words, for the sign-in page, once per identity and session."""
    from dashboard import data
    from models.rules.single_sign_on import user_for_identity
    from models.store.db import write_session

    if st.session_state.get("username") or not logged_in():
        return
    found = claims()
    subject = str(found.get("email") or found.get("sub") or "?").strip().lower()
    if subject in (st.session_state.get("sso_suppressed"), st.session_state.get("sso_refused")):
        return
    require = get_settings().sso_require_email_verified
    try:
        with write_session(engine or data.engine()) as session:
            name = user_for_identity(
                session,
                email=found.get("email"),
                subject=str(found.get("sub") or ""),
                email_verified=found.get("email_verified"),
                require_verified=require,
                email_source=found.get("email_source"),
                problem=found.get("userinfo_problem"),
            ).username
    except DomainError as e:
        st.session_state["sso_refused"] = subject
        st.session_state["sso_refused_message"] = str(e)
        return
    data.invalidate()  # the sign-in is in the trail now
    st.session_state.pop("sso_refused", None)
    st.session_state.pop("sso_refused_message", None)
    sign_in(name)


def report_callback_failure(engine) -> None:
    """A failed callback (``?sso_failure=TOKEN``): its words kept for the sign-in page, and audited."""
    token = st.query_params.get("sso_failure")
    if not token:
        return
    del st.query_params["sso_failure"]
    what = take_failure(token)
    if what is None:
        return  # unknown or already shown: nothing to say, nothing to record
    from dashboard import data
    from models.rules.single_sign_on import record_sso_failure
    from models.store.db import write_session

    with write_session(engine or data.engine()) as session:
        message = record_sso_failure(session, error=what["error"], description=what["description"])
    data.invalidate()
    st.session_state["sso_refused"] = "?"
    st.session_state["sso_refused_message"] = message
