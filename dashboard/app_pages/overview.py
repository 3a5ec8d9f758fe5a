"""Overview for leadership: where every recommendation stands, what is moving, what is stuck
and why — for today or for any past date, each figure with the records behind it."""

from datetime import UTC, date, datetime

import pandas as pd
import streamlit as st

from dashboard import charts, data, leadership, obstacle_charts, ui
from models.reads.briefing import BriefingRequest
from models.reads.changes import KINDS, OVERDUE_KIND, end_of_day, quarter_start, start_of_day
from models.store.settings import get_settings
from models.store.vocabulary import STATUSES, UNCLAIMED, owners_shown
from models.workflow.briefing import briefing_download

CHANGE_LABELS = {k: v[0] for k, v in KINDS.items()} | {OVERDUE_KIND[0]: OVERDUE_KIND[1]}

user = ui.page_user("read", "the overview")
settings = get_settings()
stale_days = settings.stale_after_days

st.title("Overview")
today = datetime.now(UTC).date()
c1, c2, c3, c4 = st.columns([1, 1, 2.2, 1], vertical_alignment="bottom")
as_of_date = c1.date_input(
    "As of",
    value=today,
    min_value=date(1800, 1, 1),
    max_value=today,
    key="as_of",
    format="YYYY-MM-DD",
    help="Redraws every figure as the store stood at the end of this day, from the audit trail.",
)
as_of = None if as_of_date >= today else end_of_day(as_of_date)
since_date = c2.date_input(
    "Since",
    value=quarter_start(as_of_date),
    min_value=date(1800, 1, 1),
    max_value=as_of_date,
    key="since",
    format="YYYY-MM-DD",
    help="What changed from this day to the as-of date (default: the start of its quarter); "
    "the tiles show the change over the same period.",
)
since_date = min(since_date, as_of_date)
c3.caption(
    f"Figures {ui.as_of_caption(as_of_date if as_of else None)}; changes since {since_date:%d %b %Y}. "
    + (
        "Status, owner and target date are rebuilt from the audit trail (theme never changes)."
        if as_of
        else ""
    )
)
request, engine = BriefingRequest(as_of_day=as_of_date, since_day=since_date, scope="priority"), data.engine()
# built only when clicked (on Streamlit's download thread, so no st.* call inside)
c4.download_button(
    "Briefing (PDF)",
    data=lambda: briefing_download(engine, request, actor=user),
    file_name=f"briefing-{as_of_date.isoformat()}.pdf",
    mime="application/pdf",
    key="briefing_pdf",
    icon=":material/picture_as_pdf:",
    on_click="ignore",
    help="The leadership briefing for these dates as a PDF (priority items, summary, changes, "
    "longest stuck, annex); producing it is recorded in the audit trail.",
)

s = data.read("summary", as_of, stale_after_days=stale_days)
if s["total"] == 0:
    if as_of:
        st.info(f"No recommendation existed on {as_of_date:%d %b %Y}. Pick a later date.")
    else:
        ui.empty_store()
    st.stop()

# ---------------------------------------------------------------- headline panel: the priority items first
panel = data.read("headline", as_of)
if panel["items"]:
    st.html(leadership.headline_cards(panel["items"]))
    if panel["total"] > panel["shown"]:
        st.caption(f"{panel['total']} items are on the priority list; the first {panel['shown']} are shown.")
else:
    st.info(
        "No recommendation is on the priority list yet. Editors of the owning office and admins set it on the "
        "Update page."
    )

# ---------------------------------------------------------------- what changed
moved = data.read("changes_view", start_of_day(since_date), end_of_day(as_of_date))
st.markdown(f"**What changed since {since_date:%d %b %Y}**")
st.html(leadership.changes_summary(moved, CHANGE_LABELS))
if moved["items"]:
    with st.expander(f"All changes ({sum(moved['counts'].values())})"):
        st.dataframe(
            leadership.changes_rows(moved),
            hide_index=True,
            width="stretch",
            column_config={
                "why": st.column_config.TextColumn("Why", width="large"),
                "title": st.column_config.TextColumn("Title", width="medium"),
            },
        )
        if moved["truncated"]:
            st.caption(
                f"The newest {len(moved['items'])} are listed; `rectrack changes --since {since_date}` lists all."
            )
        keys = sorted({c["key"] for c in moved["items"]})
        pick = st.selectbox("Open a record", keys, key="changes_pick")
        if st.button("Open detail", key="changes_open"):
            ui.open_detail(pick)


def _delta(n: int) -> str:
    return f"{n:+d} since {since_date:%d %b}" if n else f"±0 since {since_date:%d %b}"


t = st.columns(5)
t[0].metric(
    "Recommendations",
    s["total"],
    delta=_delta(moved["status_delta_total"]),
    delta_color="off",
    delta_arrow="auto" if moved["status_delta_total"] else "off",
    help="All recommendations in the store (sub-items included).",
)
t[1].metric(
    "Open",
    s["open"],
    delta=_delta(moved["open_delta"]),
    delta_color="off",
    delta_arrow="auto" if moved["open_delta"] else "off",
    help="proposed, under review, accepted, in progress or on hold",
)
t[2].metric(
    "Implemented",
    s["by_status"]["implemented"],
    delta=_delta(moved["status_delta"]["implemented"]),
    delta_arrow="auto" if moved["status_delta"]["implemented"] else "off",
    help=f"{s['implemented_share']:.0%} of {s['total']}",
)
t[3].metric(
    "Overdue",
    s["overdue"],
    delta=f"{moved['counts'].get('became_overdue', 0)} became overdue",
    delta_color="off",
    delta_arrow="off",
    help="Open, with a target date already past.",
)
if s["no_target"]:  # "0 overdue" would otherwise read as "on schedule"
    t[3].caption(ui.say("{n} open without a target date", n=f"{s['no_target']:,}"))
t[4].metric("Stale", s["stale"], help=f"Open, with no recorded change in the last {stale_days} days.")
# policies and old proposals no source gives a status are counted apart from real proposals
shown_status = {
    "proposed": s["by_status"]["proposed"] - s["no_status_claimed"],
    UNCLAIMED: s["no_status_claimed"],
}
shown_status |= {k: v for k, v in s["by_status"].items() if k != "proposed"}
st.html(
    '<div data-testid="status-chips">'
    + " ".join(
        f"{ui.status_chip(k)} <b>{v}</b>"
        + (
            f' <span style="color:#555">({moved["status_delta"][k]:+d})</span>'
            if moved["status_delta"].get(k)
            else ""
        )
        + "&nbsp;&nbsp;"
        for k, v in shown_status.items()
        if k != UNCLAIMED or v
    )
    + f'<span style="color:#555;font-size:.85em"> — in brackets: the change since {since_date:%d %b %Y}</span></div>'
)

status_segments = {
    f"{ui.status_label(k)} ({v})": {"status": k, "split_unclaimed": True}
    for k, v in shown_status.items()
    if v
}
status_segments.update(
    {
        f"Overdue ({s['overdue']})": {"overdue": True},
        f"Stale: no change in {stale_days} days ({s['stale']})": {"stale_after_days": stale_days},
    }
)

counts = pd.DataFrame([{"status": k, "count": v} for k, v in shown_status.items()])
st.altair_chart(charts.status_bar(counts), width="stretch")
ui.drilldown("dd_status", "Recommendations by status", status_segments, as_of)
with st.container():  # progress over time, full width
    flow = pd.DataFrame(data.read("status_over_time", as_of))
    st.altair_chart(charts.progress_area(flow), width="stretch")
    with st.expander("Records behind “Recommendations by status over time”"):
        years = sorted({r["period"].year for r in data.read("status_over_time", as_of)}, reverse=True)
        if years:
            y1, y2 = st.columns(2)
            year = y1.selectbox("End of year", years, key="dd_flow_year")
            status = y2.selectbox("Status", STATUSES, format_func=ui.status_label, key="dd_flow_status")
            # the end of the current year is today: read today's rows rather than rebuild every
            # status from the trail; a past year's end or the chosen date shares its statuses
            # with the figures above through data.read's cache
            cut = (
                None
                if as_of is None and year >= today.year
                else end_of_day(min(date(year, 12, 31), as_of_date))
            )
            ui.records_table(data.read("segment_records", cut, status=status), key="dd_flow")

themes = data.read("status_breakdown", "theme", as_of, split_unclaimed=True)
st.altair_chart(charts.status_heatmap(pd.DataFrame(themes), "theme", "Theme × status"), width="stretch")
ui.drilldown(
    "dd_theme",
    "Theme × status",
    {
        f"{r['theme']} · {ui.status_label(r['status'])} ({r['count']})": {
            "theme": r["theme"],
            "status": r["status"],
            "split_unclaimed": True,
        }
        for r in themes
    },
    as_of,
)

left, right = st.columns(2)
with left:
    owners = data.read("status_breakdown", "owner", as_of, split_unclaimed=True)
    marks = data.read("owner_marks", as_of)  # "(inferred)" where no source names the office
    st.altair_chart(
        charts.status_stacked_bar(
            pd.DataFrame(owners), "owner", "Recommendations by owner (top 20)", marks=marks
        ),
        width="stretch",
    )
    totals: dict[str, int] = {}
    for r in owners:
        totals[r["owner"]] = totals.get(r["owner"], 0) + r["count"]
    ui.drilldown(
        "dd_owner",
        "Recommendations by owner",
        {
            f"{owners_shown(o, *marks.get(o, [0, n]))} ({n})": {"owner": o}
            for o, n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
        },
        as_of,
    )
with right:
    # the chart ranks the top 15; the records behind it list every blocking obstacle, so one an
    # officer has just recorded (blocking one record) can be found here, not only on Obstacles
    blocking = data.read("blocking_obstacles", as_of, limit=None)
    if blocking:
        st.altair_chart(obstacle_charts.obstacle_bar(pd.DataFrame(blocking[:15])), width="stretch")
        if len(blocking) > 15:
            st.caption(
                f"The chart shows the 15 that block the most; {len(blocking)} obstacles block an open "
                "recommendation, and the records behind the chart list them all."
            )
    else:
        st.info("No obstacle blocks an open recommendation.")
    ui.drilldown(
        "dd_obstacle",
        "Obstacles blocking open recommendations",
        {
            f"{b['title']} ({b['open']} open)": {"obstacle": b["obstacle"], "open_only": True}
            for b in blocking
        },
        as_of,
    )

# ---------------------------------------------------------------- time in status (reads the whole trail)
st.subheader("Time in status")
if as_of:
    st.caption("Time in status is computed for today; clear the “As of” date to see it.")
elif st.toggle(
    "Show how long recommendations spend in each status",
    key="tis_on",
    help="Median age of open recommendations, the longest stuck with what blocks them, and mean days "
    "per status by owner, theme or source. Computed from the whole audit trail.",
):
    group = st.radio("Group by", ["owner", "theme", "source"], horizontal=True, key="tis_group")
    tis = data.read("time_in_status_overview", group=group)
    median = tis["median_open_age_days"]
    st.metric(
        "Median age of open recommendations",
        "—" if median is None else f"{median:,.0f} days",
        help="Days since each open recommendation was made (its creation's effective date).",
    )
    if tis["stuck"]:
        st.markdown("**Longest stuck** (open, by time since the status last moved)")
        ui.records_table(
            [
                {
                    "key": i["key"],
                    "title": i["title"],
                    "status": i["status"],
                    "owner": i["owner"],
                    "days in status": i["days"],
                    "obstacles": "; ".join(i["obstacles"]) or "—",
                }
                for i in tis["stuck"]
            ],
            key="tis_stuck",
        )
    if tis["by_group"]:
        table = (
            pd.DataFrame(tis["by_group"])
            .pivot(index="group", columns="status", values="days")
            .reindex(columns=[s for s in STATUSES if s in {r["status"] for r in tis["by_group"]}])
        )
        table.columns = [ui.status_label(c) for c in table.columns]
        st.markdown(ui.say("**Mean days per status, by {group}**", group=group))
        st.dataframe(table, width="stretch")
