"""Notifications: every change someone else made to what you watch (and to what your office owns),
newest first and a page at a time, each opening its record; what you watch; how mail reaches you.

Read marks, watches and mail preferences are personal: they change no record and write no trail
event (see :mod:`models.rules.notifications`), so they are read fresh here, never from the cache
keyed by the trail's head."""

import streamlit as st

from dashboard import data, ui
from models.reads.notifications import mail_preference, notifications_page, watches_of
from models.rules.notifications import MAIL_MODES, mark_read, set_preferences, unwatch
from models.rules.users import get_user
from models.store.db import write_session

user = ui.page_user("read", "your notifications")
PAGE_SIZE = 25
st.title("Notifications")


def _write(fn, **kw):
    with write_session(data.engine()) as session:
        return fn(session, user=get_user(session, user.username), **kw)


if msg := st.session_state.pop("ntf_flash", None):
    st.success(msg, icon=":material/task_alt:")

c1, c2, c3 = st.columns([1, 1, 2], vertical_alignment="bottom")
unread_only = c1.toggle("Unread only", key="ntf_unread")
head = data.fresh(notifications_page, user.username, limit=1, unread_only=unread_only)
pages = max(1, -(-head["total"] // PAGE_SIZE))
if st.session_state.get("ntf_page", 1) > pages:
    st.session_state["ntf_page"] = pages
page = c3.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, step=1, key="ntf_page")
view = data.fresh(
    notifications_page,
    user.username,
    offset=(int(page) - 1) * PAGE_SIZE,
    limit=PAGE_SIZE,
    unread_only=unread_only,
)
if c2.button("Mark all read", key="ntf_all_read", disabled=view["unread"] == 0, icon=":material/done_all:"):
    n = _write(mark_read)
    st.session_state["ntf_flash"] = f"Marked {n} notification(s) read."
    st.rerun()
st.caption(
    f"{view['unread']:,} unread of {view['total'] if not unread_only else view['unread']:,}"
    + (f"; {PAGE_SIZE} a page, newest first" if view["total"] > PAGE_SIZE else "; newest first")
)

if not view["rows"]:
    st.info(
        "Nothing here yet. Watch a recommendation (its detail on the Recommendations page), an office or "
        "an obstacle, and every change someone else makes to it appears here."
        if not unread_only
        else "No unread notifications.",
        icon=":material/notifications_none:",
    )
for r in view["rows"]:
    with st.container(border=True):
        st.markdown(
            ui.say("**{key}** · {what}", key=r.record_key, what=r.what) + ("" if r.read else " · **unread**")
        )
        st.caption(
            ui.say("by {who} on {at:%d %b %Y %H:%M} UTC — “{why}”", who=r.actor, at=r.at, why=r.reason)
        )
        b1, b2, _ = st.columns([1, 1, 3])
        if r.rec and b1.button("Open record", key=f"ntf_open_{r.id}", icon=":material/open_in_new:"):
            if not r.read:
                _write(mark_read, ids=[r.id])
            ui.open_detail(r.rec)
        if not r.read and b2.button("Mark read", key=f"ntf_read_{r.id}", icon=":material/done:"):
            _write(mark_read, ids=[r.id])
            st.rerun()

st.subheader("What you watch")
pref = data.fresh(mail_preference, user.username)
if pref["office"]:
    st.caption(
        ui.say("Your office, {office}: ", office=pref["office"])
        + (
            "its records reach you without a watch."
            if pref["own_office"]
            else "only what you watch reaches you."
        )
    )
watched = data.fresh(watches_of, user.username)
if not watched:
    st.caption("You watch nothing yet.")
for kind, target in watched:
    w1, w2 = st.columns([3, 1], vertical_alignment="center")
    w1.markdown(ui.say("{kind}: **{target}**", kind=kind.capitalize(), target=target))
    if w2.button("Stop watching", key=f"ntf_unwatch_{kind}_{target}", icon=":material/visibility_off:"):
        _write(unwatch, kind=kind, target=target)
        st.session_state["ntf_flash"] = ui.say("You no longer watch {t}.", t=target)
        st.rerun()

st.subheader("By e-mail")
st.caption(
    (
        ui.say("To {email}. ", email=pref["email"])
        if pref["email"]
        else "Your account has no e-mail address (an administrator sets it), so notifications stay here. "
    )
    + "Mail for each change goes out within minutes of it; the digest once a day."
)
with st.form("ntf_prefs", border=True):
    mode = st.radio(
        "Send me",
        MAIL_MODES,
        index=MAIL_MODES.index(pref["mode"]),
        key="ntf_mode",
        horizontal=True,
        format_func={"immediate": "Each change", "digest": "A daily digest", "off": "No e-mail"}.get,
    )
    own = st.toggle(
        "Tell me of every change to what my office owns, without watching it",
        value=pref["own_office"],
        key="ntf_own_office",
        disabled=not pref["office"],
    )
    if st.form_submit_button("Save", key="ntf_prefs_save", icon=":material/save:"):
        _write(set_preferences, mode=mode, own_office=own)
        st.session_state["ntf_flash"] = "Saved how notifications reach you."
        st.rerun()
