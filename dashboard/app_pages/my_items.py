"""My items: what the signed-in person should look at today — their office's overdue, due-soon
and stale recommendations, the overdue steps of their action plans, the records a handover made them
responsible for, and the closures waiting for their verification (the same digest
`rectrack remind` sends), each opening the record's detail view."""

from datetime import UTC, datetime

import streamlit as st

from dashboard import data, ui
from models.rules.permissions import can
from models.store.settings import get_settings

user = ui.page_user("read", "your items")
stale_days = get_settings().stale_after_days
today = datetime.now(UTC).date()

st.title("My items")

d = data.read("my_items", user.username, today)
whose = (
    ui.say("the open recommendations owned by **{office}**", office=user.office)
    if d["kind"] == "office"
    else "the closures waiting for your verification"
)
st.caption(
    f"For {today:%d %b %Y}: {whose}. The same digest goes out daily by e-mail or file (`rectrack remind`)."
)

SECTIONS = [
    (
        "overdue",
        "Overdue",
        "past their target date",
        lambda i: f"{i['days']} day(s) overdue",
        ":material/alarm:",
    ),
    (
        "due_soon",
        "Due within 30 days",
        "target date in the next 30 days",
        lambda i: f"{i['days']} day(s) left",
        ":material/event:",
    ),
    (
        "stale",
        f"Stale ({stale_days} days)",
        f"no recorded change for {stale_days} days or more",
        lambda i: f"{i['days']} day(s) since the last change",
        ":material/hourglass_empty:",
    ),
    (
        "overdue_steps",
        "Overdue steps",
        "action-plan steps past their due date, not done or dropped",
        lambda i: f"{i['note']} — {i['days']} day(s) overdue",
        ":material/checklist:",
    ),
    (
        "responsible",
        "Handed to me",
        "open recommendations a handover made you responsible for, whichever office owns them",
        lambda i: f"last change {i['days']} day(s) ago",
        ":material/move_up:",
    ),
    (
        "awaiting_verification",
        "Waiting for my verification",
        "closures someone else proposed",
        lambda i: f"proposed {i['days']} day(s) ago" + (f" — {i['note']}" if i["note"] else ""),
        ":material/rule:",
    ),
]
total = sum(len(d[k]) for k, *_ in SECTIONS)

m = st.columns(len(SECTIONS))
for col, (k, label, help_, *_rest) in zip(m, SECTIONS):
    col.metric(label, len(d[k]), help=help_.capitalize() + ".")

if total == 0:
    with st.container(border=True):
        if d["kind"] == "office":
            st.success(
                ui.say(
                    "Nothing needs you today. None of {office}'s open recommendations is overdue, due "
                    "within 30 days or without a change for {days} days, no step of their action plans "
                    "is overdue, and no closure waits for verification in your office.",
                    office=user.office,
                    days=stale_days,
                ),
                icon=":material/task_alt:",
            )
        elif can(user, "closure.verify"):
            st.success(
                "Nothing waits for your verification today. When an editor proposes a closure, it appears "
                "here and on the Verify closures page.",
                icon=":material/task_alt:",
            )
        else:
            st.info(
                "No recommendation is assigned to you: your account has no office. An administrator can set your "
                "office on the Users page; its overdue, due-soon and stale items then appear here.",
                icon=":material/person_search:",
            )
        st.page_link(
            "app_pages/recommendations.py", label="Browse all recommendations", icon=":material/list:"
        )
    st.stop()

for k, label, help_, when, _icon in SECTIONS:
    items = d[k]
    if not items:
        continue
    st.subheader(f"{label} ({len(items)})")
    st.caption(help_.capitalize() + ".")
    rows = [
        {
            "key": i["key"],
            "title": i["title"],
            "status": i["status"],
            "kind": i["kind"],
            "owner": i["owner"],
            "owner_inferred": i["owner_inferred"],
            "target_date": i["target_date"],
            "when": when(i),
        }
        for i in items
    ]
    ui.records_table(rows, key=f"my_{k}")
    if k == "awaiting_verification" and can(user, "closure.verify"):
        st.page_link(
            "app_pages/verify.py", label="Accept or return them on Verify closures", icon=":material/rule:"
        )
