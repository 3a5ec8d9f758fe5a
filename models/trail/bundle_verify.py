"""Verifying a bundle with no database: who signed it, and that every file follows from its events.

A manifest of hashes proves nothing by itself: anyone can edit a file and hash the manifest again,
or write a consistent three-event bundle from nothing. So, in order:

1. the zip is opened safely (:mod:`models.trail.bundle_zip`);
2. ``manifest.json`` must carry the installation key's signature (``manifest.sig``): checked against
   the key the auditor trusts (``--key``/``--fingerprint``, or the installation's own on the page);
   with no key given the verdict says plainly that authenticity was *not* checked;
3. every file must match the manifest, with nothing extra in the zip;
4. the events must form an unbroken chain up to the signed head;
5. ``events.csv``, ``recommendations.jsonl`` and ``report.html`` are regenerated from the events and
   the manifest (:mod:`models.trail.bundle_files`) and must be the same bytes;
6. each evidence file's content must hash to what an evidence event in the bundle recorded for it.

A file the verdict cannot tie to the events is listed as *not covered* rather than passed in silence.
:func:`verify_against_store` adds the live comparison the auditor's page makes: every event of the
bundle must be the store's event at the same seq, head included.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session, col, select

from models.store.tables import AuditEvent
from models.trail.bundle import EVIDENCE_ACTIONS, SIGNATURE_FORMAT, TRAIL_FILES
from models.trail.bundle_files import DERIVED, Derived, HashingSink
from models.trail.bundle_zip import BundleUnreadable, Limits, SafeZip
from models.trail.chain import GENESIS, HASHED_FIELDS, ChainChecker, ChainProblem
from models.trail.export_formats import BUNDLE_FORMAT, COLUMNS
from models.trail.keys import KeyFileError, fingerprint, load_public_pem, signature_holds

MANIFEST_FILES = ("manifest.json", "manifest.sha256", "manifest.sig")
Lookup = Callable[[list[int]], dict[int, str]]  # seqs -> the store's hashes at those seqs


@dataclass
class BundleReport:
    problems: list[str] = field(default_factory=list)
    events_included: int = 0
    events_in_chain: int = 0
    files_checked: int = 0
    evidence_checked: int = 0
    regenerated: list[str] = field(default_factory=list)  # files rebuilt from the events, same bytes
    not_covered: list[str] = field(default_factory=list)  # signed, but not tied to the events
    manifest: dict = field(default_factory=dict)
    signer: str | None = None  # fingerprint of the key whose signature holds
    authentic: bool = False  # the signer is the key the caller trusts
    live_events: int = 0  # events compared with the store (verify_against_store)

    @property
    def ok(self) -> bool:
        return not self.problems

    def authenticity(self) -> str:
        if self.authentic:
            return f"signed by the trusted installation key {self.signer}"
        if self.signer:
            return (
                f"authenticity NOT checked: signed by key {self.signer}, which was not compared with a key "
                "you trust; pass --key PUBKEY.pem or --fingerprint HEX (from rectrack key show on the server)"
            )
        return "authenticity NOT checked"


def verify_bundle(
    path: Path,
    *,
    trusted_key: Ed25519PublicKey | None = None,
    trusted_fingerprint: str | None = None,
    lookup: Lookup | None = None,
    limits: Limits | None = None,
) -> BundleReport:
    """Check the bundle at ``path``; every problem is a sentence in ``problems``, never an exception."""
    report = BundleReport()
    want = (
        fingerprint(trusted_key) if trusted_key is not None else (trusted_fingerprint or "").lower() or None
    )
    try:
        with SafeZip(path, limits) as z:
            _verify(z, report, want, lookup)
    except BundleUnreadable as e:
        report.problems.append(str(e))
    return report


def verify_against_store(session: Session, path: Path) -> BundleReport:
    """:func:`verify_bundle` as the installation's own page runs it: trusting only this
    installation's key, and with every event compared to the live chain at the same seq."""
    from models.trail.checkpoints import known_keys

    def lookup(seqs: list[int]) -> dict[int, str]:
        rows = session.exec(select(AuditEvent.seq, AuditEvent.hash).where(col(AuditEvent.seq).in_(seqs)))
        return dict(rows.all())

    keys = known_keys()
    report = verify_bundle(path, trusted_key=keys[0] if keys else None, lookup=lookup)
    if not keys and report.signer:
        report.problems.append("this installation has no signing key yet, so the bundle cannot be its own")
    return report


def _verify(z: SafeZip, report: BundleReport, want: str | None, lookup: Lookup | None) -> None:
    if "manifest.json" not in z.entries:
        report.problems.append("the zip has no manifest.json: it is not a bundle")
        return
    manifest_bytes = z.read_small("manifest.json")
    if "manifest.sha256" in z.entries:
        recorded = z.read_small("manifest.sha256").decode("utf-8", "replace").split()[0:1]
        if recorded != [hashlib.sha256(manifest_bytes).hexdigest()]:
            report.problems.append("manifest.json was altered: its SHA-256 does not match manifest.sha256")
            return
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError:
        report.problems.append("manifest.json is not valid JSON")
        return
    if (wrong := _manifest_shape(manifest)) is not None:
        report.problems.append(wrong)
        return
    report.manifest = manifest
    for said in manifest.get("store_contradicts_checkpoints") or []:
        report.problems.append(
            f"when exported, the store contradicted a checkpoint its installation had signed: {str(said)[:500]}"
        )
    _check_signature(z, manifest_bytes, want, report)
    contents = _check_files(z, manifest, report)
    if contents is None:
        return
    _check_events(z, manifest, contents, report, lookup)


def _manifest_shape(m) -> str | None:
    if not isinstance(m, dict):
        return "manifest.json is not a bundle manifest"
    if m.get("format") == "rectrack-bundle/1":
        return "the bundle was made before bundles were signed (rectrack-bundle/1): it cannot prove itself; export it again"
    if m.get("format") != BUNDLE_FORMAT:
        return f"unknown bundle format {str(m.get('format'))[:80]!r}"
    head, files = m.get("chain_head"), m.get("files")
    if not (
        isinstance(head, dict) and isinstance(head.get("seq"), int) and isinstance(head.get("hash"), str)
    ):
        return "manifest.json names no chain head (seq and hash)"
    if not isinstance(files, dict) or not all(
        isinstance(f, dict) and isinstance(f.get("sha256"), str) for f in files.values()
    ):
        return "manifest.json lists no files with their SHA-256"
    for name, kind in (
        ("events_included", int),
        ("scope", dict),
        ("exporter", str),
        ("exported_at", str),
        ("banner", str),
    ):
        if not isinstance(m.get(name), kind):
            return f"manifest.json has no {name!r} of the right kind"
    said = m.get("store_contradicts_checkpoints", [])
    if not isinstance(said, list) or not all(isinstance(x, str) for x in said):
        return "manifest.json's 'store_contradicts_checkpoints' is not a list of text"
    return None


def _check_signature(z: SafeZip, manifest_bytes: bytes, want: str | None, report: BundleReport) -> None:
    if "manifest.sig" not in z.entries:
        report.problems.append("the bundle carries no signature (manifest.sig): anyone could have written it")
        return
    try:
        sig = json.loads(z.read_small("manifest.sig"))
        claimed, signature = sig["key_fingerprint"], sig["signature"]
        public = load_public_pem(sig["public_key"].encode("ascii"))
        if (
            sig.get("format") != SIGNATURE_FORMAT
            or not isinstance(claimed, str)
            or not isinstance(signature, str)
        ):
            raise ValueError
        base64.b64decode(signature, validate=True)
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeEncodeError, KeyFileError):
        report.problems.append("manifest.sig is not a signature file (fields missing or malformed)")
        return
    if fingerprint(public) != claimed or not signature_holds(public, manifest_bytes, signature):
        report.problems.append(
            "manifest.json's signature does not verify: the manifest was changed after it was signed"
        )
        return
    report.signer = claimed
    if want is not None:
        if claimed != want:
            report.problems.append(
                f"the bundle is signed by key {claimed[:16]}…, not by the key you trust ({want[:16]}…): "
                "it was not exported by that installation"
            )
        else:
            report.authentic = True


def _check_files(z: SafeZip, manifest: dict, report: BundleReport) -> dict[str, str] | None:
    """SHA-256 of each listed file's content (None when a file does not match the manifest)."""
    listed: dict = manifest["files"]
    problems = [
        f"{n}: in the zip but not in the manifest"
        for n in sorted(set(z.entries) - set(listed) - set(MANIFEST_FILES))
    ]
    contents: dict[str, str] = {}
    for name, facts in sorted(listed.items()):
        if name not in z.entries:
            problems.append(f"{name}: listed in the manifest but missing from the zip")
            continue
        digest = hashlib.sha256()
        for chunk in z.chunks(name):
            digest.update(chunk)
        report.files_checked += 1
        contents[name] = digest.hexdigest()
        if contents[name] != facts["sha256"]:
            problems.append(f"{name}: altered (its SHA-256 does not match the manifest)")
    for name in TRAIL_FILES:
        if name not in listed:
            problems.append(f"{name}: the manifest does not list it")
    report.problems += problems
    return None if problems else contents


def _jsonl(z: SafeZip, name: str, fields: tuple[str, ...]) -> Iterator[dict]:
    for n, line in z.lines(name):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except ValueError:
            raise BundleUnreadable(f"{name} line {n} is not valid JSON") from None
        if not isinstance(d, dict) or (missing := [f for f in fields if f not in d]):
            raise BundleUnreadable(
                f"{name} line {n} is not an event (it has no {missing[0] if isinstance(d, dict) else 'fields'!r})"
            )
        if not isinstance(d["seq"], int) or not isinstance(d.get("hash"), str):
            raise BundleUnreadable(f"{name} line {n}: its seq or hash is not of the right kind")
        yield d


class _Live:
    """Compares the bundle's (seq, hash) pairs with the store's, a batch at a time."""

    def __init__(self, lookup: Lookup, report: BundleReport) -> None:
        self.lookup, self.report, self.bad = lookup, report, 0
        self.batch: list[tuple[int, str]] = []

    def add(self, seq: int, hash_: str) -> None:
        self.batch.append((seq, hash_))
        if len(self.batch) >= 2000:
            self.flush()

    def flush(self) -> None:
        stored = self.lookup([s for s, _ in self.batch]) if self.batch else {}
        for seq, hash_ in self.batch:
            self.report.live_events += 1
            if stored.get(seq) != hash_:
                self.bad += 1
                if self.bad <= 20:
                    self.report.problems.append(
                        f"event {seq} of the bundle is not in the live store"
                        if seq not in stored
                        else f"event {seq} of the bundle differs from the live store's event {seq}"
                    )
        self.batch = []


def _check_events(
    z: SafeZip, manifest: dict, contents: dict[str, str], report: BundleReport, lookup: Lookup | None
) -> None:
    checker, anchored = ChainChecker(), set()
    csv_sink = HashingSink()
    derived = Derived(cast(IO[str], csv_sink))  # a write-only text stream is all Derived uses
    derive_problem: str | None = None
    live = _Live(lookup, report) if lookup else None
    included = _jsonl(z, "events.jsonl", COLUMNS)
    excluded = _jsonl(z, "chain.jsonl", ("seq", "prev_hash", "hash"))
    inc, exc = next(included, None), next(excluded, None)
    last_hash = GENESIS
    while inc is not None or exc is not None:
        if exc is None or (inc is not None and inc["seq"] < exc["seq"]):
            assert inc is not None
            if not checker.feed(tuple(inc[f] for f in HASHED_FIELDS), inc["hash"]):
                break
            report.events_included += 1
            if derive_problem is None:
                try:
                    derived.add(inc)
                except (ValueError, TypeError, KeyError, AttributeError) as e:
                    derive_problem = f"event {inc['seq']} ({type(e).__name__})"
            if inc["record_type"] == "evidence" and inc["action"] in EVIDENCE_ACTIONS:
                anchored |= _recorded_files(inc)
            last_hash, current = inc["hash"], inc
            inc = next(included, None)
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
            last_hash, current = exc["hash"], exc
            exc = next(excluded, None)
        if live is not None:
            live.add(current["seq"], current["hash"])
    if checker.problem:
        report.problems.append(f"events: {checker.problem}")
        return
    if live is not None:
        live.flush()
        if live.bad > 20:
            report.problems.append(f"... and {live.bad - 20:,} more events that differ from the live store")
    report.events_in_chain = checker.expected_seq - 1
    head = manifest["chain_head"]
    if report.events_in_chain != head["seq"] or last_hash != head["hash"]:
        report.problems.append(
            f"the chain ends at event {report.events_in_chain} ({last_hash[:16]}…), "
            f"not at the head the manifest names (event {head['seq']})"
        )
    if report.events_included != manifest["events_included"]:
        report.problems.append(
            f"events.jsonl holds {report.events_included} events; the manifest says {manifest['events_included']}"
        )
    _check_derived(derived, derive_problem, csv_sink, manifest, contents, report)
    _check_evidence(manifest, contents, anchored, report)


def _recorded_files(event: dict) -> set[tuple[str, str]]:
    try:
        after = json.loads(event["after"]) if event["after"] else {}
        return {(f["sha256"], f["name"]) for f in after.get("files", [])}
    except (ValueError, TypeError, KeyError, AttributeError):
        return set()


def _check_derived(
    derived: Derived, problem: str | None, csv_sink: HashingSink, manifest, contents, report
) -> None:
    if problem is not None:
        for name in DERIVED:
            report.problems.append(f"{name}: cannot be regenerated from events.jsonl (stopped at {problem})")
        return
    sinks = {"events.csv": csv_sink, "recommendations.jsonl": HashingSink(), "report.html": HashingSink()}
    try:
        derived.write_recommendations(cast(IO[str], sinks["recommendations.jsonl"]))
        derived.write_report(cast(IO[str], sinks["report.html"]), manifest)
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        report.problems.append(f"report.html: cannot be regenerated from the events ({type(e).__name__})")
        return
    for name, sink in sinks.items():
        if sink.hexdigest() != contents[name]:
            report.problems.append(
                f"{name}: differs from the file its events regenerate: it was edited after export"
            )
        else:
            report.regenerated.append(name)


def _check_evidence(manifest: dict, contents: dict[str, str], anchored: set, report: BundleReport) -> None:
    for name in sorted(manifest["files"]):
        if name in TRAIL_FILES:
            continue
        parts = name.split("/", 2)
        if len(parts) != 3 or parts[0] != "evidence":
            report.not_covered.append(name)
            continue
        _, recorded_sha, filename = parts
        if contents[name] != recorded_sha:
            report.problems.append(
                f"{name}: its content does not hash to the SHA-256 its evidence event recorded: it was replaced"
            )
        elif (recorded_sha, filename) not in anchored:
            report.problems.append(f"{name}: not recorded by any evidence event in the bundle")
        else:
            report.evidence_checked += 1
