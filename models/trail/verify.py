"""Checking a live store: the hash chain, every evidence file, and that rows agree with the trail.

The chain alone cannot notice its newest events being cut off, so each recommendation's
current version is also compared with the version its latest event recorded.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from models.store.settings import get_settings
from models.store.tables import AuditEvent, EvidenceFile, Recommendation
from models.trail.chain import ChainChecker, ChainProblem, iter_canonical_rows


@dataclass
class VerifyReport:
    events_checked: int = 0
    files_checked: int = 0
    chain_problem: ChainProblem | None = None
    file_problems: list[str] = field(default_factory=list)
    store_problems: list[str] = field(default_factory=list)
    head: tuple[int, str] | None = None

    @property
    def ok(self) -> bool:
        return self.chain_problem is None and not self.file_problems and not self.store_problems

    def lines(self) -> list[str]:
        out = []
        if self.chain_problem:
            out.append(f"trail broken at {self.chain_problem}")
        out += self.file_problems + self.store_problems
        return out

    def summary(self) -> str:
        if self.ok:
            head = f"; head is event {self.head[0]} {self.head[1][:16]}…" if self.head else ""
            return f"verified: {self.events_checked:,} events in an unbroken chain and {self.files_checked:,} evidence files{head}"
        return "; ".join(self.lines())


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def verify_store(session: Session, *, check_files: bool = True) -> VerifyReport:
    report = VerifyReport()
    checker = ChainChecker()
    for rows in iter_canonical_rows(session):
        if not checker.feed_rows(rows):
            break
    last = (checker.expected_seq - 1, checker.prev) if checker.count else None
    report.events_checked, report.chain_problem, report.head = checker.count, checker.problem, last

    if check_files:
        root = get_settings().data_dir
        for f in session.exec(select(EvidenceFile).order_by(EvidenceFile.id)).all():
            report.files_checked += 1
            path = root / f.stored_path
            if not path.is_file():
                report.file_problems.append(
                    f"evidence file {f.filename!r} ({f.sha256[:12]}…) is missing from {path}"
                )
            elif _file_sha256(path) != f.sha256:
                report.file_problems.append(
                    f"evidence file {f.filename!r} was altered: its SHA-256 no longer matches"
                )

    # newest event per recommendation must record the row's current version
    latest = (
        select(AuditEvent.record_key, func.max(AuditEvent.seq).label("seq"))
        .where(AuditEvent.record_type == "recommendation")
        .group_by(AuditEvent.record_key)
        .subquery()
    )
    rows = session.exec(
        select(Recommendation.key, Recommendation.version, AuditEvent.after)
        .join(latest, latest.c.record_key == Recommendation.key, isouter=True)
        .join(AuditEvent, AuditEvent.seq == latest.c.seq, isouter=True)
    ).all()
    for key, version, after in rows:
        recorded = json.loads(after).get("version") if after else None
        if recorded != version:
            report.store_problems.append(
                f"recommendation {key!r} is at version {version} but its latest event records version {recorded}: "
                "events are missing from the end of its history, or the row was changed outside the app"
            )
            if len(report.store_problems) >= 20:
                break
    _check_obstacle_versions(session, report)
    return report


def _check_obstacle_versions(session: Session, report: VerifyReport) -> None:
    """Officers' obstacles are versioned like records: the newest event must record the row's version."""
    from models.store.tables import Obstacle

    latest = (
        select(AuditEvent.record_key, func.max(AuditEvent.seq).label("seq"))
        .where(AuditEvent.record_type == "obstacle")
        .group_by(AuditEvent.record_key)
        .subquery()
    )
    rows = session.exec(
        select(Obstacle.key, Obstacle.version, AuditEvent.after)
        .where(Obstacle.origin == "user")
        .join(latest, latest.c.record_key == Obstacle.key, isouter=True)
        .join(AuditEvent, AuditEvent.seq == latest.c.seq, isouter=True)
    ).all()
    for key, version, after in rows:
        recorded = json.loads(after).get("version") if after else None
        if recorded != version:
            report.store_problems.append(
                f"obstacle {key!r} is at version {version} but its latest event records version {recorded}: "
                "its events are missing, or the row was changed outside the app"
            )
