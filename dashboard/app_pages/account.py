"""My account, for everyone: who the app knows you as, and changing your own password."""

import streamlit as st

from dashboard import data, ui
from dashboard.client import client_address
from dashboard.identity import WEB_SESSION
from models.rules.auth import change_password
from models.rules.permissions import can
from models.rules.users import get_user
from models.store.db import write_session
from models.store.errors import DomainError
from models.store.settings import get_settings

user = ui.page_user("read", "your account")
st.title("My account")

c = st.columns(4)
c[0].metric("Username", ui.md_escape(user.username))
c[1].metric("Role", user.role)
c[2].metric("Office", ui.md_escape(user.office or "none"))
c[3].metric("Verifies closures", "yes" if can(user, "closure.verify") else "no")
st.caption(
    ui.say(
        "{name} · e-mail {email} · last sign-in ",
        name=user.display_name or user.username,
        email=user.email or "none",
    )
    + (f"{user.last_login_at:%Y-%m-%d %H:%M} UTC" if user.last_login_at else "not recorded")
    + ". An administrator changes the role, office and e-mail."
)

if msg := st.session_state.pop("acct_flash", None):
    st.success(msg, icon=":material/task_alt:")

st.subheader("Change password")
if not user.password_hash:
    st.info(
        "You sign in through single sign-on, so there is no password to change here.", icon=":material/key:"
    )
    st.stop()

min_len = get_settings().min_password_length
with st.form("acct_pw_form", clear_on_submit=True, border=True):
    current = st.text_input("Current password", type="password", key="acct_current")
    new = st.text_input(
        f"New password (at least {min_len} characters; a passphrase is best)", type="password", key="acct_new"
    )
    again = st.text_input("New password again", type="password", key="acct_again")
    submitted = st.form_submit_button(
        "Change password", type="primary", key="acct_change", icon=":material/lock:"
    )

if submitted:
    if not current or not new:
        st.error("Enter your current password and the new one.")
    elif new != again:
        st.error("The two new passwords differ; type the same one twice. Nothing changed.")
    elif new == current:
        st.error("The new password is the same as the current one. Nothing changed.")
    else:
        try:
            with write_session(data.engine()) as session:
                change_password(
                    session,
                    user=get_user(session, user.username),
                    old_password=current,
                    new_password=new,
                    client=client_address(),
                    keep_session=st.session_state.get(WEB_SESSION),  # other browsers are signed out
                )
        except DomainError as e:
            st.error(ui.refusal(e, "Not changed: "))
        else:
            data.invalidate()
            st.session_state["acct_flash"] = "Password changed. Use the new one next time you sign in."
            st.rerun()
