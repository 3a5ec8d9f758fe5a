"""Watch and unwatch buttons beside what can be watched (a recommendation, its owner office, an
obstacle). A watch is personal, not a change to the record, so it writes no trail event
(:mod:`models.rules.notifications`); the button reads the watch fresh, as it is now."""

from __future__ import annotations

import streamlit as st

from dashboard import data, ui
from models.reads.notifications import is_watching
from models.rules.notifications import unwatch, watch
from models.rules.users import get_user
from models.store.db import write_session
from models.store.errors import DomainError
from models.store.tables import User

LABELS = {
    "recommendation": "this recommendation",
    "office": "office {target}",
    "obstacle": "obstacle {target}",
}


def toggle(user: User, kind: str, target: str, key: str, where=st) -> None:
    """A Watch / Stop watching button for one target; a click saves it and reruns the page."""
    on = data.fresh(is_watching, user.username, kind, target)
    what = ui.say(LABELS[kind], target=target)
    label = f"Stop watching {what}" if on else f"Watch {what}"
    if where.button(label, key=key, icon=":material/visibility_off:" if on else ":material/visibility:"):
        try:
            with write_session(data.engine()) as session:
                me = get_user(session, user.username)
                (unwatch if on else watch)(session, user=me, kind=kind, target=target)
        except DomainError as e:
            where.error(ui.refusal(e))
            return
        st.session_state["watch_flash"] = (
            f"You no longer watch {what}."
            if on
            else f"You now watch {what}: its changes reach Notifications."
        )
        st.rerun()


def flash() -> None:
    if msg := st.session_state.pop("watch_flash", None):
        st.toast(msg, icon=":material/visibility:")


def record_buttons(user: User, rec: dict) -> None:
    """Below a recommendation's detail: watch it, and watch the office that owns it."""
    flash()
    c1, c2, _ = st.columns([1, 1, 2])
    toggle(user, "recommendation", rec["key"], key="watch_rec", where=c1)
    if rec["owner"] and rec["owner"] != user.office:
        toggle(user, "office", rec["owner"], key="watch_office", where=c2)
    elif rec["owner"]:
        c2.caption("Your office owns it: its changes reach your Notifications by default.")
