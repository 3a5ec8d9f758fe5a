"""Obstacles on the Update page: link one from the register, unlink or resolve a linked one (with
the record's evidence), or record a new one with its source citation and link it. Every change
goes through :mod:`models.rules.obstacles` with a reason, against the version the officer loaded."""

from __future__ import annotations

import streamlit as st

from dashboard import data, ui
from dashboard.update import saving
from dashboard.update.record import Editing
from models.rules.evidence_files import slug
from models.rules.obstacles import create_obstacle, link_obstacle, resolve_obstacle, unlink_obstacle
from models.rules.users import get_user
from models.store.db import write_session
from models.store.errors import DomainError
from models.store.schemas import ObstacleCreate
from models.store.vocabulary import Country, ObstacleCategory, human

CHANGES = {
    "unlink": "Unlink (it does not block this recommendation)",
    "resolved": "Resolved (with evidence)",
    "no_longer_blocking": "No longer blocking (with evidence)",
}


def _write(ed: Editing, slot, message: str, do) -> None:
    """Run ``do(session, actor)`` in one write transaction; a refusal goes under the button."""
    try:
        with write_session(data.engine()) as session:
            do(session, get_user(session, ed.user.username))
    except DomainError as e:
        slot.error(ui.refusal(e, "Not saved: "))
        return
    except ValueError as e:  # the schema's refusal of a field (pydantic)
        slot.error(ui.refusal(e, "Not saved: "))
        return
    data.invalidate()
    saving.done(message)


def _reason(key: str, slot) -> str | None:
    reason = (st.session_state.get(key) or "").strip()
    if not reason:
        slot.error("A reason is required: say why in a sentence. Nothing was saved.")
        return None
    return reason


def render(ed: Editing) -> None:
    view = data.read("recommendation_view", ed.key)
    linked = {o["key"]: o for o in view.get("obstacles", [])}
    evidence = {e["key"]: e["title"] for e in view.get("evidence", []) if not e.get("superseded")}
    version = ed.loaded["version"]
    with st.expander(ui.say("Obstacles ({n} linked)", n=len(linked))):
        for o in linked.values():
            st.text(f"• {o['title']} ({o['key']}) — {o.get('state') or 'blocking'}")

        st.markdown("**Link an obstacle from the register**")
        q = st.text_input("Find an obstacle (key or title words)", key="obs_q")
        found = {o["key"]: o["title"] for o in data.read("find_obstacles", q) if o["key"] not in linked}
        with st.form("obs_link_form", border=False):
            pick = st.selectbox(
                "Obstacle to link",
                list(found),
                key="obs_pick",
                format_func=lambda k: f"{found[k][:80]} ({k})",
            )
            st.text_input("Why link it (required)", key="obs_link_reason", max_chars=4000)
            go = st.form_submit_button("Link", key="obs_link", icon=":material/link:")
            slot = st.empty()
        if go and pick and (reason := _reason("obs_link_reason", slot)):
            _write(
                ed,
                slot,
                f"Obstacle {pick} linked to {ed.key}",
                lambda s, a: link_obstacle(
                    s, key=ed.key, obstacle_key=pick, actor=a, reason=reason, expected_version=version
                ),
            )

        if linked:
            st.markdown("**Change a linked obstacle**")
            with st.form("obs_change_form", border=False):
                which = st.selectbox("Linked obstacle", list(linked), key="obs_which")
                how = st.radio("Change", list(CHANGES), key="obs_how", format_func=CHANGES.get)
                ev = st.selectbox(
                    "Evidence (for resolved / no longer blocking)",
                    [None, *evidence],
                    key="obs_ev",
                    format_func=lambda k: "(none)" if k is None else f"{evidence[k][:80]} ({k})",
                )
                st.text_input(
                    "Why this change to the obstacle (required)", key="obs_change_reason", max_chars=4000
                )
                go = st.form_submit_button("Save the change", key="obs_change", icon=":material/save:")
                slot = st.empty()
            if go and which and (reason := _reason("obs_change_reason", slot)):
                if how == "unlink":
                    _write(
                        ed,
                        slot,
                        f"Obstacle {which} unlinked from {ed.key}",
                        lambda s, a: unlink_obstacle(
                            s,
                            key=ed.key,
                            obstacle_key=which,
                            actor=a,
                            reason=reason,
                            expected_version=version,
                        ),
                    )
                elif ev is None:
                    slot.error("Pick the evidence that shows it (attach it above first). Nothing was saved.")
                else:
                    _write(
                        ed,
                        slot,
                        f"Obstacle {which} marked {CHANGES[how].split(' (')[0].lower()} for {ed.key}",
                        lambda s, a: resolve_obstacle(
                            s,
                            key=ed.key,
                            obstacle_key=which,
                            actor=a,
                            reason=reason,
                            evidence_key=ev,
                            state=how,
                            expected_version=version,
                        ),
                    )

        st.markdown("**Record a new obstacle** (cite the passage that reports it) and link it")
        sources = {s["id"]: s["short"] for s in data.read("source_choices")}
        with st.form("obs_new_form", border=False):
            st.text_input("Obstacle title", key="obs_new_title", max_chars=300)
            c1, c2 = st.columns(2)
            c1.selectbox(
                "Category",
                [c.value for c in ObstacleCategory],
                key="obs_new_category",
                format_func=lambda v: human("category", v),
            )
            c2.selectbox(
                "Side", [c.value for c in Country], key="obs_new_side", format_func=lambda v: human("side", v)
            )
            st.text_area("Obstacle summary (your own words)", key="obs_new_summary", max_chars=4000)
            s1, s2, s3, s4 = st.columns([2, 3, 1, 1])
            src = s1.selectbox("Cited source", list(sources), key="obs_new_source", format_func=sources.get)
            section = s2.text_input("Cited section", key="obs_new_section")
            start = s3.number_input("First line", min_value=1, step=1, value=None, key="obs_new_start")
            end = s4.number_input("Last line", min_value=1, step=1, value=None, key="obs_new_end")
            st.text_input("Why record it (required)", key="obs_new_reason", max_chars=4000)
            go = st.form_submit_button("Record and link", key="obs_new", icon=":material/add:")
            slot = st.empty()
        if go and (reason := _reason("obs_new_reason", slot)):
            ss = st.session_state
            title = (ss.get("obs_new_title") or "").strip()
            if not title or not section.strip() or not start or not end or int(end) < int(start):
                slot.error(
                    "A new obstacle needs a title and a citation (section, from ≤ to). Nothing was saved."
                )
                return
            new_key = f"obs-{slug(title)}"

            def create(s, a):
                create_obstacle(
                    s,
                    data=ObstacleCreate(
                        key=new_key,
                        title=title,
                        category=ss["obs_new_category"],
                        side=ss["obs_new_side"],
                        summary=(ss.get("obs_new_summary") or "").strip(),
                    ),
                    actor=a,
                    reason=reason,
                    citations=[
                        {
                            "source_id": src,
                            "section": section.strip(),
                            "line_start": int(start),
                            "line_end": int(end),
                        }
                    ],
                )
                link_obstacle(
                    s, key=ed.key, obstacle_key=new_key, actor=a, reason=reason, expected_version=version
                )

            _write(ed, slot, f"Obstacle {new_key} recorded and linked to {ed.key}", create)
