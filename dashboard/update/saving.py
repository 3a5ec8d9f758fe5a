"""The one save of the Update page: evidence, field changes, then the closure proposal, in one
write transaction through the domain functions. A stale version keeps the officer's input and
shows the colleague's change instead."""

from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from dashboard import data, ui
from dashboard.update import drafts
from dashboard.update.evidence import explain
from dashboard.update.record import Editing
from models.rules.closure import propose_closure
from models.rules.evidence_files import store_file
from models.rules.recommendations import attach_evidence, supersede_evidence, update_recommendation
from models.rules.users import get_user
from models.store.db import write_session
from models.store.errors import DomainError, DuplicateEvidence, StaleVersion
from models.store.schemas import RecommendationUpdate
from models.store.settings import get_settings


def write(
    ed: Editing,
    *,
    reason: str,
    change: dict,
    evidence,
    cite,
    upload,
    close_as: str | None,
    also=(),
    supersedes: str | None = None,
    where=st,
) -> bool:
    """True when saved; otherwise the refusal is on the page, ``where`` (under the form's button)."""
    ss = st.session_state
    loaded, key = ed.loaded, ed.key
    try:
        update = (
            RecommendationUpdate(expected_version=loaded["version"], reason=reason, **change)
            if change
            else None
        )
    except ValidationError as e:
        where.error(ui.say("Not saved: {why}", why=explain(e)))
        return False
    try:
        with st.status("Saving…", expanded=False) as progress:
            files = []
            for f in upload:
                progress.update(label=ui.say("Storing {name} ({size:,} bytes)…", name=f.name, size=f.size))
                f.seek(0)
                files.append(store_file(f, f.name, get_settings()))
            progress.update(label="Recording the change and its audit event…")
            with write_session(data.engine()) as session:
                actor = get_user(session, ed.user.username)
                if evidence is not None and supersedes:
                    supersede_evidence(
                        session,
                        old_key=supersedes,
                        evidence=evidence,
                        actor=actor,
                        reason=reason,
                        files=files,
                        citations=[cite] if cite else [],
                    )
                elif evidence is not None:
                    attach_evidence(
                        session,
                        keys=[key, *also],
                        evidence=evidence,
                        actor=actor,
                        reason=reason,
                        files=files,
                        citations=[cite] if cite else [],
                    )
                version = loaded["version"]
                if update is not None:
                    version = update_recommendation(session, key=key, change=update, actor=actor).version
                if close_as is not None:
                    propose_closure(
                        session,
                        key=key,
                        target=close_as,
                        reason=reason,
                        expected_version=version,
                        actor=actor,
                    )
            progress.update(label="Saved", state="complete")
    except StaleVersion as e:
        ss["upd_conflict"] = {
            "by": e.changed_by,
            "at": e.changed_at,
            "changes": e.changes,
            "current": e.current_version,
            "yours": loaded["version"],
        }
        st.rerun()
    except ValidationError as e:
        where.error(ui.say("Not saved: {why}", why=explain(e)))
        return False
    except DuplicateEvidence as e:  # the same file again: say where it already is
        box = where.container()
        box.error(ui.refusal(e, "Not saved: "))
        box.page_link(
            ui.RECOMMENDATIONS_PAGE,
            label=ui.say("Open {rec} (evidence {ev})", rec=e.recommendation, ev=e.evidence),
            query_params={"rec": e.recommendation},
            icon=":material/attach_file:",
        )
        return False
    except DomainError as e:
        where.error(ui.refusal(e, "Not saved: "))
        return False
    data.invalidate()
    return True


def done(message: str) -> None:
    """After a save: say what happened on the next run, with the record reloaded, the inputs cleared
    and the record's draft gone."""
    drafts.discard(st.session_state["upd_loaded"]["key"])
    st.session_state["upd_flash"] = message
    st.session_state["upd_reset"] = True
    st.rerun()
