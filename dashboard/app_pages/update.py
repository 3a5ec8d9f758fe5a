"""Update, for staff officers: move a recommendation along its lifecycle, change its owner,
target date or progress, and attach evidence — with a reason, in one audited transaction.
Closing (implemented / not implemented) is proposed here and waits for someone else to verify it.

The form carries the version the officer loaded; if a colleague saved first, nothing is saved,
the conflict is shown field by field, and the officer's input stays on screen. The parts live in
:mod:`dashboard.update`.
"""

import streamlit as st

from dashboard import data, ui
from dashboard.picker import record_picker
from dashboard.update import change_form, closure_form, correction_form, drafts, obstacle_form, record
from models.reads.queues import closure_state

user = ui.page_user("recommendation.update", "the update page")

st.title("Update a recommendation")

# an editor scoped to an office picks among its records; the picker searches, never lists the store
scope = user.office if user.role == "editor" and user.office else None
if not data.read("find_records", "", owner=scope, limit=1)["rows"]:
    if scope:
        st.info(
            ui.say(
                "No recommendation is owned by your office ({office}), so there is nothing you can update.",
                office=scope,
            )
        )
    else:
        ui.empty_store()
    st.stop()

key = record_picker("Recommendation", key="upd_key", selected=record.start_key(), owner=scope)
if key is None:
    st.stop()
st.session_state["detail_key"] = key

ed = record.Editing(
    user=user,
    key=key,
    loaded=record.current(key),
    scope=scope,
    closure=data.fresh(closure_state, key),
)
if msg := st.session_state.pop("upd_flash", None):
    st.success(ui.md_escape(msg))
record.header(ed)
drafts.notice(key, ed.loaded)
record.conflict_panel(key)

saved, upload, slots = change_form.render(ed)
propose, clo_upload = closure_form.render(ed)
correct, fix_upload = correction_form.render(ed)
obstacle_form.render(ed)
if saved:
    change_form.handle(ed, upload, slots)
if correct:
    correction_form.handle(ed, fix_upload)
if propose:
    closure_form.handle(ed, clo_upload)
