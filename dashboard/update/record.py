"""The record the officer is editing: picked, loaded fresh, and remembered with the version the
form works from, so a colleague's save in between is detected instead of overwritten."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import streamlit as st

from dashboard import data, ui
from models.reads.records import recommendation_state

KEEP = "__keep__"
EVIDENCE_FIELDS = (
    "ev_title",
    "ev_summary",
    "ev_observed",
    "ev_also",
    "cite_source",
    "cite_section",
    "cite_start",
    "cite_end",
)
FIELDS = (
    "upd_status",
    "upd_owner",
    "upd_target",
    "upd_progress",
    "upd_reason",
    "clo_target",
    "clo_reason",
    "fix_old",
    "fix_reason",
    *(f"{p}_{f}" for p in ("upd", "clo", "fix") for f in EVIDENCE_FIELDS),
)


_EMPTY = {"observed": None, "source": None, "start": None, "end": None, "also": []}


@dataclass
class Slots:
    """Where a form's refusals appear: under the reason box, and under the form's button."""

    reason: object
    save: object


@dataclass
class Editing:
    """What every part of the page needs: who edits, which record, as loaded, and the office whose
    records they may edit (``scope``; None for every record)."""

    user: object
    key: str
    loaded: dict
    scope: str | None = None
    closure: dict = field(default_factory=dict)

    @property
    def pending(self) -> dict | None:
        return self.closure.get("pending")


def load(k: str, reset_inputs: bool) -> dict:
    """Read the record fresh; remember it as the version the officer is working from."""
    state = data.fresh(recommendation_state, k)
    previous = st.session_state.get("upd_loaded")
    st.session_state["upd_loaded"] = state
    if not reset_inputs and previous and previous["key"] == k:
        # three-way merge: a field the officer left alone takes the colleague's new value,
        # a field the officer changed keeps the officer's input
        for fld, widget in (
            ("owner", "upd_owner"),
            ("target_date", "upd_target"),
            ("progress", "upd_progress"),
        ):
            if st.session_state.get(widget) == previous[fld]:
                st.session_state[widget] = state[fld]
    if reset_inputs:
        # set, not deleted: a browser keeps showing what was typed into a widget whose state is
        # merely dropped, so the evidence inputs would survive the save that used them
        for f in FIELDS:
            if f in ("clo_target", "fix_old"):  # choices among options: their first option again
                st.session_state.pop(f, None)
            else:
                st.session_state[f] = _EMPTY.get(f.rsplit("_", 1)[-1], "")
        st.session_state.update(
            {
                "upd_status": KEEP,
                "upd_owner": state["owner"],
                "upd_target": state["target_date"],
                "upd_progress": state["progress"],
                "upd_reason": "",
            }
        )
        st.session_state["upd_upload_n"] = st.session_state.get("upd_upload_n", 0) + 1
        st.session_state.pop("upd_conflict", None)
    return state


def current(key: str) -> dict:
    """The loaded record, reloaded (inputs reset) when another record is picked, after a save, or when
    the officer comes back from another page.

    Streamlit drops a widget's value at the end of any run that does not draw it, so after a visit to
    another page the form's inputs are gone while ``upd_loaded`` is not; drawing the form then would show
    the widgets' defaults (progress 0, today's date) and a save would send them as the officer's change.
    A missing input therefore means "start again from the record as stored now"; the page then puts
    back what the officer had typed and not saved (:mod:`dashboard.update.drafts`)."""
    ss = st.session_state
    loaded = ss.get("upd_loaded")
    inputs_gone = any(w not in ss for w in ("upd_owner", "upd_target", "upd_progress"))
    saved = ss.pop("upd_reset", False)
    if loaded is None or loaded["key"] != key or saved or inputs_gone:
        loaded = load(key, reset_inputs=True)
        ss["upd_reloaded"] = not saved  # not after a save: the page may put a draft back (drafts)
    return loaded


def start_key() -> str | None:
    """The record the picker should show chosen: the officer's own choice, or, when it was dropped
    by a visit to another page (see :func:`current`), the record the session is on (``detail_key``,
    set here and on the Recommendations detail), so it never falls back to the first of the list.
    The picker drops it if the officer may not update it."""
    ss = st.session_state
    return ss.get("upd_key") or ss.get("detail_key")


def header(ed: Editing) -> None:
    """The record's state in one line, then what waits on it (a pending or returned closure)."""
    from models.rules.lifecycle import CLOSED

    loaded = ed.loaded
    st.html(
        f"{ui.status_chip(loaded['status'])} &nbsp; <b>{html.escape(loaded['title'])}</b> &nbsp; "
        f"<span style='color:#555'>version {loaded['version']} · owner {html.escape(loaded['owner'])} · target "
        f"{loaded['target_date'] or 'none'} · progress {loaded['progress']}% · "
        f"{loaded['evidence_count']} evidence item(s)</span>"
    )
    pending = ed.pending
    if pending:
        st.warning(
            ui.say(
                "**Waiting for verification:** closure as *{target}* proposed by {who} at "
                "{at:%Y-%m-%d %H:%M} UTC — “{reason}”. An auditor, an admin or a designated verifier other "
                "than {who} accepts or returns it; the status cannot change until then.",
                target=ui.status_label(pending["target"]),
                who=pending["proposed_by"],
                at=pending["proposed_at"],
                reason=pending["reason"],
            ),
            icon=":material/hourglass_top:",
        )
    elif (
        ed.closure.get("last_decided")
        and ed.closure["last_decided"]["state"] == "returned"
        and loaded["status"] not in CLOSED
    ):
        r = ed.closure["last_decided"]
        st.info(
            ui.say(
                "**Closure returned** by {by} at {at:%Y-%m-%d %H:%M} UTC: “{reason}”. Address it, then "
                "propose the closure again below.",
                by=r["decided_by"],
                at=r["decided_at"],
                reason=r["decision_reason"],
            ),
            icon=":material/undo:",
        )


def conflict_panel(key: str) -> None:
    """A colleague saved first: what they changed, field by field; the officer's input stays."""
    import pandas as pd

    conflict = st.session_state.get("upd_conflict")
    if not conflict:
        return
    st.error(
        ui.say(
            "Not saved: {by} changed this recommendation at {at:%Y-%m-%d %H:%M} UTC while you were editing "
            "(you loaded version {yours}, it is now version {current}). Your input is kept below. Review "
            "their change, then reload the record and save again.",
            by=conflict["by"],
            at=conflict["at"],
            yours=conflict["yours"],
            current=conflict["current"],
        ),
        icon=":material/sync_problem:",
    )
    st.dataframe(
        pd.DataFrame(
            [
                {"field": f, "before their change": str(b), "after their change": str(a)}
                for f, (b, a) in conflict["changes"].items()
            ]
        ),
        hide_index=True,
    )
    if st.button("Reload their version (keeps your input)", key="upd_reload"):
        load(key, reset_inputs=False)
        st.session_state.pop("upd_conflict", None)
        st.rerun()
