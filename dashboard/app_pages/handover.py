"""Handover, for admins: when an officer leaves, name a successor for every open recommendation an
office owns (or that the outgoing person answers for), see how many will move before saving, then
save the batch (one event per record, made by models.rules.handover) and download the report the
incoming officer reads."""

import streamlit as st

from dashboard import data, ui
from models.rules.handover import hand_over
from models.rules.users import get_user
from models.store.db import write_session
from models.store.errors import DomainError
from models.workflow.handover_report import handover_html

admin = ui.page_user("handover", "handovers")
ANY_OFFICE, ANYONE = "(every office)", "(whoever answers for them)"
st.title("Handover")
st.caption(
    "When an officer leaves, hand their office's open recommendations (or the ones they answer for) "
    "to a successor in one batch. Each record gets an event with your reason; closed records stay "
    "as they are. The same job on the command line: `rectrack handover`."
)

if done := st.session_state.get("ho_done"):
    with st.container(border=True):
        st.success(
            ui.say(
                "{n} open recommendation(s) handed over to {to} (trail events from {seq}).",
                n=done["moved"],
                to=done["to"],
                seq=done["first_seq"],
            ),
            icon=":material/task_alt:",
        )
        st.download_button(
            "Download the handover report (HTML)",
            data=handover_html(data.engine(), first_seq=done["first_seq"]),
            file_name=f"handover-{done['first_seq']}.html",
            mime="text/html",
            key="ho_report",
            icon=":material/download:",
        )

choices = data.read("handover_choices")
c1, c2, c3 = st.columns(3)
office = c1.selectbox("Office", [ANY_OFFICE, *choices["offices"]], key="ho_office")
outgoing = c2.selectbox(
    "Outgoing person",
    [ANYONE, *choices["outgoing"]],
    key="ho_from",
    help="Only the records this person answers for; with an office, only theirs in that office.",
)
successor = c3.selectbox(
    "Successor",
    choices["successors"],
    index=None,
    key="ho_to",
    placeholder="Pick the person who takes over",
    help="An enabled editor or admin. An editor taking over a whole office also edits for it from now on.",
)
reason = st.text_area("Reason for the handover", key="ho_reason", max_chars=3800, height=80)
reason_slot = st.empty()

office_arg = None if office == ANY_OFFICE else office
from_arg = None if outgoing == ANYONE else outgoing
if office_arg is None and from_arg is None:
    st.info("Pick an office, an outgoing person, or both.", icon=":material/info:")
    keys: list[str] = []
else:
    keys = data.read("handover_preview", office=office_arg, from_user=from_arg, to_user=successor)
    whose = " and ".join(
        p
        for p in (
            ui.say("of **{o}**", o=office_arg) if office_arg else "",
            ui.say("that **{p}** answers for", p=from_arg) if from_arg else "",
        )
        if p
    )
    to = ui.say("**{s}**", s=successor) if successor else "the successor you pick"
    if keys:
        n = f"{len(keys):,} open recommendation{'s' if len(keys) != 1 else ''}"
        st.info(f"{n} {whose} will move to {to}.", icon=":material/move_up:")
    else:
        st.warning(f"No open recommendation {whose} is left to move to {to}.", icon=":material/info:")
    if keys:
        with st.expander("Which ones"):
            titles = data.read("record_titles", tuple(keys[:500]))
            st.dataframe(
                [{"key": k, "title": titles.get(k, "")} for k in keys[:500]], hide_index=True, width="stretch"
            )

save = st.button("Hand over", key="ho_save", type="primary", icon=":material/move_up:")
save_slot = st.empty()
if save:
    if not reason.strip():
        reason_slot.error("Say why the records move: the reason goes into every record's event.")
    elif not successor:
        save_slot.error("Pick the successor first.")
    else:
        try:
            with write_session(data.engine()) as session:
                result = hand_over(
                    session,
                    to_user=successor,
                    reason=reason,
                    actor=get_user(session, admin.username),
                    office=office_arg,
                    from_user=from_arg,
                )
        except DomainError as e:
            save_slot.error(ui.refusal(e, "Not handed over: "))
        else:
            data.invalidate()
            for k in ("ho_reason", "ho_to"):  # the next batch starts from a blank reason and successor
                st.session_state.pop(k, None)
            st.session_state["ho_done"] = {
                "moved": result.moved,
                "to": result.to_user,
                "first_seq": result.first_seq,
            }
            st.rerun()
