"""Bulk edits, for staff officers and admins: download the recommendations as CSV or Excel,
edit status, owner, target date, progress and the blocking obstacles (with a reason per row) in
a spreadsheet, and upload the file back. Every row goes through the same rules as the update form; by default
all rows or none are applied."""

from io import BytesIO

import pandas as pd
import streamlit as st

from dashboard import data, ui
from models.rules.users import get_user
from models.store.db import write_session
from models.store.errors import DomainError
from models.store.settings import get_settings
from models.store.vocabulary import STATUSES
from models.workflow.bulk_edits import EditsRefused, apply_edits
from models.workflow.bulk_export import export_edits
from models.workflow.edit_files import parse_edit_file

user = ui.page_user("recommendation.update", "bulk edits")
settings = get_settings()
ALL = "All"
FORMATS = {
    "csv": ("CSV", "text/csv"),
    "xlsx": ("Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}

st.title("Bulk edits")
st.caption(
    "Download, edit status, owner, target_date, progress and obstacles (the keys of the obstacles blocking "
    "the record, separated by ';': add one to link it, delete one to unlink it) with a reason on each changed "
    "row, and upload the file back. Leave key, version and the other columns as they are. Closing as implemented or not "
    "implemented goes through Propose closure on the Update page, not this file."
)

# ------------------------------------------------------------------ 1. download
with st.container(border=True):
    st.markdown("**1. Download the recommendations**")
    owners = data.read("owner_choices")
    c = st.columns([2, 3, 2, 2], vertical_alignment="bottom")
    status = c[0].selectbox(
        "Status",
        [ALL, *STATUSES],
        key="bulk_status",
        format_func=lambda s: s if s == ALL else ui.status_label(s),
    )
    default_owner = owners.index(user.office) + 1 if user.office in owners else 0
    owner = c[1].selectbox("Owner", [ALL, *owners], index=default_owner, key="bulk_owner")
    fmt = c[2].radio(
        "Format", list(FORMATS), key="bulk_format", horizontal=True, format_func=lambda f: FORMATS[f][0]
    )
    if c[3].button("Prepare the file", key="bulk_prepare", icon=":material/table_view:"):

        def build(session):
            buf = BytesIO()
            n = export_edits(
                session,
                buf,
                fmt=fmt,
                status=None if status == ALL else status,
                owner=None if owner == ALL else owner,
            )
            return buf.getvalue(), n

        with st.spinner("Writing the file…"):
            payload, n = data.fresh(build)
        st.session_state["bulk_export"] = {
            "bytes": payload,
            "n": n,
            "fmt": fmt,
            "name": f"recommendations-edit.{fmt}",
        }
    prepared = st.session_state.get("bulk_export")
    if prepared:
        st.download_button(
            ui.say("Download {name} ({n} recommendation(s))", name=prepared["name"], n=prepared["n"]),
            data=prepared["bytes"],
            file_name=prepared["name"],
            mime=FORMATS[prepared["fmt"]][1],
            key="bulk_download",
            type="primary",
            icon=":material/download:",
        )
    if user.office:
        st.caption(
            ui.say("You edit for {office}: rows of other offices will be refused.", office=user.office)
        )

# ------------------------------------------------------------------ 2. upload
with st.container(border=True):
    st.markdown("**2. Upload the edited file**")
    upload = st.file_uploader(
        f"Edited file (.csv or .xlsx, up to {settings.upload_limit_words}; .xlsx keeps leading "
        "zeros and dates as they are)",
        type=["csv", "xlsx"],
        key=f"bulk_file_{st.session_state.get('bulk_upload_n', 0)}",
        max_upload_size=settings.upload_limit_mb,
    )
    partial = st.checkbox(
        "Apply the good rows only (refused rows are listed and left out)",
        key="bulk_partial",
        help="Off: if any row is refused, nothing is applied (all or nothing).",
    )
    apply_clicked = st.button(
        "Apply edits", key="bulk_apply", type="primary", disabled=upload is None, icon=":material/upload:"
    )


def apply(upload, partial: bool) -> None:
    st.session_state.pop("bulk_result", None)
    try:
        parsed = parse_edit_file(upload.getvalue(), upload.name)
    except DomainError as e:
        msg = str(e)
        st.error(
            ui.md_escape("N" + msg[1:] if msg.startswith("nothing applied") else f"Nothing applied: {msg}")
        )
        return
    total = len(parsed.rows)
    bar = st.progress(0.0, text=f"Checking {total:,} row(s)…")
    step = max(total // 100, 1)

    def show(done: int, of: int) -> None:
        if done % step == 0 or done == of:
            bar.progress(done / max(of, 1), text=f"{done:,} of {of:,} row(s) checked")

    result = {"file": upload.name, "partial": partial, "unit": parsed.unit}
    try:
        with write_session(data.engine()) as session:
            report = apply_edits(
                session, parsed=parsed, actor=get_user(session, user.username), partial=partial, progress=show
            )
    except EditsRefused as e:
        result.update(
            applied=[],
            unchanged=0,
            refused=True,
            problems=[
                {"where": f"{p.unit} {p.number}", "field": p.field, "reason": p.message} for p in e.problems
            ],
        )
        st.session_state["bulk_result"] = result
        bar.empty()
        return
    except DomainError as e:
        bar.empty()
        st.error(ui.refusal(e, "Nothing applied: "))
        return
    bar.empty()
    if report.applied:
        data.invalidate()
    result.update(
        refused=False,
        unchanged=report.unchanged,
        applied=[
            {
                "where": f"{report.unit} {a.number}",
                "key": a.key,
                "changes": "; ".join(
                    f"{k}: {b if b is not None else '(none)'} → {v if v is not None else '(none)'}"
                    for k, (b, v) in a.changes.items()
                ),
                "version": a.version,
            }
            for a in report.applied
        ],
        problems=[
            {"where": f"{p.unit} {p.number}", "field": p.field, "reason": p.message} for p in report.problems
        ],
    )
    st.session_state["bulk_result"] = result


if apply_clicked and upload is not None:
    apply(upload, partial)

r = st.session_state.get("bulk_result")
if r:
    if r["refused"]:
        st.error(
            ui.say(
                "Nothing applied from {file}: {n} row problem(s), listed below. Fix them and "
                "upload again, or tick “apply the good rows only”.",
                file=r["file"],
                n=len(r["problems"]),
            ),
            icon=":material/block:",
        )
    else:
        st.success(
            ui.say(
                "Applied {n} change(s) from {file}; {unchanged} row(s) unchanged",
                n=len(r["applied"]),
                file=r["file"],
                unchanged=r["unchanged"],
            )
            + (f"; {len(r['problems'])} row(s) refused and left out." if r["problems"] else "."),
            icon=":material/task_alt:",
        )
        if r["applied"]:
            st.dataframe(
                pd.DataFrame(r["applied"]),
                hide_index=True,
                width="stretch",
                column_config={
                    "where": "Row",
                    "key": "Recommendation",
                    "changes": "Changes",
                    "version": "New version",
                },
                key="bulk_applied_table",
            )
    if r["problems"]:
        st.markdown(f"**Refused rows ({len(r['problems'])})**")
        st.dataframe(
            pd.DataFrame(r["problems"]),
            hide_index=True,
            width="stretch",
            column_config={
                "where": "Row",
                "field": "Field",
                "reason": st.column_config.TextColumn("Reason", width="large"),
            },
            key="bulk_problems_table",
        )
