"""Writing the zip bundle: events, the left-out events' hashes, the files that follow from the
events (:mod:`models.trail.bundle_files`), evidence files, and a manifest of hashes signed with the
installation key. Verifying one offline is :mod:`models.trail.bundle_verify`."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from models.store.settings import get_settings
from models.store.tables import AuditEvent, EvidenceFile, EvidenceItem, utcnow
from models.trail.bundle_files import DERIVED, Derived
from models.trail.chain import iso, iter_canonical_rows
from models.trail.export_formats import (
    _JSON_LINE,
    BUNDLE_FORMAT,
    COLUMNS,
    Scope,
    _flatten,
    _in_scope_seqs,
)
from models.trail.keys import installation_key, public_pem, sign

SIGNATURE_FORMAT = "rectrack-signature/1"
TRAIL_FILES = ("events.jsonl", "events.csv", "chain.jsonl", "recommendations.jsonl", "report.html")
EVIDENCE_ACTIONS = ("evidence_add", "evidence_supersede")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _write_bundle(
    session: Session,
    target: Path,
    *,
    scope: Scope,
    exporter: str,
    head: tuple[int, str],
    contradictions: list[str] | None = None,
) -> int:
    work = Path(tempfile.mkdtemp(prefix="rectrack-bundle-"))
    try:
        included = 0
        evidence_keys: set[str] = set()
        with (
            (work / "events.jsonl").open("w", encoding="utf-8", newline="") as jl,
            (work / "chain.jsonl").open("w", encoding="utf-8", newline="") as ch,
        ):
            in_scope = _in_scope_seqs(session, scope, head[0]) if not scope.whole else None
            nxt = next(in_scope, None) if in_scope is not None else None
            for row in _flatten(iter_canonical_rows(session, where=AuditEvent.seq <= head[0])):
                take = scope.whole or (nxt is not None and nxt[0] == row[0])
                if take:
                    if in_scope is not None:  # (None exactly when the scope is whole)
                        nxt = next(in_scope, None)
                    d = dict(zip(COLUMNS, row))
                    if d["record_type"] == "evidence" and d["action"] in EVIDENCE_ACTIONS:
                        evidence_keys.add(d["record_key"])
                    jl.write(_JSON_LINE(d))
                    jl.write("\n")
                    included += 1
                else:
                    ch.write(
                        json.dumps(
                            {"seq": row[0], "prev_hash": row[-2], "hash": row[-1]}, separators=(",", ":")
                        )
                        + "\n"
                    )
        manifest: dict[str, Any] = {
            "format": BUNDLE_FORMAT,
            "exported_at": iso(utcnow()),
            "exporter": exporter,
            "scope": scope.describe(),
            "chain_head": {"seq": head[0], "hash": head[1]},
            "events_included": included,
            "banner": get_settings().banner,
            "derived": list(DERIVED),
            "files": {},
        }
        if contradictions:  # signed with the rest, so a verifier cannot be shown a clean bundle
            manifest["store_contradicts_checkpoints"] = list(contradictions)
        # the files that follow from the events are written by reading events.jsonl back, through
        # the same code a verifier uses to regenerate them (models.trail.bundle_files)
        with (work / "events.csv").open("w", encoding="utf-8", newline="") as cf:
            derived = Derived(cf)
            with (work / "events.jsonl").open(encoding="utf-8") as jl:
                for line in jl:
                    derived.add(json.loads(line))
        with (work / "recommendations.jsonl").open("w", encoding="utf-8", newline="") as fh:
            derived.write_recommendations(fh)
        with (work / "report.html").open("w", encoding="utf-8", newline="") as fh:
            derived.write_report(fh, manifest)
        root = get_settings().data_dir
        evidence_names: dict[str, Path] = {}
        keys = sorted(evidence_keys)
        for i in range(0, len(keys), 500):  # files of the evidence whose events the bundle carries
            q = (
                select(EvidenceFile)
                .join(EvidenceItem, col(EvidenceItem.id) == EvidenceFile.evidence_id)
                .where(col(EvidenceItem.key).in_(keys[i : i + 500]))
            )
            for f in session.exec(q).all():
                src = root / f.stored_path
                if src.is_file():
                    evidence_names[f"evidence/{f.sha256}/{f.filename}"] = src
        for name in TRAIL_FILES:
            p = work / name
            manifest["files"][name] = {"sha256": _sha256_file(p), "bytes": p.stat().st_size}
        for name, src in sorted(evidence_names.items()):
            manifest["files"][name] = {"sha256": _sha256_file(src), "bytes": src.stat().st_size}
        manifest_bytes = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
        key = installation_key()
        signature, fp = sign(manifest_bytes, key)
        sig = {
            "format": SIGNATURE_FORMAT,
            "key_fingerprint": fp,
            "public_key": public_pem(key.public_key()),
            "signature": signature,
        }
        # level 1: a million-event trail is ~1 GB of text; the default level 6 took longer than
        # everything else in the export together, for a file only slightly smaller
        with zipfile.ZipFile(
            target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=1
        ) as zf:
            zf.writestr("manifest.json", manifest_bytes)
            zf.writestr("manifest.sha256", f"{hashlib.sha256(manifest_bytes).hexdigest()}  manifest.json\n")
            zf.writestr("manifest.sig", json.dumps(sig, indent=1))
            for name in TRAIL_FILES:
                zf.write(work / name, name)
            for name, src in sorted(evidence_names.items()):
                zf.write(src, name)
        return included
    finally:
        shutil.rmtree(work, ignore_errors=True)
