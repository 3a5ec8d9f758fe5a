"""Drafts of the main update form, kept in the session while the officer visits other pages.

Streamlit drops a widget's value at the end of any run that does not draw it, so leaving the
Update page used to lose what was typed (and, before the fix in :func:`record.current`, turned it
into a save of defaults). The change form is drawn outside ``st.form`` so every input reaches the
session as it is made; after each run the inputs that differ from the record as loaded are copied
here, per record, with the version they were made against. On return they are put back, only those
inputs: a field the officer did not touch shows the record as stored now. A draft made against an
older version keeps that version, so saving it meets the colleague's change in the conflict panel
instead of overwriting it. A file picked for upload cannot be put back (browsers do not allow it);
the notice says so. Drafts live in the officer's session only, at most :data:`MAX` of them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from dashboard.update.record import KEEP

DRAFTS = "upd_drafts"
MAX = 20
# widget -> the loaded field it starts from (None: starts empty)
TRACKED = {
    "upd_status": None,
    "upd_owner": "owner",
    "upd_target": "target_date",
    "upd_progress": "progress",
    "upd_reason": None,
    "upd_ev_title": None,
    "upd_ev_summary": None,
    "upd_ev_observed": None,
    "upd_ev_also": None,
    "upd_cite_source": None,
    "upd_cite_section": None,
    "upd_cite_start": None,
    "upd_cite_end": None,
}


def _blank(widget: str, value) -> bool:
    return value in (None, "", [], ()) or (widget == "upd_status" and value == KEEP)


def keep(loaded: dict) -> None:
    """After the form is drawn: remember the inputs that differ from the record as loaded."""
    ss = st.session_state
    drafts: dict = ss.setdefault(DRAFTS, {})
    changed = {}
    for widget, fld in TRACKED.items():
        if widget not in ss:
            continue
        value = ss[widget]
        if (fld is None and not _blank(widget, value)) or (fld is not None and value != loaded[fld]):
            changed[widget] = value
    key = loaded["key"]
    if not changed:
        drafts.pop(key, None)
        return
    old = drafts.get(key)
    version = old["version"] if old and old["values"] else loaded["version"]
    drafts[key] = {"version": version, "at": datetime.now(UTC), "values": changed}
    while len(drafts) > MAX:
        drafts.pop(next(iter(drafts)))


def restore(loaded: dict) -> dict | None:
    """When the inputs were dropped (a visit to another page, another record picked): put the
    record's draft back; returns it, with ``stale`` when the record was saved by someone since, or
    None."""
    draft = st.session_state.get(DRAFTS, {}).get(loaded["key"])
    if not draft:
        return None
    st.session_state.update(draft["values"])
    stale = draft["version"] != loaded["version"]
    loaded["version"] = draft["version"]  # a stale draft's save meets the colleague's change
    return {**draft, "stale": stale}


def discard(key: str) -> None:
    st.session_state.get(DRAFTS, {}).pop(key, None)
    if (st.session_state.get("upd_restored") or {}).get("key") == key:
        del st.session_state["upd_restored"]


def notice(key: str, loaded: dict) -> None:
    """Above the form, while a draft put back is unsaved: what was kept, and a way to drop it."""
    ss = st.session_state
    if ss.pop("upd_reloaded", False):
        kept = restore(loaded)
        ss["upd_restored"] = {"key": key, **kept} if kept else None
    shown = ss.get("upd_restored")
    if not shown or shown["key"] != key:
        return
    c1, c2 = st.columns([5, 1])
    c1.info(
        f"Your unsaved changes to this record from {shown['at']:%H:%M} UTC were kept: "
        f"{len(shown['values'])} input(s) as you left them. A file you had picked must be picked again."
        + (
            " The record was saved by someone else since: saving shows what they changed first."
            if shown["stale"]
            else ""
        ),
        icon=":material/edit_note:",
    )
    if c2.button("Discard draft", key="upd_discard", icon=":material/delete:"):
        discard(key)
        ss["upd_reset"] = True
        st.rerun()
