"""Users, for admins: every account with its role, office, verifier flag and last sign-in; add
people (with a generated password shown once, or single-sign-on only), change their role,
office or verifier flag, disable or enable them, and reset a password. Every change is an
event in the audit trail, made by models.rules.auth."""

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from dashboard import data, ui
from models.rules.auth import create_user, generate_password, reset_password
from models.rules.permissions import ROLES
from models.rules.users import get_user, set_can_verify, set_disabled, set_office, set_role
from models.store.db import write_session
from models.store.errors import DomainError

admin = ui.page_user("user.manage", "account management")
NONE = "(none)"
st.title("Users")

secret = st.session_state.pop("users_secret", None)  # a generated password: shown on this run only
if secret:
    with st.container(border=True):
        st.success(
            ui.say(
                "{what} Hand this password to {who} now: it is shown only this once and never stored "
                "(they can change it under My account).",
                what=secret["what"],
                who=secret["username"],
            ),
            icon=":material/key:",
        )
        st.code(secret["password"], language=None)
if msg := st.session_state.pop("users_flash", None):
    st.success(ui.md_escape(msg), icon=":material/task_alt:")


def explain(err: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in err.errors())


def run(action, done: str, secret_for: str | None = None, what: str = "") -> None:
    """Run ``action(session, actor)`` in one write transaction; show a refusal as an error."""
    try:
        with write_session(data.engine()) as session:
            result = action(session, get_user(session, admin.username))
    except ValidationError as e:
        st.error(ui.say("Not saved: {why}", why=explain(e)))
        return
    except DomainError as e:
        st.error(ui.refusal(e, "Not saved: "))
        return
    data.invalidate()
    if secret_for:
        st.session_state["users_secret"] = {"username": secret_for, "password": result, "what": what}
    st.session_state["users_flash"] = done(result) if callable(done) else done
    st.rerun()


users = data.read("user_list")
owners = data.read("owner_choices")

# ------------------------------------------------------------------ the list
df = pd.DataFrame(users)
if len(df):
    df["sign-in"] = [
        ("password or SSO" if e else "password") if p else ("single sign-on" if e else "none")
        for p, e in zip(df["has_password"], df["email"])
    ]
    st.dataframe(
        df[
            [
                "username",
                "display_name",
                "role",
                "office",
                "email",
                "can_verify",
                "disabled",
                "sign-in",
                "last_login_at",
                "locked_until",
            ]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "username": "Username",
            "display_name": "Name",
            "role": "Role",
            "office": "Office",
            "email": "E-mail",
            "sign-in": "Sign-in",
            "can_verify": st.column_config.CheckboxColumn("Verifier"),
            "disabled": st.column_config.CheckboxColumn("Disabled"),
            "last_login_at": st.column_config.DatetimeColumn("Last sign-in", format="YYYY-MM-DD HH:mm"),
            "locked_until": st.column_config.DatetimeColumn("Locked until", format="YYYY-MM-DD HH:mm"),
        },
    )
st.caption(
    f"{len(users)} account(s). Auditors and admins always verify closures; “Verifier” designates someone else "
    "(e.g. an editor) to verify too. An editor with an office edits only that office's recommendations."
)

left, right = st.columns(2, gap="large")

# ------------------------------------------------------------------ add a person
with left, st.form("usr_add_form", border=True):
    st.markdown("**Add a person**")
    a1, a2 = st.columns(2)
    username = a1.text_input("Username", key="usr_new_name", max_chars=80, placeholder="e.g. maria")
    display = a2.text_input("Full name", key="usr_new_display", max_chars=200)
    a3, a4 = st.columns(2)
    role = a3.selectbox("Role", ROLES, key="usr_new_role", index=0)
    office = a4.selectbox(
        "Office (editors edit only its recommendations)",
        [NONE, *owners],
        key="usr_new_office",
        accept_new_options=True,
    )
    email = st.text_input(
        "E-mail (needed for single sign-on and reminders)", key="usr_new_email", max_chars=254
    )
    how = st.radio(
        "Sign-in",
        ["password", "sso"],
        key="usr_new_how",
        horizontal=True,
        format_func=lambda h: (
            "Generated password (shown once)" if h == "password" else "Single sign-on only (no password)"
        ),
    )
    add = st.form_submit_button("Add", type="primary", key="usr_add", icon=":material/person_add:")

if add:
    name, mail = username.strip(), (email or "").strip().lower() or None
    if not name:
        st.error("Give the username.")
    elif how == "sso" and not mail:
        st.error("A single-sign-on account needs the e-mail the identity provider reports.")
    else:
        password = generate_password() if how == "password" else None
        run(
            lambda s, actor: (
                create_user(
                    s,
                    username=name,
                    role=role,
                    password=password,
                    actor=actor,
                    office=None if office in (NONE, None, "") else office.strip(),
                    display_name=display.strip(),
                    email=mail,
                ),
                password,
            )[1],
            done=f"Added {name} ({role}).",
            secret_for=name if password else None,
            what=f"Account {name} created." if password else "",
        )

# ------------------------------------------------------------------ change one person
with right:
    names = [u["username"] for u in users]
    if names:
        pick = st.selectbox(
            "Manage",
            names,
            key="usr_pick",
            format_func=lambda n: f"{n} — {next(u['role'] for u in users if u['username'] == n)}",
        )
        u = next(x for x in users if x["username"] == pick)
        with st.form(f"usr_edit_form_{pick}", border=True):
            st.markdown(
                ui.say("**{pick}**", pick=pick)
                + (ui.say(" ({name})", name=u["display_name"]) if u["display_name"] else "")
            )
            e1, e2 = st.columns(2)
            new_role = e1.selectbox(
                "Role",
                ROLES,
                index=ROLES.index(u["role"]) if u["role"] in ROLES else 0,
                key=f"usr_role_{pick}",
            )
            office_opts = [NONE, *owners] + (
                [u["office"]] if u["office"] and u["office"] not in owners else []
            )
            new_office = e2.selectbox(
                "Office",
                office_opts,
                index=office_opts.index(u["office"] or NONE),
                key=f"usr_office_{pick}",
                accept_new_options=True,
            )
            new_verify = st.checkbox(
                "Designated verifier of closures", value=u["can_verify"], key=f"usr_verify_{pick}"
            )
            new_disabled = st.checkbox(
                "Disabled (cannot sign in or act)", value=u["disabled"], key=f"usr_disabled_{pick}"
            )
            why = st.text_input("Reason (recorded with a role change)", key=f"usr_reason_{pick}")
            save = st.form_submit_button(
                "Save changes", type="primary", key="usr_save", icon=":material/save:"
            )
        if st.button(
            "Reset password",
            key="usr_reset",
            icon=":material/lock_reset:",
            help="Sets a new generated password, shown once, and lifts a lockout.",
        ):
            run(
                lambda s, actor: reset_password(s, username=pick, actor=actor),
                done=f"Password of {pick} reset.",
                secret_for=pick,
                what=f"New password for {pick}.",
            )
        if save:
            office_value = None if new_office in (NONE, None, "") else new_office.strip()

            def apply(s, actor):
                changed = []
                if new_role != u["role"]:
                    set_role(
                        s, username=pick, role=new_role, actor=actor, reason=why.strip() or "role changed"
                    )
                    changed.append(f"role {u['role']} → {new_role}")
                if office_value != u["office"]:
                    set_office(s, username=pick, office=office_value, actor=actor)
                    changed.append(f"office → {office_value or 'none'}")
                if new_verify != u["can_verify"]:
                    set_can_verify(s, username=pick, can_verify=new_verify, actor=actor)
                    changed.append("verifier" if new_verify else "no longer a verifier")
                if new_disabled != u["disabled"]:
                    set_disabled(s, username=pick, disabled=new_disabled, actor=actor)
                    changed.append("disabled" if new_disabled else "enabled")
                if not changed:
                    raise DomainError("nothing to change: the values shown are the saved ones")
                return changed

            run(apply, done=lambda changed: f"Saved {pick}: {', '.join(changed)}.")
