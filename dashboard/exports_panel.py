"""Exports of the evidence trail (zip bundle, CSV, JSON Lines, HTML report) and offline
verification of a bundle, for the roles that may export (auditor, admin).

The export itself is :func:`models.trail.exports.export`: it records its own audit event, then writes
the file under ``<data dir>/exports``; the page offers it for download. A bundle is checked by
:func:`models.trail.bundle.verify_bundle`, the same check ``rectrack verify --bundle`` runs.
"""

from __future__ import annotations

import hashlib
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import streamlit as st

from dashboard import data, ui
from dashboard.identity import PREPARED_FILES
from dashboard.picker import record_multipicker
from models.rules.permissions import can
from models.store.errors import DomainError
from models.store.settings import get_settings
from models.trail.bundle_verify import verify_against_store
from models.trail.export_formats import Scope
from models.trail.exports import export

FORMATS = {
    "bundle": (
        "Bundle (.zip): events, chain, records, evidence files, manifest of hashes",
        "zip",
        "application/zip",
    ),
    "csv": ("CSV of the events", "csv", "text/csv"),
    "jsonl": ("JSON Lines of the events", "jsonl", "application/x-ndjson"),
    "html": ("HTML report (readable, with charts)", "html", "text/html"),
}
ALL = "All owners"
EARLIEST = date(1800, 1, 1)  # the timeline starts in 1823


def exports_dir() -> Path:
    d = get_settings().data_dir / "exports"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def render_exports(engine, user) -> None:
    if not can(user, "trail.export"):
        st.info(f"Your role ({user.role}) cannot export the evidence trail; auditors and admins can.")
        return
    left, right = st.columns([3, 2], gap="large")
    with left:
        _export_form(engine, user)
    with right:
        _verify_form()


# ------------------------------------------------------------------ export


def _export_form(engine, user) -> None:
    st.markdown("**Export the trail**")
    owners = data.read("owner_choices")
    # outside the form: each search reruns the page to offer its matches (a multiselect over every
    # key sent 50,000 options to the browser)
    keys = record_multipicker(
        "Recommendations (none: all)", key="exp_keys", placeholder="All recommendations"
    )
    with st.form("exp_form", border=True):
        owner = st.selectbox("Owner", [ALL, *owners], key="exp_owner")
        d1, d2 = st.columns(2)
        since = d1.date_input(
            "Effective since",
            value=None,
            key="exp_since",
            format="YYYY-MM-DD",
            min_value=EARLIEST,
            max_value=date.today(),
        )
        until = d2.date_input(
            "Effective until (inclusive)",
            value=None,
            key="exp_until",
            format="YYYY-MM-DD",
            min_value=EARLIEST,
            max_value=date.today(),
        )
        fmt = st.radio("Format", list(FORMATS), key="exp_format", format_func=lambda f: FORMATS[f][0])
        run = st.form_submit_button("Run export", type="primary", key="exp_run", icon=":material/download:")
    if run:
        _run_export(
            engine,
            user,
            Scope(keys=tuple(keys), owner=None if owner == ALL else owner, since=since, until=until),
            fmt,
        )
    result = st.session_state.get("exp_result")
    if result and Path(result["path"]).is_file():
        path = Path(result["path"])
        st.success(
            ui.say(
                "Exported {n:,} event(s) as {fmt} — {name} ({size:,} bytes). The export is itself event "
                "{seq} of the trail.",
                n=result["events"],
                fmt=result["fmt"],
                name=result["name"],
                size=path.stat().st_size,
                seq=result["export_seq"],
            ),
            icon=":material/task_alt:",
        )
        st.caption(
            f"File SHA-256 `{result['sha256']}` · chain head at export: event {result['head'][0]} "
            f"`{result['head'][1][:16]}…` · verify offline with `rectrack verify --bundle {result['name']} --key PUBKEY.pem` (the key from `rectrack key show`)"
            if result["fmt"] == "bundle"
            else f"File SHA-256 `{result['sha256']}` · chain head at export: event {result['head'][0]}"
        )
        for warning in result.get("warnings", []):
            st.warning(
                ui.say("{w}. No checkpoint was signed over this export.", w=warning),
                icon=":material/gpp_bad:",
            )
        st.download_button(
            ui.say("Download {name}", name=result["name"]),
            data=path.read_bytes(),
            file_name=result["name"],
            mime=FORMATS[result["fmt"]][2],
            key="exp_download",
            type="primary",
            icon=":material/download:",
        )


def _run_export(engine, user, scope: Scope, fmt: str) -> None:
    if scope.since and scope.until and scope.since > scope.until:
        st.error("“Effective since” is after “Effective until”: nothing was exported. Swap the dates.")
        return
    previous = st.session_state.pop("exp_result", None)
    if previous:  # one export file per session is kept on the server
        Path(previous["path"]).unlink(missing_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"rectrack-trail-{stamp}.{FORMATS[fmt][1]}"
    folder = Path(tempfile.mkdtemp(prefix="export-", dir=exports_dir()))
    try:
        with st.status(f"Exporting the trail as {fmt}…", expanded=False) as status:
            status.update(label="Recording the export in the trail, then writing the file…")
            result = export(engine, fmt=fmt, scope=scope, actor=user, out_path=folder / name)
            status.update(label=f"Exported {result.events:,} event(s)", state="complete")
    except DomainError as e:
        st.error(ui.refusal(e, "Nothing was exported: "))
        return
    data.invalidate()  # the export is an event of its own
    # signing out removes the file (dashboard.identity.sign_out)
    st.session_state[PREPARED_FILES] = [*st.session_state.get(PREPARED_FILES, []), str(result.path)]
    st.session_state["exp_result"] = {
        "path": str(result.path),
        "name": name,
        "fmt": fmt,
        "events": result.events,
        "head": result.head,
        "export_seq": result.export_seq,
        "sha256": _sha256(result.path),
        "warnings": list(result.warnings),
    }


# ------------------------------------------------------------------ verify a bundle


def _verify_form() -> None:
    st.markdown("**Verify a bundle**")
    st.caption(
        "Checks that this installation signed the manifest, every file's SHA-256, every event's hash and "
        "the chain linkage, regenerates the CSV, the records and the report from the events, hashes each "
        "evidence file against its event, and compares every event with this store's trail at the same "
        "position. Offline: `rectrack verify --bundle FILE.zip --key PUBKEY.pem`."
    )
    limit = get_settings().upload_limit_mb
    upload = st.file_uploader(
        f"Bundle (.zip, up to {get_settings().upload_limit_words}; larger ones: "
        "`rectrack verify --bundle FILE.zip`)",
        type=["zip"],
        key="exp_verify_file",
        max_upload_size=limit,
    )
    if st.button("Verify bundle", key="exp_verify", disabled=upload is None, icon=":material/verified:"):
        with tempfile.NamedTemporaryFile(dir=exports_dir(), suffix=".zip", prefix="verify-") as tmp:
            while chunk := upload.read(1024 * 1024):
                tmp.write(chunk)
            tmp.flush()
            with st.spinner("Verifying the bundle…"):
                report = data.fresh(verify_against_store, Path(tmp.name))
        st.session_state["exp_verdict"] = {
            "name": upload.name,
            "ok": report.ok,
            "problems": report.problems,
            "included": report.events_included,
            "chain": report.events_in_chain,
            "files": report.files_checked,
            "manifest": report.manifest,
            "regenerated": report.regenerated,
            "not_covered": report.not_covered,
            "evidence": report.evidence_checked,
            "live": report.live_events,
        }
    v = st.session_state.get("exp_verdict")
    if not v:
        return
    # the file name, the manifest and the problems (which name files inside the zip) come from the
    # uploaded bundle: anyone can write one that verifies, so all of it is shown as text
    m = v["manifest"] if isinstance(v["manifest"], dict) else {}
    head = m.get("chain_head") if isinstance(m.get("chain_head"), dict) else {}
    if v["ok"]:
        st.success(
            ui.say(
                "{name} verifies: signed by this installation; {included:,} event(s) included, placed "
                "in an unbroken chain of {chain:,}; {files:,} file(s) match the manifest; {regen} regenerated "
                "from the events byte for byte; {evidence:,} evidence file(s) hash to what their events "
                "recorded. It matches the live trail: all {live:,} event(s) are this store's at the same "
                "position, head included.",
                name=v["name"],
                included=v["included"],
                chain=v["chain"],
                files=v["files"],
                regen=", ".join(v["regenerated"]),
                evidence=v["evidence"],
                live=v["live"],
            ),
            icon=":material/verified:",
        )
        st.caption(
            ui.say(
                "Exported {at} UTC by {who}; scope {scope}; chain head event {seq}.",
                at=str(m.get("exported_at", "?"))[:19],
                who=str(m.get("exporter", "?")),
                scope=str(m.get("scope")),
                seq=str(head.get("seq")),
            )
        )
        if v["not_covered"]:
            st.caption(ui.say("Not covered by the check: {names}", names=", ".join(v["not_covered"])))
    else:
        st.error(
            ui.say("{name} does NOT verify ({n} problem(s)):", name=v["name"], n=len(v["problems"])),
            icon=":material/gpp_bad:",
        )
        for p in v["problems"][:50]:
            st.markdown("- " + ui.md_escape(p))
