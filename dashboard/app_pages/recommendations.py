"""Recommendations: search and filter the catalog, then open one to see its sources, sub-items,
obstacles (who linked or resolved each, and why), its action plan, institutions, evidence (with
files) and full history."""

import html
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import streamlit as st

from dashboard import charts, data, plan_view, ui, watching
from dashboard.picker import record_picker
from models.catalog.checks import cited_lines
from models.catalog.review import conflicts_about
from models.reads.durations import time_in_status
from models.store.errors import NotFound
from models.store.settings import get_settings
from models.store.vocabulary import human, owner_shown, owners_shown

user = ui.page_user("read", "the recommendations")
settings = get_settings()
ALL = "All"

st.title("Recommendations")
opts = data.read("filter_options")
source_short = {s["id"]: s["short"] for s in opts["source"]}

with st.container(border=True):
    search = st.text_input(
        "Search key, title or summary", key="rec_search", placeholder="e.g. PME, ministry, Mérida"
    )
    f = st.columns(6)
    status = f[0].selectbox(
        "Status",
        [ALL, *opts["status"]],
        key="rec_status",
        format_func=lambda v: v if v == ALL else ui.status_label(v),
    )
    theme = f[1].selectbox(
        "Theme",
        [ALL, *opts["theme"]],
        key="rec_theme",
        format_func=lambda v: v if v == ALL else human("theme", v),
    )
    # "(inferred)" / "(k of n inferred)": no source names the office for (some of) its records
    marks = {o: owners_shown(o, *n) for o, n in data.read("owner_marks").items()}
    owner = f[2].selectbox(
        "Owner", [ALL, *opts["owner"]], key="rec_owner", format_func=lambda v: marks.get(v, v)
    )
    source = f[3].selectbox(
        "Source", [ALL, *source_short], key="rec_source", format_func=lambda v: source_short.get(v, v)
    )
    who = f[4].selectbox(
        "Who must act",
        [ALL, *opts["who_must_act"]],
        key="rec_who",
        format_func=lambda v: v if v == ALL else human("who_must_act", v),
    )
    kind = f[5].selectbox(
        "Kind",
        [ALL, *opts["kind"]],
        key="rec_kind",
        format_func=lambda v: v if v == ALL else human("kind", v),
    )


def _v(x):
    return None if x == ALL else x


PAGE_SIZE = 100
filters = dict(
    status=_v(status),
    theme=_v(theme),
    owner=_v(owner),
    source=_v(source),
    who_must_act=_v(who),
    kind=_v(kind),
    search=search.strip() or None,
)
if st.session_state.get("_rec_filters") != filters:  # new filters start at their first page
    st.session_state["_rec_filters"] = filters
    st.session_state["rec_page"] = 1
total = data.read("recommendation_page", **filters, offset=0, limit=1)["total"]
if not total and not any(filters.values()):
    ui.empty_store()
    st.stop()

pages = max(1, -(-total // PAGE_SIZE))
if st.session_state.get("rec_page", 1) > pages:  # the store shrank under this page
    st.session_state["rec_page"] = pages
p1, p2 = st.columns([1, 3], vertical_alignment="bottom")
page = p1.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, step=1, key="rec_page")
first = (int(page) - 1) * PAGE_SIZE
recs = data.read("recommendation_page", **filters, offset=first, limit=PAGE_SIZE)["rows"]
p2.caption(
    f"{total:,} recommendation(s)"
    + (f"; {first + 1:,}–{first + len(recs):,} shown, by key" if total > PAGE_SIZE else "")
)
rows = [
    {
        "key": r.key,
        "title": r.title,
        "status": r.status,
        "theme": r.theme,
        "owner": owner_shown(r.owner, r.owner_inferred),
        "who_must_act": r.who_must_act,
        "kind": r.kind,
        "source": source_short.get(r.primary_source_id, ""),
        "parent": r.parent_key or "",
        "target_date": r.target_date,
        "progress": r.progress,
    }
    for r in recs
]
if not rows:
    ui.no_results("recommendations")
else:
    df = pd.DataFrame(rows)
    df["status"] = [ui.status_label(s, k) for s, k in zip(df["status"], df["kind"])]
    for col in ("theme", "who_must_act", "kind"):
        df[col] = df[col].map(lambda v, c=col: human(c, v))
    st.dataframe(
        ui.no_blanks(df),
        hide_index=True,
        width="stretch",
        height=320,
        column_config={
            "title": st.column_config.TextColumn("Title", width="large"),
            "progress": st.column_config.ProgressColumn(
                "Progress", min_value=0, max_value=100, format="%d%%"
            ),
        },
    )

# ------------------------------------------------------------------ detail view
st.divider()
# which record to show: an "open detail" click, a deep link (?rec=KEY), the last one seen, or the first listed
requested = st.session_state.pop("detail_request", None)
link = st.query_params.get("rec")
if requested is None and link and link != st.session_state.get("_rec_link_seen"):
    requested = link
if requested is None and "rec_detail" not in st.session_state:
    requested = st.session_state.get("detail_key")
key = record_picker("Detail of", key="rec_detail", selected=requested, rows=rows)
if key is None:
    st.stop()
st.session_state["detail_key"] = key
st.query_params["rec"] = key
st.session_state["_rec_link_seen"] = key

try:
    v = data.read("recommendation_view", key)
except NotFound as e:  # the key may come from the URL (?rec=...): shown as text
    st.error(ui.refusal(e))
    st.stop()

rec = v["rec"]
st.subheader(ui.md_escape(rec["title"]))
st.html(
    f"{ui.status_chip(rec['status'], rec['kind'])} &nbsp; <code>{html.escape(rec['key'])}</code> &nbsp; version {rec['version']}"
    + (f" &nbsp; sub-item of <code>{html.escape(rec['parent_key'])}</code>" if rec["parent_key"] else "")
)
closure = data.read("closure_state", key)
if closure["pending"]:
    c = closure["pending"]
    st.warning(
        ui.say(
            "**Waiting for verification:** closure as *{target}* proposed by {who} at {at:%Y-%m-%d %H:%M} "
            "UTC — “{reason}”.",
            target=ui.status_label(c["target"]),
            who=c["proposed_by"],
            at=c["proposed_at"],
            reason=c["reason"],
        ),
        icon=":material/hourglass_top:",
    )
elif closure["last_decided"]:
    c = closure["last_decided"]
    if c["state"] == "accepted" and rec["status"] == c["target"]:
        st.caption(
            ui.say(
                "Closed as {target}: proposed by {who}, verified by {by} on {at:%Y-%m-%d %H:%M} UTC — "
                "“{reason}”.",
                target=ui.status_label(c["target"]),
                who=c["proposed_by"],
                by=c["decided_by"],
                at=c["decided_at"],
                reason=c["decision_reason"],
            )
        )
    elif c["state"] == "returned" and rec["status"] not in ("implemented", "not_implemented"):
        st.info(
            ui.say(
                "**Closure returned** by {by} on {at:%Y-%m-%d %H:%M} UTC: “{reason}” (proposed by {who}).",
                by=c["decided_by"],
                at=c["decided_at"],
                reason=c["decision_reason"],
                who=c["proposed_by"],
            ),
            icon=":material/undo:",
        )
m = st.columns(5)
m[0].metric("Owner", ui.md_escape(owner_shown(rec["owner"], rec["owner_inferred"])))
m[1].metric("Who must act", ui.md_escape(human("who_must_act", rec["who_must_act"])))
m[2].metric("Target date", f"{rec['target_date']:%d %b %Y}" if rec["target_date"] else "none")
m[3].metric("Progress", f"{rec['progress']}%")
m[4].metric("Theme", ui.md_escape(human("theme", rec["theme"])))
if rec.get("responsible"):  # named by a handover (models.rules.handover); the owner stays the office
    st.caption(ui.say("Responsible: **{who}**", who=rec["responsible"]))
st.markdown(ui.md_block(rec["summary"]))
st.caption(
    ui.say(
        "Kind: {kind} · confidence: {confidence} · last changed by {by} on {at:%d %b %Y %H:%M} UTC",
        kind=human("kind", rec["kind"]),
        confidence=rec["confidence"],
        by=rec["updated_by"] or "n/a",
        at=rec["updated_at"],
    )
)
if rec["parent_key"] and st.button(ui.say("Open parent {key}", key=rec["parent_key"]), key="open_parent"):
    ui.open_detail(rec["parent_key"])
watching.record_buttons(user, rec)

sources = {s["id"]: s for s in data.read("source_choices")}


def show_citations(cites: list[dict], key: str) -> None:
    for _i, c in enumerate(cites):
        src = sources.get(c["source_id"], {})
        with st.expander(ui.md_escape(c["label"])):
            if src.get("reproduction", "").startswith("cite_only"):
                st.caption("This source may be cited but not quoted; open the file at the lines given.")
                continue
            if settings.sources_dir is None:
                st.caption("Set RECTRACK_SOURCES_DIR to show the cited lines here.")
                continue
            path = Path(settings.sources_dir) / c["source_file"]
            if not path.is_file():
                st.caption(ui.say("{path} is not available here.", path=str(path)))
                continue
            lines = cited_lines(settings.sources_dir, c["source_file"], SimpleNamespace(**c))
            st.code(
                "\n".join(f"{n:>5}  {t}" for n, t in zip(range(c["line_start"], c["line_end"] + 1), lines)),
                language=None,
            )


for x in conflicts_about(rec["key"], get_settings().seeds_dir):
    st.warning(
        ui.say("**Sources disagree: {topic}.** ", topic=x["topic"])
        + "".join(
            ui.say("\n- {says} ({where})", says=side["says"], where=side["where"]) for side in x["sides"]
        )
        + ui.say("\n\n{note}", note=x["note"])
    )

tabs = st.tabs(
    [
        f"Citations ({len(v['citations'])})",
        f"Sub-recommendations ({len(v['children'])})",
        f"Obstacles ({len(v['obstacles'])})",
        f"Action plan ({len(v['steps'])})",
        f"Institutions ({len(v['institutions'])})",
        f"Evidence ({len(v['evidence'])})",
        f"History ({len(v['history'])})",
    ]
)
with tabs[0]:
    show_citations(v["citations"], "rec")
    if not v["citations"]:
        st.caption("No citation recorded.")
with tabs[1]:
    if v["children"]:
        done = v["children_by_status"].get("implemented", 0)
        rolled_progress = v["plan"]["children_progress"]
        st.markdown(
            f"**Roll-up:** {done} of {len(v['children'])} sub-recommendations implemented, "
            f"mean progress {rolled_progress}%. "
            + " ".join(f"{ui.status_chip(s)} {n}" for s, n in v["children_by_status"].items()),
            unsafe_allow_html=True,
        )
        ui.records_table(
            [
                {k: c[k] for k in ("key", "title", "status", "owner", "target_date", "progress")}
                for c in v["children"]
            ],
            key="children",
        )
    else:
        st.caption("No sub-recommendations.")
with tabs[2]:
    for o in v["obstacles"]:
        st.markdown(
            ui.say(
                "- **{title}** — {category}, {side} ({key}) · *{state}*",
                title=o["title"],
                category=human("category", o["category"]),
                side=human("side", o["side"]),
                key=o["key"],
                state=human("obstacle_state", o["state"]),
            )
            + (ui.say(" · evidence {ev}", ev=o["evidence"]) if o["evidence"] else "")
        )
        if o["by"]:
            st.caption(
                ui.say(
                    "{what} by {who} on {at:%d %b %Y}: “{reason}”",
                    what={"obstacle_linked": "Linked", "obstacle_resolved": "Marked"}.get(
                        o["action"], "Changed"
                    ),
                    who=o["by"],
                    at=o["at"],
                    reason=o["reason"],
                )
            )
        else:
            st.caption("Linked in the catalog, from the sources.")
    if not v["obstacles"]:
        st.caption("No obstacle linked.")
with tabs[3]:
    plan_view.action_plan(v)
with tabs[4]:
    for inst in v["institutions"]:
        acronym = ui.say(" ({a})", a=inst["acronym"]) if inst["acronym"] else ""
        st.markdown(
            ui.say("- **{name}**", name=inst["name"])
            + acronym
            + ui.say(" — {kind}, {country}", kind=inst["kind"], country=inst["country"])
        )
    if not v["institutions"]:
        st.caption("No institution linked.")
with tabs[5]:
    if not v["evidence"]:
        st.caption("No evidence yet.")
    for n, e in enumerate(v["evidence"]):
        with st.container(border=True):
            st.markdown(
                ui.say("**{title}** · {kind}", title=e["title"], kind=e["kind"])
                + (f" · observed {e['observed_on']:%Y-%m-%d}" if e["observed_on"] else "")
                + (f" · supports status *{ui.status_label(e['status_claim'])}*" if e["status_claim"] else "")
            )
            if e["summary"]:
                st.caption(ui.md_block(e["summary"]))
            show_citations(e["citations"], f"ev{n}")
            for j, fl in enumerate(e["files"]):
                path = settings.data_dir / fl["stored_path"]
                label = ui.say(
                    "{name} ({size:,} bytes, SHA-256 {sha}…)",
                    name=fl["filename"],
                    size=fl["size_bytes"],
                    sha=fl["sha256"][:12],
                )
                if path.is_file():
                    st.download_button(
                        f"Download {label}",
                        data=path.read_bytes(),
                        file_name=fl["filename"],
                        mime=fl["media_type"],
                        key=f"dl_{n}_{j}",
                        icon=":material/download:",
                    )
                else:
                    st.warning(
                        label
                        + ui.say(": the stored file is missing from {folder}.", folder=str(settings.data_dir))
                    )
            st.caption(ui.say("Added by {who} on {at:%d %b %Y}", who=e["created_by"], at=e["created_at"]))
with tabs[6]:
    hist = pd.DataFrame(v["history"])
    if hist.empty:
        st.caption("No history.")
    else:
        st.altair_chart(charts.history_chart(hist, f"History of {rec['key']}"), width="stretch")
        spent = data.fresh(time_in_status, key)
        if spent:
            st.altair_chart(
                charts.time_in_status_bar(
                    pd.DataFrame(
                        [{"status": s, "days": d.total_seconds() / 86400} for s, d in spent.items()]
                    ),
                    f"Time in each status (days, from the trail's effective dates; {rec['key']})",
                ),
                width="stretch",
            )

        def changes(h):
            after = h["after"] or {}
            before = h["before"] or {}
            out = []
            for k, val in after.items():
                if k == "version" or (h["action"] == "create" and k not in ("status", "owner")):
                    continue
                if k == "evidence" and isinstance(val, list):  # a closure records the evidence in force
                    files = sum(len(e.get("files", [])) for e in val)
                    out.append(
                        f"evidence in force: {len(val)} item(s), {files} file(s) with SHA-256 recorded"
                    )
                elif k == "proposed_by":
                    out.append(f"proposed by {val}")
                elif before.get(k) != val:
                    out.append(f"{k.replace('_', ' ')}: {ui.shown(before.get(k))} → {ui.shown(val)}")
            return "; ".join(out)

        st.markdown("**Timeline of events** (newest first)")
        for h in reversed(v["history"]):
            moved = (
                f" → {ui.status_chip(h['status_after'])}"
                if h["status_after"] and h["action"] != "evidence_add"
                else ""
            )
            detail = changes(h)
            st.html(
                f"<div style='border-left:3px solid #ccc;padding:2px 10px;margin:4px 0'>"
                f"<b>{h['effective_at']:%Y-%m-%d}</b> · {html.escape(h['action'])} by {html.escape(h['actor'])}{moved}"
                f"<br><span style='color:#444'>{html.escape(detail)}</span>"
                f"{'<br>' if detail else ''}<i>{html.escape(h['reason'] or '')}</i>"
                f"<br><span style='color:#888;font-size:.8em'>recorded {h['recorded_at']:%Y-%m-%d %H:%M} UTC · event {h['seq']}</span></div>"
            )
