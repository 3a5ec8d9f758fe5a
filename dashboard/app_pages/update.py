"""Update, for staff officers: move a recommendation along its lifecycle, change its owner,
target date or progress, and attach evidence — with a reason, in one audited transaction.
Closing (implemented / not implemented) is proposed here and waits for someone else to verify it.

The form carries the version the officer loaded; if a colleague saved first, nothing is saved,
the conflict is shown field by field, and the officer's input stays on screen.
"""

import html
from datetime import date
from types import SimpleNamespace

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from models.closure import propose_closure
from models.db import write_session
from models.errors import DomainError, StaleVersion
from models.evidence import store_file
from models.lifecycle import CLOSED, allowed_next
from models.overview import closure_state, recommendation_state
from models.permissions import can
from models.recommendations import attach_evidence, supersede_evidence, update_recommendation
from models.schemas import EvidenceCreate, RecommendationUpdate
from models.settings import get_settings
from models.users import get_user

from dashboard import data, ui

user = ui.page_user("recommendation.update", "the update page")
settings = get_settings()
KEEP = "__keep__"
EVIDENCE_FIELDS = ("ev_title", "ev_summary", "ev_observed", "ev_also", "cite_source", "cite_section", "cite_start",
                   "cite_end")
FIELDS = ("upd_status", "upd_owner", "upd_target", "upd_progress", "upd_reason", "clo_target", "clo_reason",
          "fix_old", "fix_reason", *(f"{p}_{f}" for p in ("upd", "clo", "fix") for f in EVIDENCE_FIELDS))

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

st.html(f"{ui.status_chip(loaded['status'])} &nbsp; <b>{html.escape(loaded['title'])}</b> &nbsp; "
        f"<span style='color:#555'>version {loaded['version']} · owner {html.escape(loaded['owner'])} · target "
        f"{loaded['target_date'] or 'none'} · progress {loaded['progress']}% · "
        f"{loaded['evidence_count']} evidence item(s)</span>")

closure = data.fresh(closure_state, key)
pending = closure["pending"]
if pending:
    st.warning(f"**Waiting for verification:** closure as *{ui.status_label(pending['target'])}* proposed by "
               f"{pending['proposed_by']} at {pending['proposed_at']:%Y-%m-%d %H:%M} UTC — “{pending['reason']}”. "
               f"An auditor, an admin or a designated verifier other than {pending['proposed_by']} accepts or returns it; "
               "the status cannot change until then.", icon=":material/hourglass_top:")
elif closure["last_decided"] and closure["last_decided"]["state"] == "returned" and loaded["status"] not in CLOSED:
    r = closure["last_decided"]
    st.info(f"**Closure returned** by {r['decided_by']} at {r['decided_at']:%Y-%m-%d %H:%M} UTC: “{r['decision_reason']}”. "
            "Address it, then propose the closure again below.", icon=":material/undo:")

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
nexts = [] if pending else list(allowed_next(loaded["status"]))
if st.session_state.get("upd_status") not in [KEEP, *nexts]:
    st.session_state["upd_status"] = KEEP
sources = data.read("source_choices")
source_short = {s["id"]: s["short"] for s in sources}

def evidence_fields(prefix: str, heading: str, *, reuse: bool = True):
    """Evidence inputs (title, observed date, summary, files or a citation, other recommendations
    it supports); returns the uploaded files (a list, possibly empty)."""
    st.markdown(heading)
    e1, e2 = st.columns(2)
    e1.text_input("Evidence title", key=f"{prefix}_ev_title", max_chars=300, placeholder="e.g. Signed MoU, 2025 review")
    e2.date_input("Observed on", key=f"{prefix}_ev_observed", value=None, format="YYYY-MM-DD",
                  min_value=date(1800, 1, 1), max_value=date.today(), help="The date the evidence speaks to.")
    st.text_input("Evidence summary (your own words)", key=f"{prefix}_ev_summary")
    upload = st.file_uploader(
        f"Files (one item may hold several; each up to {settings.max_upload_bytes // (1024 * 1024)} MB: "
        f"{', '.join(settings.allowed_upload_types)})",
        type=[t.lstrip(".") for t in settings.allowed_upload_types], accept_multiple_files=True,
        key=f"{prefix}_file_{st.session_state.get('upd_upload_n', 0)}",
        max_upload_size=max(1, settings.max_upload_bytes // (1024 * 1024))) or []
    st.caption("…or a citation in the source library (section and line range as `cat -n` numbers the file):")
    s1, s2, s3, s4 = st.columns([2, 3, 1, 1])
    s1.selectbox("Source", [None, *source_short], key=f"{prefix}_cite_source",
                 format_func=lambda v: "(none)" if v is None else source_short[v])
    s2.text_input("Section", key=f"{prefix}_cite_section")
    s3.number_input("From line", min_value=1, step=1, value=None, key=f"{prefix}_cite_start")
    s4.number_input("To line", min_value=1, step=1, value=None, key=f"{prefix}_cite_end")
    if reuse:
        st.multiselect("This evidence also supports", [k for k in keys if k != key], key=f"{prefix}_ev_also",
                       format_func=lambda k: f"{k} — {titles[k][:70]}",
                       help="One evidence item can support several recommendations (those you may update).")
    return upload


with st.form("upd_form", clear_on_submit=False, border=True):
    c1, c2 = st.columns(2)
    c1.selectbox("New status", [KEEP, *nexts], key="upd_status",
                 format_func=lambda s: f"Keep: {ui.status_label(loaded['status'])}" if s == KEEP else ui.status_label(s),
                 help="Only the moves the lifecycle allows from the current status are offered. Implemented and "
                      "Not implemented propose a closure, which someone else verifies (see “Propose closure” below).")
    c2.text_input("Owner (office)", key="upd_owner", max_chars=300)
    c3, c4 = st.columns(2)
    c3.date_input("Target date", key="upd_target", format="YYYY-MM-DD", min_value=date(1800, 1, 1),
                  max_value=date(2100, 12, 31))
    c4.slider("Progress (%)", 0, 100, key="upd_progress")
    st.text_area("Reason (required)", key="upd_reason", max_chars=4000,
                 placeholder="Why this change? It goes into the audit trail with your name.")

    upload = evidence_fields("upd", "**Evidence** (optional; needed before closing as implemented)")
    submitted = st.form_submit_button("Save", type="primary", key="upd_save", icon=":material/save:")

# ------------------------------------------------------------------ propose closure
closable = [t for t in allowed_next(loaded["status"]) if t in CLOSED]
propose_clicked = False
if not pending and closable:
    with st.form("clo_form", clear_on_submit=False, border=True):
        st.markdown("#### Propose closure")
        st.caption("Closing takes two people: you propose, and an auditor, an admin or a designated verifier other "
                   "than you accepts or returns it. Until then the recommendation keeps its status. "
                   + ("Closing as implemented needs at least one evidence item: the record has "
                      f"{loaded['evidence_count']}; attach one below if it has none."
                      if "implemented" in closable else
                      f"From {ui.status_label(loaded['status'])} it can only be closed as not implemented "
                      "(implemented is reached from In progress)."))
        st.radio("Close as", closable, key="clo_target", horizontal=True, format_func=ui.status_label)
        st.text_area("Why it can be closed (required)", key="clo_reason", max_chars=4000,
                     placeholder="What was done (or why it will not be), and where the evidence is.")
        clo_upload = evidence_fields("clo", "**Evidence for the closure** (optional here if the record already has it)")
        propose_clicked = st.form_submit_button("Propose closure", type="primary", key="clo_propose",
                                                icon=":material/task_alt:")
elif not pending and loaded["status"] in CLOSED:
    st.caption(f"This recommendation is closed ({ui.status_label(loaded['status'])}); reopen it above with a reason "
               "if the situation changed.")


# ------------------------------------------------------------------ correct an evidence item
current_evidence = [e for e in data.read("recommendation_view", key)["evidence"] if not e.get("superseded")]
fix_clicked = False
if current_evidence:
    with st.expander("Correct an evidence item (the old one stays in the trail, superseded)"):
        with st.form("fix_form", clear_on_submit=False, border=False):
            by_key = {e["key"]: e for e in current_evidence}
            st.selectbox("Evidence to correct", list(by_key), key="fix_old",
                         format_func=lambda k: f"{by_key[k]['title'][:80]} ({k})")
            st.text_area("Why it needs correcting (required)", key="fix_reason", max_chars=4000)
            fix_upload = evidence_fields("fix", "**The corrected evidence**", reuse=False)
            fix_clicked = st.form_submit_button("Save the correction", key="fix_save", icon=":material/published_with_changes:")


def explain(err: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in err.errors())


def read_evidence(prefix: str, upload, reason: str):
    """(EvidenceCreate or None, citation or None) from the inputs, or raise ValueError with what to fix."""
    ss = st.session_state
    cite = None
    if ss.get(f"{prefix}_cite_source"):
        start, end = ss.get(f"{prefix}_cite_start"), ss.get(f"{prefix}_cite_end")
        section = (ss.get(f"{prefix}_cite_section") or "").strip()
        if not section or not start or not end or int(end) < int(start):
            raise ValueError("A citation needs a section and a line range (from ≤ to). Nothing was saved.")
        cite = {"source_id": ss[f"{prefix}_cite_source"], "section": section, "line_start": int(start),
                "line_end": int(end)}
    if not upload and cite is None:
        return None, None
    if not (ss.get(f"{prefix}_ev_title") or "").strip():
        raise ValueError("Give the evidence a title. Nothing was saved.")
    for f in upload:
        if f.size > settings.max_upload_bytes:
            raise ValueError(f"{f.name} is larger than the {settings.max_upload_bytes // (1024 * 1024)} MB limit. "
                             "Nothing was saved.")
    evidence = EvidenceCreate(title=ss[f"{prefix}_ev_title"].strip(), summary=(ss.get(f"{prefix}_ev_summary") or "").strip(),
                              observed_on=ss.get(f"{prefix}_ev_observed"),
                              kind="file" if upload else "citation")
    return evidence, cite


def evidence_or_error(prefix: str, upload, reason: str):
    """read_evidence, with any problem shown on the page; ``False`` when the input is not usable."""
    try:
        return read_evidence(prefix, upload, reason)
    except ValidationError as e:
        st.error(f"Not saved: {explain(e)}")
    except ValueError as e:
        st.error(str(e))
    return False


def write(*, reason: str, change: dict, evidence, cite, upload, close_as: str | None, also=(),
          supersedes: str | None = None) -> bool:
    """One transaction: evidence, field changes, then the closure proposal. True when saved."""
    ss = st.session_state
    try:
        update = RecommendationUpdate(expected_version=loaded["version"], reason=reason, **change) if change else None
    except ValidationError as e:
        st.error(f"Not saved: {explain(e)}")
        return False
    try:
        with st.status("Saving…", expanded=False) as progress:
            files = []
            for f in upload:
                progress.update(label=f"Storing {f.name} ({f.size:,} bytes)…")
                f.seek(0)
                files.append(store_file(f, f.name, settings))
            progress.update(label="Recording the change and its audit event…")
            with write_session(data.engine()) as session:
                actor = get_user(session, user.username)
                if evidence is not None and supersedes:
                    supersede_evidence(session, old_key=supersedes, evidence=evidence, actor=actor, reason=reason,
                                       files=files, citations=[cite] if cite else [])
                elif evidence is not None:
                    attach_evidence(session, keys=[key, *also], evidence=evidence, actor=actor, reason=reason,
                                    files=files, citations=[cite] if cite else [])
                version = loaded["version"]
                if update is not None:
                    version = update_recommendation(session, key=key, change=update, actor=actor).version
                if close_as is not None:
                    propose_closure(session, key=key, target=close_as, reason=reason, expected_version=version,
                                    actor=actor)
            progress.update(label="Saved", state="complete")
    except StaleVersion as e:
        ss["upd_conflict"] = {"by": e.changed_by, "at": e.changed_at, "changes": e.changes,
                              "current": e.current_version, "yours": loaded["version"]}
        st.rerun()
    except ValidationError as e:
        st.error(f"Not saved: {explain(e)}")
        return False
    except DomainError as e:
        st.error(f"Not saved: {e}")
        return False
    data.invalidate()
    return True


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
    read = evidence_or_error("upd", upload, reason)
    if read is False:
        return
    evidence, cite = read
    if not change and evidence is None:
        st.error("Nothing to save: change a field or attach evidence.")
        return
    close_as = change.pop("status") if change.get("status") in CLOSED else None  # closing is proposed, then verified
    if not write(reason=reason, change=change, evidence=evidence, cite=cite, upload=upload, close_as=close_as,
                 also=ss.get("upd_ev_also") or ()):
        return
    if close_as:
        ss["upd_flash"] = (f"Closure of {key} as {ui.status_label(close_as)} proposed: waiting for verification"
                           + (" (with evidence)" if evidence is not None else ""))
    else:
        what = ", ".join(f"{k} → {ui.status_label(v) if k == 'status' else v}" for k, v in change.items())
        ss["upd_flash"] = f"Saved {key}: {what or 'evidence attached'}" + (" (with evidence)" if change and evidence else "")
    ss["upd_reset"] = True
    st.rerun()


def propose() -> None:
    ss = st.session_state
    reason = (ss.get("clo_reason") or "").strip()
    target = ss.get("clo_target")
    if not reason:
        st.error("A reason is required to propose a closure: say what was done and where the evidence is. "
                 "Nothing was saved.")
        return
    read = evidence_or_error("clo", clo_upload, reason)
    if read is False:
        return
    evidence, cite = read
    if not write(reason=reason, change={}, evidence=evidence, cite=cite, upload=clo_upload, close_as=target,
                 also=ss.get("clo_ev_also") or ()):
        return
    ss["upd_flash"] = (f"Closure of {key} as {ui.status_label(target)} proposed: waiting for verification"
                       + (" (with evidence)" if evidence is not None else ""))
    ss["upd_reset"] = True
    st.rerun()


def correct() -> None:
    ss = st.session_state
    reason = (ss.get("fix_reason") or "").strip()
    if not reason:
        st.error("A reason is required to correct evidence: say what was wrong. Nothing was saved.")
        return
    read = evidence_or_error("fix", fix_upload, reason)
    if read is False:
        return
    evidence, cite = read
    if evidence is None:
        st.error("The correction needs a file or a citation. Nothing was saved.")
        return
    if not write(reason=reason, change={}, evidence=evidence, cite=cite, upload=fix_upload, close_as=None,
                 supersedes=ss.get("fix_old")):
        return
    ss["upd_flash"] = f"Evidence {ss.get('fix_old')} corrected: the new item supersedes it; both stay in the trail"
    ss["upd_reset"] = True
    st.rerun()


if submitted:
    save()
if fix_clicked:
    correct()
if propose_clicked:
    propose()


