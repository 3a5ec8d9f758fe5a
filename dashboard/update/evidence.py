"""The evidence inputs every form shares (title, observed date, summary, files or a citation, other
recommendations it supports) and reading them back into an ``EvidenceCreate``."""

from __future__ import annotations

from datetime import date

import streamlit as st
from pydantic import ValidationError

from dashboard import data, ui
from dashboard.update.record import Editing
from models.store.schemas import EvidenceCreate
from models.store.settings import get_settings


def explain(err: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in err.errors())


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def fields(ed: Editing, prefix: str, heading: str, *, reuse: bool = True) -> list:
    """Render the inputs; return the uploaded files (a list, possibly empty)."""
    settings = get_settings()
    source_short = {s["id"]: s["short"] for s in data.read("source_choices")}
    st.markdown(heading)
    e1, e2 = st.columns(2)
    e1.text_input(
        "Evidence title", key=f"{prefix}_ev_title", max_chars=300, placeholder="e.g. Signed MoU, 2025 review"
    )
    e2.date_input(
        "Observed on",
        key=f"{prefix}_ev_observed",
        value=None,
        format="YYYY-MM-DD",
        min_value=settings.earliest_date,
        max_value=date.today(),
        help="The date the evidence speaks to.",
    )
    st.text_input("Evidence summary (your own words)", key=f"{prefix}_ev_summary")
    upload = (
        st.file_uploader(
            f"Files (one item may hold several; each up to {settings.upload_limit_words}: "
            f"{', '.join(settings.allowed_upload_types)})",
            # no type filter and twice the limit in the browser: a refused file then reaches the
            # server and the refusal names it, its size and the limit in words (the browser's own
            # refusal is a red icon with the reason on hover); beyond twice the limit it stays there
            accept_multiple_files=True,
            key=f"{prefix}_file_{st.session_state.get('upd_upload_n', 0)}",
            max_upload_size=settings.upload_transfer_mb,
        )
        or []
    )
    st.caption("…or a citation in the source library (section and line range as `cat -n` numbers the file):")
    s1, s2, s3, s4 = st.columns([2, 3, 1, 1])
    s1.selectbox(
        "Source",
        [None, *source_short],
        key=f"{prefix}_cite_source",
        format_func=lambda v: "(none)" if v is None else source_short[v],
    )
    s2.text_input("Section", key=f"{prefix}_cite_section")
    s3.number_input("From line", min_value=1, step=1, value=None, key=f"{prefix}_cite_start")
    s4.number_input("To line", min_value=1, step=1, value=None, key=f"{prefix}_cite_end")
    if reuse:
        # inside a form a search box would submit on Enter, so: the first records the officer may
        # update, plus any key typed in (the save checks it exists and may be updated)
        first = data.read("find_records", "", owner=ed.scope)["rows"]
        titles = {r["key"]: r["title"] for r in first if r["key"] != ed.key}
        typed = [k for k in st.session_state.get(f"{prefix}_ev_also") or [] if k not in titles]
        st.multiselect(
            "This evidence also supports",
            [*typed, *titles],
            key=f"{prefix}_ev_also",
            format_func=lambda k: f"{k} — {titles[k][:70]}" if k in titles else k,
            accept_new_options=True,
            placeholder="Choose, or type a recommendation key",
            help="One evidence item can support several recommendations (those you may update). "
            f"The first {len(titles)} are listed by key; type any other key.",
        )
    return upload


def read(prefix: str, upload) -> tuple[EvidenceCreate | None, dict | None]:
    """(evidence or None, citation or None) from the inputs, or raise ValueError with what to fix."""
    settings = get_settings()
    ss = st.session_state
    cite = None
    if ss.get(f"{prefix}_cite_source"):
        start, end = ss.get(f"{prefix}_cite_start"), ss.get(f"{prefix}_cite_end")
        section = (ss.get(f"{prefix}_cite_section") or "").strip()
        if not section or not start or not end or int(end) < int(start):
            raise ValueError("A citation needs a section and a line range (from ≤ to). Nothing was saved.")
        cite = {
            "source_id": ss[f"{prefix}_cite_source"],
            "section": section,
            "line_start": int(start),
            "line_end": int(end),
        }
    if not upload and cite is None:
        return None, None
    if not (ss.get(f"{prefix}_ev_title") or "").strip():
        raise ValueError("Give the evidence a title. Nothing was saved.")
    for f in upload:
        if f.size > settings.max_upload_bytes:
            raise ValueError(
                f"{f.name} is {_megabytes(f.size)}, larger than the {settings.upload_limit_words} limit "
                "for one file. Nothing was saved."
            )
        if not f.name.lower().endswith(tuple(settings.allowed_upload_types)):
            raise ValueError(
                f"{f.name} is not a type the store accepts ({', '.join(settings.allowed_upload_types)}). "
                "Nothing was saved."
            )
    evidence = EvidenceCreate(
        title=ss[f"{prefix}_ev_title"].strip(),
        summary=(ss.get(f"{prefix}_ev_summary") or "").strip(),
        observed_on=ss.get(f"{prefix}_ev_observed"),
        kind="file" if upload else "citation",
    )
    return evidence, cite


def read_or_error(prefix: str, upload, where=st):
    """:func:`read`, with any problem shown ``where`` (under the form's button); ``False`` when the
    input is not usable."""
    try:
        return read(prefix, upload)
    except ValidationError as e:
        where.error(ui.say("Not saved: {why}", why=explain(e)))
    except ValueError as e:
        where.error(ui.refusal(e))
    return False
