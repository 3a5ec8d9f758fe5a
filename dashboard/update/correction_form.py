"""Correct an evidence item: a new item supersedes it; the old one stays in the trail."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.update import evidence, saving
from dashboard.update.record import Editing


def render(ed: Editing) -> tuple[bool, list]:
    """Draw the form when the record has evidence; return (submitted, uploaded files)."""
    current = [e for e in data.read("recommendation_view", ed.key)["evidence"] if not e.get("superseded")]
    if not current:
        return False, []
    with st.expander("Correct an evidence item (the old one stays in the trail, superseded)"):
        with st.form("fix_form", clear_on_submit=False, border=False):
            by_key = {e["key"]: e for e in current}
            st.selectbox(
                "Evidence to correct",
                list(by_key),
                key="fix_old",
                format_func=lambda k: f"{by_key[k]['title'][:80]} ({k})",
            )
            st.text_area("Why it needs correcting (required)", key="fix_reason", max_chars=4000)
            upload = evidence.fields(ed, "fix", "**The corrected evidence**", reuse=False)
            clicked = st.form_submit_button(
                "Save the correction", key="fix_save", icon=":material/published_with_changes:"
            )
    return clicked, upload


def handle(ed: Editing, upload: list) -> None:
    ss = st.session_state
    reason = (ss.get("fix_reason") or "").strip()
    if not reason:
        st.error("A reason is required to correct evidence: say what was wrong. Nothing was saved.")
        return
    got = evidence.read_or_error("fix", upload)
    if got is False:
        return
    ev, cite = got
    if ev is None:
        st.error("The correction needs a file or a citation. Nothing was saved.")
        return
    if not saving.write(
        ed,
        reason=reason,
        change={},
        evidence=ev,
        cite=cite,
        upload=upload,
        close_as=None,
        supersedes=ss.get("fix_old"),
    ):
        return
    saving.done(f"Evidence {ss.get('fix_old')} corrected: the new item supersedes it; both stay in the trail")
