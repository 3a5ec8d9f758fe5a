"""Verify closures, for auditors, admins and designated verifiers: every closure waiting for
someone other than its proposer, with the evidence it rests on, to accept or return with a reason."""

import html

import streamlit as st

from dashboard import data, ui
from models.reads.queues import closure_queue
from models.rules.closure import decide_closure
from models.rules.users import get_user
from models.store.db import write_session
from models.store.errors import DomainError
from models.store.settings import get_settings
from models.store.vocabulary import owner_shown

user = ui.page_user("closure.verify", "closure verification")
settings = get_settings()
st.title("Verify closures")
st.caption(
    "Closing a recommendation takes two people. Check what each proposal rests on, then accept it (the "
    "recommendation closes, with the evidence hashes recorded in the trail) or return it with what is missing. "
    "Your own proposals are never listed here."
)

if msg := st.session_state.pop("ver_flash", None):
    st.success(ui.md_escape(msg), icon=":material/task_alt:")

queue = data.fresh(closure_queue, user.username)
if not queue:
    st.info(
        "Nothing is waiting for your verification. When an editor proposes a closure it appears here; "
        "the “My items” page lists the same queue with your other reminders.",
        icon=":material/inbox:",
    )
    st.stop()

st.markdown(f"**{len(queue)} closure(s) waiting**, oldest first.")


def decide(item: dict, accept: bool) -> None:
    reason = (st.session_state.get(f"ver_reason_{item['id']}") or "").strip()
    if not reason:
        st.error(
            ui.say(
                "{key}: a reason is required to {what} a closure — say what you checked, or what is "
                "missing. Nothing was saved.",
                key=item["key"],
                what="accept" if accept else "return",
            )
        )
        return
    try:
        with write_session(data.engine()) as session:
            rec = decide_closure(
                session, key=item["key"], accept=accept, reason=reason, actor=get_user(session, user.username)
            )
            status = rec.status
    except DomainError as e:
        st.error(ui.refusal(e, ui.say("{key}: not saved: ", key=item["key"])))
        return
    data.invalidate()
    st.session_state.pop(f"ver_reason_{item['id']}", None)
    st.session_state["ver_flash"] = (
        f"Accepted: {item['key']} is now {ui.status_label(status)}."
        if accept
        else f"Returned to {item['proposed_by']}: {item['key']} stays {ui.status_label(status)}."
    )
    st.rerun()


for item in queue:
    with st.container(border=True):
        st.html(
            f"<b>{html.escape(item['title'])}</b><br><code>{html.escape(item['key'])}</code> &nbsp; "
            f"{ui.status_chip(item['status'], item['kind'])} → {ui.status_chip(item['target'])} &nbsp; "
            f"<span style='color:#555'>owner {html.escape(owner_shown(item['owner'], item['owner_inferred']))}</span>"
        )
        st.markdown(
            ui.say(
                "Proposed by **{who}** at {at:%Y-%m-%d %H:%M} UTC to close as **{target}**:",
                who=item["proposed_by"],
                at=item["proposed_at"],
                target=ui.status_label(item["target"]),
            )
        )
        st.markdown("> " + ui.md_block(item["reason"]).replace("  \n", "  \n> "))
        ev = item["evidence"]
        st.markdown(f"**Evidence in force** ({len(ev)} item(s); what an acceptance records)")
        if not ev:
            st.warning(
                "No evidence is attached."
                + (
                    " Closing as implemented needs at least one evidence item; accepting will be refused."
                    if item["target"] == "implemented"
                    else ""
                )
            )
        for n, e in enumerate(ev):
            observed = f" · observed {e['observed_on']:%Y-%m-%d}" if e["observed_on"] else ""
            st.markdown(
                ui.say("- **{title}** ({key}){observed}", title=e["title"], key=e["key"], observed=observed)
            )
            for c in e["citations"]:
                st.caption(ui.say("Citation: {c}", c=c))
            for j, f in enumerate(e["files"]):
                path = settings.data_dir / f["stored_path"] if f.get("stored_path") else None
                st.caption(ui.say("File {name} · SHA-256 {sha}", name=f["name"], sha=f["sha256"]))
                if path is not None and path.is_file():
                    st.download_button(
                        ui.say("Download {name}", name=f["name"]),
                        data=path.read_bytes(),
                        file_name=f["name"],
                        key=f"ver_dl_{item['id']}_{n}_{j}",
                        icon=":material/download:",
                    )
                else:
                    st.warning(
                        ui.say(
                            "{name}: the stored file is missing from {folder}; do not accept before it is "
                            "restored (the evidence trail page names what is missing).",
                            name=f["name"],
                            folder=str(settings.data_dir),
                        )
                    )
        st.text_area(
            "Your reason (required)",
            key=f"ver_reason_{item['id']}",
            max_chars=4000,
            placeholder="What you checked, or what is missing",
        )
        with st.container(horizontal=True):
            accept = st.button(
                "Accept", key=f"ver_accept_{item['id']}", type="primary", icon=":material/check:"
            )
            give_back = st.button("Return", key=f"ver_return_{item['id']}", icon=":material/undo:")
            open_it = st.button(
                "Open the record", key=f"ver_open_{item['id']}", icon=":material/open_in_new:"
            )
        if accept:
            decide(item, True)
        if give_back:
            decide(item, False)
        if open_it:
            ui.open_detail(item["key"])
