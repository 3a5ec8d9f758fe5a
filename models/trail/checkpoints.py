"""Signed checkpoints: the chain head as it stood, signed with the installation key.

The hash chain catches an event edited in place, but an insider who rewrites an event and
recomputes every later hash, renumbers the trail after deleting from its middle, or cuts off its
newest events leaves a chain that is whole again. A checkpoint (as Certificate Transparency signs
its tree heads) records ``(seq, head hash, time, key fingerprint)`` signed with a key the database
does not hold; ``verify`` then requires, for every checkpoint it has, that event ``seq`` still
exists and still has the signed hash. None of the three rewrites can keep that without the key.

Checkpoints are JSON files under ``<data dir>/checkpoints/`` (and wherever an auditor keeps copies:
``rectrack verify --checkpoints DIR``). One is written on every export (signing the export's own
event), by ``rectrack checkpoint`` (for cron), and on the first verified visit to the Evidence
trail page on a day without one (:func:`ensure_daily`), so there is at least one a day while anyone
looks. A data directory serves one store: every checkpoint in it is checked against that store.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session, col, select

from models.store.errors import DomainError
from models.store.settings import get_settings
from models.store.tables import AuditEvent
from models.trail.chain import chain_head
from models.trail.keys import (
    KeyFileError,
    fingerprint,
    installation_key,
    installation_public,
    sign,
    signature_holds,
)

FORMAT = "rectrack-checkpoint/1"
MAX_FILE_BYTES = 64 * 1024  # a checkpoint is a few hundred bytes; anything bigger is not one


def signed_bytes(body: dict) -> bytes:
    """What the signature covers: the body as canonical JSON (sorted keys, no spaces)."""
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass
class Written:
    path: Path
    seq: int
    head_hash: str
    fingerprint: str


class TrailContradicted(DomainError):
    """The chain no longer holds what earlier checkpoints signed, so a new one is not signed: it
    would vouch for the rewritten trail."""

    def __init__(self, contradictions: list[str]):
        more = f" (and {len(contradictions) - 1} more)" if len(contradictions) > 1 else ""
        super().__init__(
            f"no checkpoint signed: the trail contradicts its signed checkpoints: {contradictions[0]}{more}; "
            "run rectrack verify"
        )
        self.contradictions = contradictions


def write_checkpoint(
    session: Session, *, why: str, head: tuple[int, str] | None = None, directory: Path | None = None
) -> Written | None:
    """Sign ``head`` (default: the chain head now) and write it as a file; None for an empty trail.

    Refused (:class:`TrailContradicted`) while the store contradicts a checkpoint already signed:
    after a cut-off tail or a rewrite, signing the new head would let the rewritten trail verify
    against a checkpoint of its own."""
    seq, head_hash = head or chain_head(session)
    if seq == 0:
        return None
    if contradictions := check_checkpoints(session).contradictions:
        raise TrailContradicted(contradictions)
    key = installation_key()
    now = datetime.now(UTC)
    body = {
        "format": FORMAT,
        "seq": seq,
        "head_hash": head_hash,
        "time": now.isoformat(timespec="seconds"),
        "key_fingerprint": fingerprint(key.public_key()),
        "why": why,
    }
    signature, fp = sign(signed_bytes(body), key)
    folder = Path(directory or get_settings().checkpoint_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{now:%Y%m%dT%H%M%S%fZ}-{seq:09d}.json"
    with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as fh:
        json.dump({"checkpoint": body, "signature": signature}, fh, indent=1)
    os.replace(fh.name, path)
    return Written(path, seq, head_hash, fp)


def ensure_daily(session: Session) -> Written | None:
    """A checkpoint of the head unless one was already written today (UTC)."""
    folder = get_settings().checkpoint_dir
    today = f"{datetime.now(UTC):%Y%m%d}T"
    if folder.is_dir() and any(p.name.startswith(today) for p in folder.glob("*.json")):
        return None
    try:
        return write_checkpoint(session, why="daily")
    except (
        KeyFileError,
        TrailContradicted,
    ):  # the verdict names both (check_checkpoints); a page must not fail
        return None


@dataclass
class CheckpointCheck:
    checked: int = 0  # checkpoints whose signature held and whose event was found as signed
    newest: int = 0  # the highest seq a valid checkpoint covers
    problems: list[str] = field(default_factory=list)
    # the problems that say the chain changed under a valid checkpoint (not a bad or foreign file)
    contradictions: list[str] = field(default_factory=list)


def _read(path: Path) -> tuple[dict | None, str | None]:
    """(parsed file, None) or (None, what is wrong with it)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None, "is too large to be a checkpoint"
        doc = json.loads(path.read_bytes())
    except OSError as e:
        return None, f"cannot be read ({e.strerror or e})"
    except ValueError:
        return None, "is not valid JSON"
    body = doc.get("checkpoint") if isinstance(doc, dict) else None
    if (
        not isinstance(body, dict)
        or body.get("format") != FORMAT
        or not isinstance(body.get("seq"), int)
        or not isinstance(body.get("head_hash"), str)
        or not isinstance(body.get("key_fingerprint"), str)
        or not isinstance(doc.get("signature"), str)
    ):
        return None, f"is not a {FORMAT} file (fields missing or of the wrong kind)"
    return doc, None


def known_keys() -> list[Ed25519PublicKey]:
    """This installation's public key, if it has one (verifying never creates a key)."""
    return [installation_public()] if get_settings().key_path.exists() else []


def check_checkpoints(
    session: Session,
    *,
    directories: list[Path] | None = None,
    trusted: list[Ed25519PublicKey] | None = None,
) -> CheckpointCheck:
    """Check the store's chain against every checkpoint file in ``directories`` (default: the data
    dir's), trusting the signatures of ``trusted`` keys (default: the installation key)."""
    result = CheckpointCheck()
    try:
        keys = {fingerprint(k): k for k in (known_keys() if trusted is None else trusted)}
    except KeyFileError as e:  # named, and every checkpoint then counts as signed by an unknown key
        result.problems.append(str(e))
        keys = {}
    folders = directories if directories is not None else [get_settings().checkpoint_dir]
    valid: list[tuple[str, dict]] = []
    for folder in folders:
        for path in sorted(Path(folder).glob("*.json")) if Path(folder).is_dir() else []:
            doc, wrong = _read(path)
            if doc is None:
                result.problems.append(f"checkpoint {path.name} {wrong}")
                continue
            body = doc["checkpoint"]
            public = keys.get(body["key_fingerprint"])
            if public is None:
                result.problems.append(
                    f"checkpoint {path.name} is signed by an unknown key {body['key_fingerprint'][:16]}…, "
                    "not by this installation's key: it proves nothing about this store"
                )
            elif body["key_fingerprint"] != fingerprint(public) or not signature_holds(
                public, signed_bytes(body), doc["signature"]
            ):
                result.problems.append(
                    f"checkpoint {path.name} has a bad signature: the file was forged or altered after signing"
                )
            else:
                valid.append((path.name, body))
    seqs = sorted({body["seq"] for _, body in valid})
    stored: dict[int, str] = {}
    for i in range(0, len(seqs), 500):
        chunk = seqs[i : i + 500]
        stored.update(
            session.exec(select(AuditEvent.seq, AuditEvent.hash).where(col(AuditEvent.seq).in_(chunk))).all()
        )
    for name, body in valid:
        seq, signed = body["seq"], body["head_hash"]
        said = f"checkpoint {name} (event {seq}, signed {str(body.get('time', '?'))[:19]})"
        if seq not in stored:
            result.contradictions.append(
                f"{said}: event {seq} is missing from the store: events were deleted from the end of "
                "the trail, or deleted and the rest renumbered"
            )
        elif stored[seq] != signed:
            result.contradictions.append(
                f"{said}: event {seq} has hash {stored[seq][:16]}… but the checkpoint signed {signed[:16]}…: "
                f"the trail was rewritten at or before event {seq} and its hashes recomputed"
            )
        else:
            result.checked += 1
            result.newest = max(result.newest, seq)
    result.problems.extend(result.contradictions)
    return result
