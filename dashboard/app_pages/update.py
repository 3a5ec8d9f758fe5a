"""Update, for staff officers: move a recommendation along its lifecycle, change its owner,
target date or progress, and attach evidence — with a reason, in one audited transaction.

The form carries the version the officer loaded; if a colleague saved first, nothing is saved,
the conflict is shown field by field, and the officer's input stays on screen.
"""

from types import SimpleNamespace

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from models.db import write_session
from models.errors import DomainError, StaleVersion
from models.evidence import store_file
from models.lifecycle import allowed_next
from models.overview import recommendation_state
from models.permissions import can
from models.recommendations import attach_evidence, update_recommendation
from models.schemas import EvidenceCreate, RecommendationUpdate
from models.settings import get_settings
from models.users import get_user

from dashboard import data, ui

user = ui.page_user("recommendation.update", "the update page")
settings = get_settings()
KEEP = "__keep__"
FIELDS = ("upd_status", "upd_owner", "upd_target", "upd_progress", "upd_reason", "upd_ev_title", "upd_ev_summary",
          "upd_ev_observed", "upd_cite_source", "upd_cite_section", "upd_cite_start", "upd_cite_end")

st.title("Update a recommendation")

choices = [c for c in data.read("recommendation_choices")
           if can(user, "recommendation.update", SimpleNamespace(owner=c["owner"], key=c["key"]))]
if not choices:
    if user.office:
        st.info(f"No recommendation is owned by your office ({user.office}), so there is nothing you can update.")
    else:
        ui.empty_store()
    st.stop()

keys = [c["key"] for c in choices]
titles = {c["key"]: c["title"] for c in choices}
wanted = st.session_state.get("detail_key")
if "upd_key" not in st.session_state and wanted in keys:
    st.session_state["upd_key"] = wanted
key = st.selectbox("Recommendation", keys, key="upd_key", format_func=lambda k: f"{k} — {titles[k][:90]}")


def load(k: str, reset_inputs: bool) -> dict:
    """Read the record fresh; remember it as the version the officer is working from."""
    state = data.fresh(recommendation_state, k)
    previous = st.session_state.get("upd_loaded")
    st.session_state["upd_loaded"] = state
    if not reset_inputs and previous and previous["key"] == k:
        # three-way merge: a field the officer left alone takes the colleague's new value,
        # a field the officer changed keeps the officer's input
        for field, widget in (("owner", "upd_owner"), ("target_date", "upd_target"), ("progress", "upd_progress")):
            if st.session_state.get(widget) == previous[field]:
                st.session_state[widget] = state[field]
    if reset_inputs:
        for f in FIELDS:
            st.session_state.pop(f, None)
        st.session_state.update({"upd_status": KEEP, "upd_owner": state["owner"], "upd_target": state["target_date"],
                                 "upd_progress": state["progress"], "upd_reason": ""})
        st.session_state["upd_upload_n"] = st.session_state.get("upd_upload_n", 0) + 1
        st.session_state.pop("upd_conflict", None)
    return state


loaded = st.session_state.get("upd_loaded")
if loaded is None or loaded["key"] != key or st.session_state.pop("upd_reset", False):
    loaded = load(key, reset_inputs=True)

if msg := st.session_state.pop("upd_flash", None):
    st.success(msg)

st.html(f"{ui.status_chip(loaded['status'])} &nbsp; <b>{loaded['title']}</b> &nbsp; "
        f"<span style='color:#555'>version {loaded['version']} · owner {loaded['owner']} · target "
        f"{loaded['target_date'] or 'none'} · progress {loaded['progress']}% · "
        f"{loaded['evidence_count']} evidence item(s)</span>")

# ------------------------------------------------------------------ a colleague saved first
conflict = st.session_state.get("upd_conflict")
if conflict:
    st.error(f"Not saved: {conflict['by']} changed this recommendation at {conflict['at']:%Y-%m-%d %H:%M} UTC while "
             f"you were editing (you loaded version {conflict['yours']}, it is now version {conflict['current']}). "
             "Your input is kept below. Review their change, then reload the record and save again.",
             icon=":material/sync_problem:")
    st.dataframe(pd.DataFrame([{"field": f, "before their change": str(b), "after their change": str(a)}
                               for f, (b, a) in conflict["changes"].items()]), hide_index=True)
    if st.button("Reload their version (keeps your input)", key="upd_reload"):
        load(key, reset_inputs=False)
        st.session_state.pop("upd_conflict", None)
        st.rerun()

# ------------------------------------------------------------------ the form
nexts = list(allowed_next(loaded["status"]))
if st.session_state.get("upd_status") not in [KEEP, *nexts]:
    st.session_state["upd_status"] = KEEP
sources = data.read("source_choices")
source_short = {s["id"]: s["short"] for s in sources}

with st.form("upd_form", clear_on_submit=False, border=True):
    c1, c2 = st.columns(2)
    c1.selectbox("New status", [KEEP, *nexts], key="upd_status",
                 format_func=lambda s: f"Keep: {ui.status_label(loaded['status'])}" if s == KEEP else ui.status_label(s),
                 help="Only the moves the lifecycle allows from the current status are offered.")
    c2.text_input("Owner (office)", key="upd_owner", max_chars=300)
    c3, c4 = st.columns(2)
    c3.date_input("Target date", key="upd_target", format="YYYY-MM-DD")
    c4.slider("Progress (%)", 0, 100, key="upd_progress")
    st.text_area("Reason (required)", key="upd_reason", max_chars=4000,
                 placeholder="Why this change? It goes into the audit trail with your name.")

    st.markdown("**Evidence** (optional; needed before closing as implemented)")
    e1, e2 = st.columns(2)
    e1.text_input("Evidence title", key="upd_ev_title", max_chars=300, placeholder="e.g. Signed MoU, 2025 review")
    e2.date_input("Observed on", key="upd_ev_observed", value=None, format="YYYY-MM-DD")
    st.text_input("Evidence summary (your own words)", key="upd_ev_summary")
    upload = st.file_uploader(
        f"File (up to {settings.max_upload_bytes // (1024 * 1024)} MB: {', '.join(settings.allowed_upload_types)})",
        type=[t.lstrip(".") for t in settings.allowed_upload_types], key=f"upd_file_{st.session_state.get('upd_upload_n', 0)}",
        max_upload_size=max(1, settings.max_upload_bytes // (1024 * 1024)))
    st.caption("…or a citation in the source library (section and line range as `cat -n` numbers the file):")
    s1, s2, s3, s4 = st.columns([2, 3, 1, 1])
    s1.selectbox("Source", [None, *source_short], key="upd_cite_source",
                 format_func=lambda v: "(none)" if v is None else source_short[v])
    s2.text_input("Section", key="upd_cite_section")
    s3.number_input("From line", min_value=1, step=1, value=None, key="upd_cite_start")
    s4.number_input("To line", min_value=1, step=1, value=None, key="upd_cite_end")
    submitted = st.form_submit_button("Save", type="primary", key="upd_save", icon=":material/save:")


def explain(err: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in err.errors())


def save() -> None:
    ss = st.session_state
    reason = (ss.get("upd_reason") or "").strip()
    if not reason:
        st.error("A reason is required for every change: say why in a sentence. Nothing was saved.")
        return
    change: dict = {}
    if ss.get("upd_status") not in (None, KEEP):
        change["status"] = ss["upd_status"]
    owner = (ss.get("upd_owner") or "").strip()
    if owner != loaded["owner"]:
        change["owner"] = owner
    if ss.get("upd_target") != loaded["target_date"]:
        change["target_date"] = ss.get("upd_target")
    if ss.get("upd_progress") != loaded["progress"]:
        change["progress"] = ss.get("upd_progress")

    cite = None
    if ss.get("upd_cite_source"):
        start, end = ss.get("upd_cite_start"), ss.get("upd_cite_end")
        section = (ss.get("upd_cite_section") or "").strip()
        if not section or not start or not end or int(end) < int(start):
            st.error("A citation needs a section and a line range (from ≤ to). Nothing was saved.")
            return
        cite = {"source_id": ss["upd_cite_source"], "section": section, "line_start": int(start), "line_end": int(end)}
    has_evidence = upload is not None or cite is not None
    if has_evidence and not (ss.get("upd_ev_title") or "").strip():
        st.error("Give the evidence a title. Nothing was saved.")
        return
    if not change and not has_evidence:
        st.error("Nothing to save: change a field or attach evidence.")
        return
    if upload is not None and upload.size > settings.max_upload_bytes:
        st.error(f"{upload.name} is larger than the {settings.max_upload_bytes // (1024 * 1024)} MB limit. Nothing was saved.")
        return
    try:
        update = RecommendationUpdate(expected_version=loaded["version"], reason=reason, **change) if change else None
        evidence = EvidenceCreate(title=ss["upd_ev_title"].strip(), summary=(ss.get("upd_ev_summary") or "").strip(),
                                  observed_on=ss.get("upd_ev_observed"),
                                  kind="file" if upload is not None else "citation") if has_evidence else None
    except ValidationError as e:
        st.error(f"Not saved: {explain(e)}")
        return
    try:
        with st.status("Saving…", expanded=False) as progress:
            files = []
            if upload is not None:
                progress.update(label=f"Storing {upload.name} ({upload.size:,} bytes)…")
                files.append(store_file(upload, upload.name, settings))
            progress.update(label="Recording the change and its audit event…")
            with write_session(data.engine()) as session:
                actor = get_user(session, user.username)
                if evidence is not None:
                    attach_evidence(session, keys=[key], evidence=evidence, actor=actor, reason=reason,
                                    files=files, citations=[cite] if cite else [])
                if update is not None:
                    update_recommendation(session, key=key, change=update, actor=actor)
            progress.update(label="Saved", state="complete")
    except StaleVersion as e:
        ss["upd_conflict"] = {"by": e.changed_by, "at": e.changed_at, "changes": e.changes,
                              "current": e.current_version, "yours": loaded["version"]}
        st.rerun()
    except ValidationError as e:
        st.error(f"Not saved: {explain(e)}")
        return
    except DomainError as e:
        st.error(f"Not saved: {e}")
        return
    data.invalidate()
    what = ", ".join(f"{k} → {ui.status_label(v) if k == 'status' else v}" for k, v in change.items())
    ss["upd_flash"] = f"Saved {key}: {what or 'evidence attached'}" + (" (with evidence)" if change and has_evidence else "")
    ss["upd_reset"] = True
    st.rerun()


if submitted:
    save()
