"""The main form: a lifecycle move (only the allowed ones), owner, target date, progress, a reason,
and optional evidence. Only the fields the officer changed are sent.

Drawn in a bordered container, not ``st.form``: a form's inputs reach the session only when it is
submitted, so what an officer typed before visiting another page could not be kept as a draft
(:mod:`dashboard.update.drafts`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import streamlit as st

from dashboard import ui
from dashboard.update import drafts, evidence, saving
from dashboard.update.record import KEEP, Editing, Slots
from models.rules.lifecycle import CLOSED, allowed_next
from models.store.settings import get_settings


def target_date_window() -> tuple[date, date]:
    """The dates the schema accepts (settings), so the picker offers nothing that would be refused."""
    s = get_settings()
    today = datetime.now(UTC).date()
    return s.target_date_earliest, today + timedelta(
        days=round(365.25 * s.target_date_years_ahead)
    ) - timedelta(days=1)


def render(ed: Editing) -> tuple[bool, list, Slots]:
    """Draw the form; return (submitted, uploaded files)."""
    loaded = ed.loaded
    nexts = [] if ed.pending else list(allowed_next(loaded["status"]))
    if st.session_state.get("upd_status") not in [KEEP, *nexts]:
        st.session_state["upd_status"] = KEEP
    with st.container(border=True, key="upd_form"):
        c1, c2 = st.columns(2)
        c1.selectbox(
            "New status",
            [KEEP, *nexts],
            key="upd_status",
            format_func=lambda s: (
                f"Keep: {ui.status_label(loaded['status'])}" if s == KEEP else ui.status_label(s)
            ),
            help="Only the moves the lifecycle allows from the current status are offered. Implemented and "
            "Not implemented propose a closure, which someone else verifies (see “Propose closure” "
            "below).",
        )
        c2.text_input("Owner (office)", key="upd_owner", max_chars=300)
        c3, c4 = st.columns(2)
        first, last = target_date_window()
        if loaded[
            "target_date"
        ]:  # a date saved before the window was set stays showable (not re-sent unless changed)
            first, last = min(first, loaded["target_date"]), max(last, loaded["target_date"])
        c3.date_input("Target date", key="upd_target", format="YYYY-MM-DD", min_value=first, max_value=last)
        c4.slider("Progress (%)", 0, 100, key="upd_progress")
        st.text_area(
            "Reason (required)",
            key="upd_reason",
            max_chars=4000,
            placeholder="Why this change? It goes into the audit trail with your name.",
        )
        reason_slot = st.empty()  # "a reason is required" appears under the box, not below the page
        upload = evidence.fields(ed, "upd", "**Evidence** (optional; needed before closing as implemented)")
        submitted = st.button("Save", type="primary", key="upd_save", icon=":material/save:")
        save_slot = st.empty()  # every other refusal appears right under Save
    drafts.keep(loaded)
    return submitted, upload, Slots(reason_slot, save_slot)


def handle(ed: Editing, upload: list, slots: Slots) -> None:
    ss = st.session_state
    loaded, key = ed.loaded, ed.key
    reason = (ss.get("upd_reason") or "").strip()
    if not reason:
        slots.reason.error("A reason is required for every change: say why in a sentence. Nothing was saved.")
        return
    change: dict = {}
    if ss.get("upd_status") not in (None, KEEP):
        change["status"] = ss["upd_status"]
    owner = (ss.get("upd_owner") or "").strip()
    if owner != loaded["owner"]:
        change["owner"] = owner
    if ss.get("upd_target") != loaded["target_date"]:
        change["target_date"] = ss.get("upd_target")
    if ss.get("upd_progress") != loaded["progress"]:
        change["progress"] = ss.get("upd_progress")
    got = evidence.read_or_error("upd", upload, where=slots.save)
    if got is False:
        return
    ev, cite = got
    if not change and ev is None:
        slots.save.error("Nothing to save: change a field or attach evidence.")
        return
    close_as = (
        change.pop("status") if change.get("status") in CLOSED else None
    )  # closing is proposed, then verified
    if not saving.write(
        ed,
        reason=reason,
        change=change,
        evidence=ev,
        cite=cite,
        upload=upload,
        close_as=close_as,
        also=ss.get("upd_ev_also") or (),
        where=slots.save,
    ):
        return
    if close_as:
        saving.done(
            f"Closure of {key} as {ui.status_label(close_as)} proposed: waiting for verification"
            + (" (with evidence)" if ev is not None else "")
        )
    what = ", ".join(f"{k} → {ui.status_label(v) if k == 'status' else v}" for k, v in change.items())
    saving.done(f"Saved {key}: {what or 'evidence attached'}" + (" (with evidence)" if change and ev else ""))
