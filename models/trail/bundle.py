"""The zip bundle: writing it (events, the left-out events' hashes, recommendations, report,
evidence files, a manifest of hashes) and verifying it offline, with no database."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from models.store.settings import get_settings
from models.store.tables import AuditEvent, EvidenceFile, EvidenceItem, Recommendation, utcnow
from models.trail.chain import (
    GENESIS,
    HASHED_FIELDS,
    ChainChecker,
    ChainProblem,
    iso,
    iter_canonical_rows,
)
from models.trail.export_formats import (
    _JSON_LINE,
    BUNDLE_FORMAT,
    COLUMNS,
    CsvOut,
    Scope,
    _flatten,
    _in_scope_seqs,
    _render_report,
    _ReportEvents,
)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _write_bundle(
    session: Session, target: Path, *, scope: Scope, exporter: str, head: tuple[int, str]
) -> int:
    work = Path(tempfile.mkdtemp(prefix="rectrack-bundle-"))
    try:
        included = 0
        evidence_keys: set[str] = set()
        report_events = _ReportEvents()
        with (
            (work / "events.jsonl").open("w", encoding="utf-8") as jl,
            (work / "events.csv").open("w", encoding="utf-8", newline="") as cf,
            (work / "chain.jsonl").open("w", encoding="utf-8") as ch,
        ):
            w = CsvOut(cf)
            in_scope = _in_scope_seqs(session, scope, head[0]) if not scope.whole else None
            nxt = next(in_scope, None) if in_scope is not None else None
            for row in _flatten(iter_canonical_rows(session, where=AuditEvent.seq <= head[0])):
                take = scope.whole or (nxt is not None and nxt[0] == row[0])
                if take:
                    if not scope.whole:
                        nxt = next(in_scope, None)
                    d = dict(zip(COLUMNS, row))
                    if d["record_type"] == "evidence" and d["action"] in (
                        "evidence_add",
                        "evidence_supersede",
                    ):
                        evidence_keys.add(d["record_key"])
                    jl.write(_JSON_LINE(d))
                    jl.write("\n")
                    w.row(row)
                    report_events.add(d)  # the HTML report is built in this same pass
                    included += 1
                else:
                    ch.write(
                        json.dumps(
                            {"seq": row[0], "prev_hash": row[-2], "hash": row[-1]}, separators=(",", ":")
                        )
                        + "\n"
                    )
        rec_q = select(Recommendation)
        if scope.rec_filter() is not None:
            rec_q = rec_q.where(scope.rec_filter())
        with (work / "recommendations.jsonl").open("w", encoding="utf-8") as fh:
            for rec in session.exec(rec_q.order_by(Recommendation.key).execution_options(yield_per=2000)):
                fh.write(rec.model_dump_json(exclude={"id", "parent_id"}) + "\n")
        with (work / "report.html").open("w", encoding="utf-8") as fh:
            _render_report(session, report_events, fh, scope=scope, exporter=exporter, head=head)
        root = get_settings().data_dir
        evidence_names: dict[str, Path] = {}
        keys = sorted(evidence_keys)
        for i in range(0, len(keys), 500):  # files of the evidence whose events the bundle carries
            q = (
                select(EvidenceFile)
                .join(EvidenceItem, EvidenceItem.id == EvidenceFile.evidence_id)
                .where(EvidenceItem.key.in_(keys[i : i + 500]))
            )
            for f in session.exec(q).all():
                src = root / f.stored_path
                if src.is_file():
                    evidence_names[f"evidence/{f.sha256}/{f.filename}"] = src
        manifest = {
            "format": BUNDLE_FORMAT,
            "exported_at": iso(utcnow()),
            "exporter": exporter,
            "scope": scope.describe(),
            "chain_head": {"seq": head[0], "hash": head[1]},
            "events_included": included,
            "files": {},
        }
        for name in ("events.jsonl", "events.csv", "chain.jsonl", "recommendations.jsonl", "report.html"):
            p = work / name
            manifest["files"][name] = {"sha256": _sha256_file(p), "bytes": p.stat().st_size}
        for name, src in sorted(evidence_names.items()):
            manifest["files"][name] = {"sha256": _sha256_file(src), "bytes": src.stat().st_size}
        manifest_bytes = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
        # level 1: a million-event trail is ~1 GB of text; the default level 6 took longer than
        # everything else in the export together, for a file only slightly smaller
        with zipfile.ZipFile(
            target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=1
        ) as zf:
            zf.writestr("manifest.json", manifest_bytes)
            zf.writestr("manifest.sha256", f"{hashlib.sha256(manifest_bytes).hexdigest()}  manifest.json\n")
            for name in ("events.jsonl", "events.csv", "chain.jsonl", "recommendations.jsonl", "report.html"):
                zf.write(work / name, name)
            for name, src in sorted(evidence_names.items()):
                zf.write(src, name)
        return included
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class BundleReport:
    problems: list[str] = field(default_factory=list)
    events_included: int = 0
    events_in_chain: int = 0
    files_checked: int = 0
    manifest: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _jsonl(zf: zipfile.ZipFile, name: str) -> Iterator[dict]:
    with zf.open(name) as raw:
        for line in io.TextIOWrapper(raw, encoding="utf-8"):
            if line.strip():
                yield json.loads(line)


def verify_bundle(path: Path) -> BundleReport:
    """Check a bundle with no database: manifest, file hashes, event hashes, chain linkage."""
    report = BundleReport()
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        report.problems.append(f"{path}: not a readable zip file ({e})")
        return report
    with zf:
        names = set(zf.namelist())
        if not {"manifest.json", "manifest.sha256"} <= names:
            report.problems.append("the bundle has no manifest.json / manifest.sha256")
            return report
        manifest_bytes = zf.read("manifest.json")
        recorded = zf.read("manifest.sha256").decode("utf-8", "replace").split()[0:1]
        if recorded != [hashlib.sha256(manifest_bytes).hexdigest()]:
            report.problems.append("manifest.json was altered: its SHA-256 does not match manifest.sha256")
            return report
        try:
            manifest = json.loads(manifest_bytes)
        except ValueError:
            report.problems.append("manifest.json is not valid JSON")
            return report
        report.manifest = manifest
        if manifest.get("format") != BUNDLE_FORMAT:
            report.problems.append(f"unknown bundle format {manifest.get('format')!r}")
            return report
        listed = manifest.get("files", {})
        for name in sorted(names - set(listed) - {"manifest.json", "manifest.sha256"}):
            report.problems.append(f"{name}: in the zip but not in the manifest")
        for name, facts in sorted(listed.items()):
            if name not in names:
                report.problems.append(f"{name}: listed in the manifest but missing from the zip")
                continue
            digest = hashlib.sha256()
            try:
                with zf.open(name) as fh:
                    while chunk := fh.read(1024 * 1024):
                        digest.update(chunk)
            except (
                zipfile.BadZipFile,
                OSError,
                EOFError,
            ) as e:  # a flipped byte can break the zip entry itself
                report.problems.append(f"{name}: cannot be read ({e})")
                continue
            report.files_checked += 1
            if digest.hexdigest() != facts.get("sha256"):
                report.problems.append(f"{name}: altered (its SHA-256 does not match the manifest)")
        if report.problems:
            return report
        _verify_bundle_chain(zf, manifest, report)
    return report


def _verify_bundle_chain(zf: zipfile.ZipFile, manifest: dict, report: BundleReport) -> None:
    checker = ChainChecker()
    anchored: set[str] = set()
    included = _jsonl(zf, "events.jsonl")
    excluded = _jsonl(zf, "chain.jsonl")
    inc, exc = next(included, None), next(excluded, None)
    last_hash = GENESIS
    while inc is not None or exc is not None:
        if exc is None or (inc is not None and inc["seq"] < exc["seq"]):
            values = tuple(inc.get(f) for f in HASHED_FIELDS)
            if not checker.feed(values, inc.get("hash")):
                break
            report.events_included += 1
            if inc.get("record_type") == "evidence" and inc.get("after"):
                for f in json.loads(inc["after"]).get("files", []):
                    anchored.add(f.get("sha256"))
            last_hash, inc = inc.get("hash"), next(included, None)
        else:
            if exc["seq"] != checker.expected_seq or exc["prev_hash"] != checker.prev:
                checker.problem = ChainProblem(
                    exc["seq"],
                    "inserted" if exc["seq"] == checker.expected_seq else "deleted",
                    "a left-out event does not link into the chain",
                )
                break
            checker.prev_prev, checker.prev = checker.prev, exc["hash"]
            checker.expected_seq += 1
            checker.count += 1
            last_hash, exc = exc["hash"], next(excluded, None)
    if checker.problem:
        report.problems.append(f"events: {checker.problem}")
        return
    report.events_in_chain = checker.expected_seq - 1
    head = manifest.get("chain_head", {})
    if report.events_in_chain != head.get("seq") or last_hash != head.get("hash"):
        report.problems.append(
            f"the chain ends at event {report.events_in_chain} ({last_hash[:16]}…), "
            f"not at the head the manifest names (event {head.get('seq')})"
        )
    if report.events_included != manifest.get("events_included"):
        report.problems.append(
            f"events.jsonl holds {report.events_included} events; the manifest says "
            f"{manifest.get('events_included')}"
        )
    for name in manifest.get("files", {}):
        if name.startswith("evidence/") and name.split("/")[1] not in anchored:
            report.problems.append(f"{name}: not recorded by any evidence event in the bundle")
