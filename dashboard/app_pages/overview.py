"""Overview for leadership: where every recommendation stands, what is moving, what is stuck
and why — for today or for any past date, each figure with the records behind it."""

from datetime import date, datetime, timezone

import pandas as pd
import streamlit as st

from dashboard import charts, data, ui
from models.reads.figures import end_of_day
from models.store.settings import get_settings
from models.store.vocabulary import STATUSES

ui.page_user("read", "the overview")
settings = get_settings()
stale_days = settings.stale_after_days

st.title("Overview")
today = datetime.now(timezone.utc).date()
c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
as_of_date = c1.date_input("As of", value=today, min_value=date(1800, 1, 1), max_value=today, key="as_of", format="YYYY-MM-DD",
                           help="Redraws every figure as the store stood at the end of this day, from the audit trail.")
as_of = None if as_of_date >= today else end_of_day(as_of_date)
c2.caption(f"Figures {ui.as_of_caption(as_of_date if as_of else None)}. "
           + ("Status, owner and target date are rebuilt from the audit trail (theme never changes)." if as_of else ""))

s = data.read("summary", as_of, stale_after_days=stale_days)
if s["total"] == 0:
    if as_of:
        st.info(f"No recommendation existed on {as_of_date:%d %b %Y}. Pick a later date.")
    else:
        ui.empty_store()
    st.stop()

t = st.columns(5)
t[0].metric("Recommendations", s["total"], help="All recommendations in the store (sub-items included).")
t[1].metric("Open", s["open"], help="proposed, under review, accepted, in progress or on hold")
t[2].metric("Implemented", f"{s['implemented_share']:.0%}", help=f"{s['by_status']['implemented']} of {s['total']}")
t[3].metric("Overdue", s["overdue"], help="Open, with a target date already past.")
t[4].metric("Stale", s["stale"], help=f"Open, with no recorded change in the last {stale_days} days.")
st.html(" ".join(f"{ui.status_chip(k)} <b>{v}</b>&nbsp;&nbsp;" for k, v in s["by_status"].items()))

status_segments = {f"{ui.status_label(k)} ({v})": {"status": k} for k, v in s["by_status"].items() if v}
status_segments.update({f"Overdue ({s['overdue']})": {"overdue": True},
                        f"Stale: no change in {stale_days} days ({s['stale']})": {"stale_after_days": stale_days}})

counts = pd.DataFrame([{"status": k, "count": v} for k, v in s["by_status"].items()])
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
            cut = None if as_of is None and year >= today.year else end_of_day(min(date(year, 12, 31), as_of_date))
            ui.records_table(data.read("segment_records", cut, status=status), key="dd_flow")

themes = data.read("status_breakdown", "theme", as_of)
st.altair_chart(charts.status_heatmap(pd.DataFrame(themes), "theme", "Theme × status"), width="stretch")
ui.drilldown("dd_theme", "Theme × status",
             {f"{r['theme']} · {ui.status_label(r['status'])} ({r['count']})": {"theme": r["theme"], "status": r["status"]}
              for r in themes}, as_of)

left, right = st.columns(2)
with left:
    owners = data.read("status_breakdown", "owner", as_of)
    st.altair_chart(charts.status_stacked_bar(pd.DataFrame(owners), "owner", "Recommendations by owner (top 20)"),
                    width="stretch")
    totals: dict[str, int] = {}
    for r in owners:
        totals[r["owner"]] = totals.get(r["owner"], 0) + r["count"]
    ui.drilldown("dd_owner", "Recommendations by owner",
                 {f"{o} ({n})": {"owner": o} for o, n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))}, as_of)
with right:
    blocking = data.read("blocking_obstacles", as_of, limit=15)
    if blocking:
        st.altair_chart(charts.obstacle_bar(pd.DataFrame(blocking)), width="stretch")
    else:
        st.info("No obstacle blocks an open recommendation.")
    ui.drilldown("dd_obstacle", "Obstacles blocking open recommendations",
                 {f"{b['title']} ({b['open']} open)": {"obstacle": b["obstacle"], "open_only": True} for b in blocking},
                 as_of)

# ---------------------------------------------------------------- time in status (reads the whole trail)
st.subheader("Time in status")
if as_of:
    st.caption("Time in status is computed for today; clear the “As of” date to see it.")
elif st.toggle("Show how long recommendations spend in each status", key="tis_on",
               help="Median age of open recommendations, the longest stuck with what blocks them, and mean days "
                    "per status by owner, theme or source. Computed from the whole audit trail."):
    group = st.radio("Group by", ["owner", "theme", "source"], horizontal=True, key="tis_group")
    tis = data.read("time_in_status_overview", group=group)
    median = tis["median_open_age_days"]
    st.metric("Median age of open recommendations", "—" if median is None else f"{median:,.0f} days",
              help="Days since each open recommendation was made (its creation's effective date).")
    if tis["stuck"]:
        st.markdown("**Longest stuck** (open, by time since the status last moved)")
        ui.records_table([{"key": i["key"], "title": i["title"], "status": i["status"], "owner": i["owner"],
                           "days in status": i["days"], "obstacles": "; ".join(i["obstacles"]) or "—"}
                          for i in tis["stuck"]], key="tis_stuck")
    if tis["by_group"]:
        table = (pd.DataFrame(tis["by_group"]).pivot(index="group", columns="status", values="days")
                 .reindex(columns=[s for s in STATUSES if s in {r["status"] for r in tis["by_group"]}]))
        table.columns = [ui.status_label(c) for c in table.columns]
        st.markdown(ui.say("**Mean days per status, by {group}**", group=group))
        st.dataframe(table, width="stretch")
