"""Evidence trail, for auditors: the append-only event log, filtered and paged in the store,
with the hash chain's verdict; exports below."""

from datetime import date

import pandas as pd
import streamlit as st

from dashboard import data, ui
from dashboard.exports_panel import render_exports

user = ui.page_user("trail.export", "the evidence trail")
ALL = "All"
st.title("Evidence trail")

if st.session_state.pop("_tr_verify_all", False):
    with st.spinner("Verifying every event, every evidence file and every record…"):
        data.store_verdict(full=True, by=user.username)
verdict = data.store_verdict()  # the stored verdict, brought up to the chain head (models.trail.verdicts)
if verdict["state"] == "verified" and verdict["events"] == 0:
    st.info("The trail is empty: nothing has been recorded yet.")
elif verdict["state"] == "verified":
    st.success(
        f"Hash chain verified: all {verdict['events']:,} events link and match their hashes; "
        f"{verdict['files']:,} evidence file(s) match their SHA-256; every record, account, evidence "
        "item and closure agrees with the state the trail implies"
        + (
            f"; {verdict['checkpoints']:,} signed checkpoint(s) hold."
            if verdict.get("checkpoints")
            else "; no signed checkpoint was checked yet (each export and each day writes one)."
        ),
        icon=":material/verified:",
    )
elif verdict["state"] == "failed":
    st.error(
        "The store does not verify: the trail and the records below disagree, or the chain is broken. "
        "Each line names the record, the field, what the store holds and what the trail implies; "
        "compare with an exported bundle.",
        icon=":material/gpp_bad:",
    )
    for line in verdict["problems"][:20]:
        st.markdown("- " + ui.md_escape(line))
    if len(verdict["problems"]) > 20:
        with st.expander(f"All {len(verdict['problems']):,} lines of the verdict"):
            st.text("\n".join(verdict["problems"]))
else:
    st.warning(
        f"Not verified up to the newest event: {verdict['pending']:,} event(s) since the last verification "
        f"(event {verdict.get('seq', 0):,}). Run `rectrack verify` on the server, or verify everything here.",
        icon=":material/pending:",
    )
if verdict.get("full_at"):
    st.caption(
        ui.say(
            "Last full verification {at} UTC by {by}, up to event {seq:,}"
            + (
                "; the {n:,} event(s) since were checked from that point on."
                if verdict["new_events"]
                else "."
            ),
            at=verdict["full_at"][:19].replace("T", " "),
            by=verdict["full_by"],
            seq=verdict["events"] - verdict["new_events"],
            n=verdict["new_events"],
        )
    )
if st.button("Verify everything now", key="tr_verify_all", icon=":material/verified:"):
    st.session_state["_tr_verify_all"] = True
    st.rerun()

facets = data.read("trail_facets")
with st.container(border=True):
    f = st.columns([2, 1, 1, 1])
    record = f[0].text_input("Record key contains", key="tr_record")
    rtype = f[1].selectbox("Record type", [ALL, *facets["record_types"]], key="tr_type")
    actor = f[2].selectbox("User", [ALL, *facets["actors"]], key="tr_actor")
    action = f[3].selectbox("Action", [ALL, *facets["actions"]], key="tr_action")
    g = st.columns([1, 2, 1])
    use_period = g[0].toggle("Limit to a period", key="tr_use_period")
    span = g[1].date_input(
        "Effective between",
        value=(date(2000, 1, 1), date.today()),
        key="tr_period",
        disabled=not use_period,
        format="YYYY-MM-DD",
    )
    size = g[2].selectbox("Rows per page", [25, 50, 100, 200], index=1, key="tr_size")

start = end = None
if use_period and isinstance(span, (tuple, list)) and len(span) == 2:
    start, end = span
filters = dict(
    record=record.strip() or None,
    record_type=None if rtype == ALL else rtype,
    actor=None if actor == ALL else actor,
    action=None if action == ALL else action,
    start=start,
    end=end,
)
total = data.read("trail_page", **filters, offset=0, limit=1)["total"]
pages = max(1, -(-total // size))
p1, p2 = st.columns([1, 3], vertical_alignment="bottom")
page = p1.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=1, step=1, key="tr_page")
p2.caption(f"{total:,} matching event(s), newest first.")
if total == 0:
    ui.no_results("events")
else:
    rows = data.read("trail_page", **filters, offset=(int(page) - 1) * size, limit=size)["rows"]
    df = pd.DataFrame(rows)
    df["status"] = [
        f"{ui.status_label(b)} → {ui.status_label(a)}" if (a or b) else ""
        for b, a in zip(df["status_before"], df["status_after"])
    ]
    df["status"] = df["status"].replace("", "—")
    for col in ("before", "after", "reason"):
        df[col] = [ui.shown(v) if v not in ("", None) else "—" for v in df[col]]
    st.dataframe(
        df[
            [
                "seq",
                "recorded_at",
                "effective_at",
                "actor",
                "action",
                "record_type",
                "record_key",
                "status",
                "reason",
                "before",
                "after",
                "hash",
            ]
        ],
        hide_index=True,
        width="stretch",
        height=420,
        column_config={
            "recorded_at": st.column_config.DatetimeColumn("Recorded", format="YYYY-MM-DD HH:mm:ss"),
            "effective_at": st.column_config.DatetimeColumn("Effective", format="YYYY-MM-DD"),
            "hash": st.column_config.TextColumn("Hash", width="small"),
        },
    )

st.divider()
st.subheader("Exports")
render_exports(data.engine(), user)
