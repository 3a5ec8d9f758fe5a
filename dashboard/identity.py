"""Who is signed in: the username lives in ``st.session_state["username"]``; the user row is
re-read on every run, so a disabled account loses access at once, and an idle session ends."""

from __future__ import annotations

import time

import streamlit as st

from models.errors import NotFound
from models.settings import get_settings
from models.tables import User
from models.users import get_user

from models.db import read_session

from dashboard import data


def idle_limit_seconds() -> int:
    return int(getattr(get_settings(), "session_idle_minutes", 30)) * 60


def sign_in(username: str) -> None:
    st.session_state["username"] = username
    st.session_state["last_active"] = time.time()


def sign_out(message: str | None = None) -> None:
    for k in ("username", "last_active"):
        st.session_state.pop(k, None)
    if message:
        st.session_state["signed_out_message"] = message


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
