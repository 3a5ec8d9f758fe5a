"""Sign in: username and password, checked by models.auth (which records the attempt)."""

import streamlit as st

from models.db import write_session
from models.errors import DomainError

from dashboard import data
from dashboard.identity import sign_in

st.title("Recommendation Tracker")
st.caption("Track the recommendations of five studies of U.S. defense cooperation with Mexico and Latin America.")
if msg := st.session_state.pop("signed_out_message", None):
    st.info(msg)

with st.form("sign_in_form"):
    username = st.text_input("Username", key="sign_in_username")
    password = st.text_input("Password", type="password", key="sign_in_password")
    submitted = st.form_submit_button("Sign in", type="primary", key="sign_in_submit")

if submitted:
    if not username.strip() or not password:
        st.error("Enter your username and password.")
    else:
        try:
            from models.auth import authenticate
        except ImportError:
            st.error("Password sign-in is not available in this build yet; ask an administrator.")
            st.stop()
        try:
            with write_session(data.engine()) as session:
                user = authenticate(session, username=username.strip(), password=password)
                name = user.username
        except DomainError as e:
            st.error(str(e))
        else:
            data.invalidate()  # the sign-in is in the trail now
            sign_in(name)
            st.rerun()
