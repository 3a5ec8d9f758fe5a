"""Propose closing as implemented or not implemented; it then waits for someone else to verify."""

from __future__ import annotations

import streamlit as st

from dashboard import ui
from dashboard.update import evidence, saving
from dashboard.update.record import Editing
from models.rules.lifecycle import CLOSED, allowed_next


def render(ed: Editing) -> tuple[bool, list]:
    """Draw the form when the record can be closed; return (submitted, uploaded files)."""
    loaded = ed.loaded
    closable = [t for t in allowed_next(loaded["status"]) if t in CLOSED]
    if ed.pending or not closable:
        if not ed.pending and loaded["status"] in CLOSED:
            st.caption(
                f"This recommendation is closed ({ui.status_label(loaded['status'])}); reopen it above with "
                "a reason if the situation changed."
            )
        return False, []
    with st.form("clo_form", clear_on_submit=False, border=True):
        st.markdown("#### Propose closure")
        st.caption(
            "Closing takes two people: you propose, and an auditor, an admin or a designated verifier other "
            "than you accepts or returns it. Until then the recommendation keeps its status. "
            + (
                "Closing as implemented needs at least one evidence item: the record has "
                f"{loaded['evidence_count']}; attach one below if it has none."
                if "implemented" in closable
                else f"From {ui.status_label(loaded['status'])} it can only be closed as not implemented "
                "(implemented is reached from In progress)."
            )
        )
        st.radio("Close as", closable, key="clo_target", horizontal=True, format_func=ui.status_label)
        st.text_area(
            "Why it can be closed (required)",
            key="clo_reason",
            max_chars=4000,
            placeholder="What was done (or why it will not be), and where the evidence is.",
        )
        upload = evidence.fields(
            ed, "clo", "**Evidence for the closure** (optional here if the record already has it)"
        )
        clicked = st.form_submit_button(
            "Propose closure", type="primary", key="clo_propose", icon=":material/task_alt:"
        )
    return clicked, upload


def handle(ed: Editing, upload: list) -> None:
    ss = st.session_state
    reason = (ss.get("clo_reason") or "").strip()
    target = ss.get("clo_target")
    if not reason:
        st.error(
            "A reason is required to propose a closure: say what was done and where the evidence is. "
            "Nothing was saved."
        )
        return
    got = evidence.read_or_error("clo", upload)
    if got is False:
        return
    ev, cite = got
    if not saving.write(
        ed,
        reason=reason,
        change={},
        evidence=ev,
        cite=cite,
        upload=upload,
        close_as=target,
        also=ss.get("clo_ev_also") or (),
    ):
        return
    saving.done(
        f"Closure of {ed.key} as {ui.status_label(target)} proposed: waiting for verification"
        + (" (with evidence)" if ev is not None else "")
    )
