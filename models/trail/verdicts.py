"""The store's verdict, kept per chain head, so the trail page reads one instead of verifying the
whole trail on each visit (28-30 s at 1,000,000 events and 5,000 files).

A verdict says: events 1..``seq`` form an unbroken chain ending in ``hash``, evidence files up to
id ``files_through`` match their SHA-256, and every record's version agreed with its newest event.
``rectrack verify`` and the page's "Verify everything now" store a *full* verdict. When the trail
has grown since, :func:`current` checks only what is new, from that checkpoint: the new events'
links and hashes starting from the stored head's hash, the files added since, and the versions of
the records the new events touched; the result is stored as the next checkpoint, and still names
when the last full verification ran (only a full one re-reads events already checked, so it is
what catches an old event edited in place). Each step also checks the signed checkpoints, and a
verified visit writes the day's checkpoint when there is none yet. The verdict lives beside the evidence files in the
data directory, which every server of one store shares, one file per store URL.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from models.store.settings import get_settings
from models.store.tables import AuditEvent
from models.trail.chain import ChainChecker, chain_head, iter_canonical_rows
from models.trail.checkpoints import check_checkpoints, ensure_daily
from models.trail.verify import (
    VerifyReport,
    file_problems,
    obstacle_version_problems,
    verify_store,
    version_problems,
)

PAGE_EVENT_LIMIT = 50_000  # new events a page checks by itself; more take `rectrack verify`


def verdict_path(data_dir: Path | None = None) -> Path:
    """One file per store URL: a data directory pointed at by two stores keeps a verdict for each."""
    settings = get_settings()
    name = hashlib.sha256(settings.url.encode()).hexdigest()[:16]
    return Path(data_dir or settings.data_dir) / "verdicts" / f"{name}.json"


def load_verdict(data_dir: Path | None = None) -> dict | None:
    try:
        return json.loads(verdict_path(data_dir).read_text())
    except (OSError, ValueError):
        return None


def save_verdict(verdict: dict, data_dir: Path | None = None) -> dict:
    path = verdict_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as fh:
        json.dump(verdict, fh)
    os.replace(fh.name, path)
    return verdict


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def full_verdict(session: Session, report: VerifyReport | None = None, *, by: str = "") -> dict:
    """Verify everything (or take ``report``, a full :func:`verify_store` run) and store the verdict."""
    report = report or verify_store(session)
    seq, hash_ = report.head or (0, "")
    now = _now()
    return save_verdict(
        {
            "seq": seq,
            "hash": hash_,
            "ok": report.ok,
            "events": report.events_checked,
            "files": report.files_checked,
            "files_through": report.files_through,
            "problems": report.lines()[:50],
            "full_at": now,
            "full_by": by,
            "checked_at": now,
            "new_events": 0,
            "checkpoints": report.checkpoints_checked,
        }
    )


def _extend(session: Session, v: dict, head: tuple[int, str]) -> dict:
    at = session.exec(select(AuditEvent.hash).where(AuditEvent.seq == v["seq"])).first() if v["seq"] else ""
    problems: list[str] = []
    if at is None or at != v["hash"]:
        problems.append(
            f"trail broken at event {v['seq']}: it was verified with hash {v['hash'][:16]}… and is now "
            + ("missing: events were removed from the end of the trail" if at is None else "different")
        )
    checker = ChainChecker()
    checker.expected_seq, checker.prev = v["seq"] + 1, v["hash"]
    if not problems:
        for rows in iter_canonical_rows(session, where=AuditEvent.seq > v["seq"]):
            if not checker.feed_rows(rows):
                break
        if checker.problem:
            problems.append(f"trail broken at {checker.problem}")
    bad_files, n_files, through = file_problems(session, after_id=v["files_through"])
    touched = session.exec(
        select(AuditEvent.record_key)
        .where(AuditEvent.seq > v["seq"], AuditEvent.record_type == "recommendation")
        .distinct()
    ).all()
    problems += bad_files + (version_problems(session, list(touched)) if touched else [])
    if checker.count:  # officers' obstacles are few: all of them, when anything was written
        problems += obstacle_version_problems(session)
    problems = check_checkpoints(session).problems + problems  # one query, however long the trail
    seq, hash_ = (checker.expected_seq - 1, checker.prev) if not problems else head
    return save_verdict(
        {
            **v,
            "seq": seq,
            "hash": hash_,
            "ok": not problems,
            "events": v["events"] + checker.count,
            "files": v["files"] + n_files,
            "files_through": through,
            "problems": problems[:50],
            "checked_at": _now(),
            "new_events": v.get("new_events", 0) + checker.count,
        }
    )


def current(session: Session, *, limit: int = PAGE_EVENT_LIMIT) -> dict:
    """The verdict for the store as it is now, with ``state``:

    - ``"verified"``: it covers the chain head (read, or brought up to date from the stored one);
    - ``"behind"``: more than ``limit`` events (or, with no stored verdict, a trail longer than
      ``limit``) wait for ``rectrack verify`` or the full check; the last verdict is given as is;
    - ``"failed"``: a stored or new verdict found a problem (kept until a full verification passes).
    """
    head = chain_head(session)
    v = load_verdict()
    if v is None:
        if head[0] > limit:
            return {"state": "behind", "head": head[0], "pending": head[0]}
        v = full_verdict(session, by="page")
    elif v["ok"] and (v["seq"], v["hash"]) != head:
        if head[0] - v["seq"] > limit:
            return {**v, "state": "behind", "head": head[0], "pending": head[0] - v["seq"]}
        v = _extend(session, v, head)
    if v["ok"]:  # only a head that verified is worth signing
        ensure_daily(session)
    return {**v, "state": "verified" if v["ok"] else "failed", "head": head[0], "pending": 0}
