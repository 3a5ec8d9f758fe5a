"""Sign in: single sign-on when the deployment has an OpenID Connect provider (secrets.toml
[auth]), and username and password, checked by models.rules.auth (which records every attempt)."""

import streamlit as st

from dashboard import data, sso, ui
from dashboard.client import client_address
from dashboard.identity import sign_in, sso_configured, sso_identity
from models.store.db import write_session
from models.store.errors import DomainError

st.title("Recommendation Tracker")
st.caption(
    "Track the recommendations of five studies of U.S. defense cooperation with Mexico and Latin America."
)
if msg := st.session_state.pop("signed_out_message", None):
    st.info(ui.md_escape(msg))

# ------------------------------------------------------------------ single sign-on
refused = st.session_state.get("sso_refused")
if refused:
    # why, in words (unknown identity, unverified or missing e-mail, disabled, or the provider's own refusal);
    # models.rules.auth has recorded it in the trail
    st.error(
        ui.say(
            "**Not signed in.** {why}.",
            why=(st.session_state.get("sso_refused_message") or "single sign-on did not sign you in").rstrip(
                "."
            ),
        ),
        icon=":material/no_accounts:",
    )
if refused and sso.logged_in():  # signed in at the provider as someone this app refuses
    if st.button("Sign out of single sign-on", key="sso_logout", icon=":material/logout:"):
        for k in ("sso_refused", "sso_refused_message", "sso_suppressed", "_sso_claims"):
            st.session_state.pop(k, None)
        st.logout()
elif sso_configured():
    if st.button("Sign in with single sign-on", key="sso_login", type="primary", icon=":material/key:"):
        st.session_state.pop("sso_refused", None)
        st.session_state.pop("sso_refused_message", None)
        if sso_identity():  # still signed in at the provider (after signing out here): continue as them
            st.session_state.pop("sso_suppressed", None)
            st.rerun()
        st.login()
    st.caption("…or with a username and password:")

# ------------------------------------------------------------------ username and password
with st.form("sign_in_form"):
    username = st.text_input("Username", key="sign_in_username")
    password = st.text_input("Password", type="password", key="sign_in_password")
    submitted = st.form_submit_button(
        "Sign in", type="primary" if not sso_configured() else "secondary", key="sign_in_submit"
    )

if submitted:
    if not username.strip() or not password:
        st.error("Enter your username and password.")
    else:
        from models.rules.auth import authenticate
        from models.rules.web_sessions import open_session

        try:
            with write_session(data.engine()) as session:
                user = authenticate(
                    session, username=username.strip(), password=password, client=client_address()
                )
                name = user.username
                # a reload, a new tab or a pasted link stays signed in (dashboard.session_cookie)
                web_session, claim_code = open_session(session, username=name, client=client_address())
        except DomainError as e:
            st.error(ui.refusal(e))
        else:
            data.invalidate()  # the sign-in is in the trail now
            sign_in(name, web_session=web_session, claim_code=claim_code)
            st.rerun()
