"""Update, for staff officers: move a recommendation along its lifecycle, change its owner,
target date or progress, and attach evidence — with a reason, in one audited transaction.
Closing (implemented / not implemented) is proposed here and waits for someone else to verify it.

The form carries the version the officer loaded; if a colleague saved first, nothing is saved,
the conflict is shown field by field, and the officer's input stays on screen. The parts live in
:mod:`dashboard.update`.
"""

from types import SimpleNamespace

import streamlit as st

from dashboard import data, ui
from dashboard.update import change_form, closure_form, correction_form, obstacle_form, record
from models.reads.queues import closure_state
from models.rules.permissions import can

user = ui.page_user("recommendation.update", "the update page")

st.title("Update a recommendation")

choices = [
    c
    for c in data.read("recommendation_choices")
    if can(user, "recommendation.update", SimpleNamespace(owner=c["owner"], key=c["key"]))
]
if not choices:
    if user.office:
        st.info(
            ui.say(
                "No recommendation is owned by your office ({office}), so there is nothing you can update.",
                office=user.office,
            )
        )
    else:
        ui.empty_store()
    st.stop()

keys = [c["key"] for c in choices]
titles = {c["key"]: c["title"] for c in choices}
record.pick(keys)
key = st.selectbox("Recommendation", keys, key="upd_key", format_func=lambda k: f"{k} — {titles[k][:90]}")
st.session_state["detail_key"] = key

ed = record.Editing(
    user=user,
    key=key,
    loaded=record.current(key),
    keys=keys,
    titles=titles,
    closure=data.fresh(closure_state, key),
)
if msg := st.session_state.pop("upd_flash", None):
    st.success(ui.md_escape(msg))
record.header(ed)
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
