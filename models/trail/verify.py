"""Checking a live store: the hash chain, every evidence file, and that rows agree with the trail.

The chain alone proves only that the events were not edited: a row changed by hand, or the newest
events cut off with the rows set back, leaves it whole. So the same streaming pass that checks the
chain also replays the events (:mod:`models.trail.replay`) and every current row is compared with
the state the trail implies (:mod:`models.trail.state_checks`). The stored verdict's incremental
step (:mod:`models.trail.verdicts`) still uses the cheaper version checks below for new events.
Neither can see a trail rewritten with every later hash recomputed, or cut off with the rows set
back to match: the signed checkpoints (:mod:`models.trail.checkpoints`) can, and are checked too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.store.settings import get_settings
from models.store.tables import AuditEvent, EvidenceFile, Recommendation
from models.trail.chain import ChainChecker, ChainProblem, iter_canonical_rows
from models.trail.checkpoints import check_checkpoints
from models.trail.replay import Replayer
from models.trail.state_checks import compare_state


@dataclass
class VerifyReport:
    events_checked: int = 0
    files_checked: int = 0
    chain_problem: ChainProblem | None = None
    file_problems: list[str] = field(default_factory=list)
    store_problems: list[str] = field(default_factory=list)
    store_problem_count: int = 0  # differences found; store_problems names the first of them
    head: tuple[int, str] | None = None
    files_through: int = 0  # the highest evidence file id checked
    checkpoint_problems: list[str] = field(default_factory=list)
    checkpoints_checked: int = 0
    checkpoint_newest: int = 0  # the newest event a valid checkpoint vouches for

    @property
    def ok(self) -> bool:
        return (
            self.chain_problem is None
            and not self.file_problems
            and not self.store_problems
            and not self.checkpoint_problems
        )

    def lines(self) -> list[str]:
        out = []
        if self.chain_problem:
            out.append(f"trail broken at {self.chain_problem}")
        out += self.checkpoint_problems + self.file_problems + self.store_problems
        if self.store_problem_count > len(self.store_problems):
            out.append(f"... and {self.store_problem_count - len(self.store_problems):,} more differences")
        return out

    def summary(self) -> str:
        if self.ok:
            head = f"; head is event {self.head[0]} {self.head[1][:16]}…" if self.head else ""
            signed = (
                f"; {self.checkpoints_checked:,} signed checkpoint(s) hold, the newest at event "
                f"{self.checkpoint_newest:,}"
                if self.checkpoints_checked
                else "; no signed checkpoint yet (run rectrack checkpoint): a rewritten or cut-off "
                "trail with recomputed hashes would go unseen"
            )
            return (
                f"verified: {self.events_checked:,} events in an unbroken chain, every record agrees with "
                f"the state they imply, and {self.files_checked:,} evidence files{head}{signed}"
            )
        return "; ".join(self.lines())


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def verify_store(
    session: Session,
    *,
    check_files: bool = True,
    checkpoint_dirs: list[Path] | None = None,
    trusted_keys: list | None = None,
) -> VerifyReport:
    """Everything: chain, checkpoints (``checkpoint_dirs`` or the data dir's, signed by
    ``trusted_keys`` or the installation key), evidence files, and rows against the replayed trail."""
    report = VerifyReport()
    checker, replayer = ChainChecker(), Replayer()
    chain_ok = True
    for rows in iter_canonical_rows(session):
        if chain_ok:
            chain_ok = checker.feed_rows(rows)
        replayer.feed_rows(rows)  # the state still replays past a break, to name what else differs
    last = (checker.expected_seq - 1, checker.prev) if checker.count else None
    report.events_checked, report.chain_problem, report.head = checker.count, checker.problem, last
    signed = check_checkpoints(session, directories=checkpoint_dirs, trusted=trusted_keys)
    report.checkpoint_problems, report.checkpoints_checked = signed.problems, signed.checked
    report.checkpoint_newest = signed.newest

    if check_files:
        report.file_problems, report.files_checked, report.files_through = file_problems(session)
    diffs = compare_state(session, replayer.state)
    obstacles = obstacle_version_problems(session)
    report.store_problems = diffs.lines + obstacles
    report.store_problem_count = diffs.total + len(obstacles)
    return report


def file_problems(session: Session, *, after_id: int = 0) -> tuple[list[str], int, int]:
    """(problems, files checked, highest id checked) for the evidence files with id > ``after_id``."""
    root, problems, checked, through = get_settings().data_dir, [], 0, after_id
    for f in session.exec(
        select(EvidenceFile).where(col(EvidenceFile.id) > after_id).order_by(col(EvidenceFile.id))
    ):
        checked, through = checked + 1, cast(int, f.id)
        path = root / f.stored_path
        if not path.is_file():
            problems.append(f"evidence file {f.filename!r} ({f.sha256[:12]}…) is missing from {path}")
        elif _file_sha256(path) != f.sha256:
            problems.append(f"evidence file {f.filename!r} was altered: its SHA-256 no longer matches")
    return problems, checked, through


def version_problems(session: Session, keys=None) -> list[str]:
    """The newest event of each recommendation (of ``keys``, or all) must record the row's version."""
    latest = select(AuditEvent.record_key, func.max(AuditEvent.seq).label("seq")).where(
        AuditEvent.record_type == "recommendation"
    )
    rows = select(Recommendation.key, Recommendation.version, AuditEvent.after)
    if keys is not None:
        latest = latest.where(col(AuditEvent.record_key).in_(keys))
        rows = rows.where(col(Recommendation.key).in_(keys))
    newest = latest.group_by(AuditEvent.record_key).subquery()
    problems = []
    for key, version, after in session.exec(
        rows.join(newest, newest.c.record_key == Recommendation.key, isouter=True).join(
            AuditEvent, col(AuditEvent.seq) == newest.c.seq, isouter=True
        )
    ).all():
        recorded = json.loads(after).get("version") if after else None
        if recorded != version:
            problems.append(
                f"recommendation {key!r} is at version {version} but its latest event records version {recorded}: "
                "events are missing from the end of its history, or the row was changed outside the app"
            )
            if len(problems) >= 20:
                break
    return problems


def obstacle_version_problems(session: Session) -> list[str]:
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
        .join(AuditEvent, col(AuditEvent.seq) == latest.c.seq, isouter=True)
    ).all()
    problems = []
    for key, version, after in rows:
        recorded = json.loads(after).get("version") if after else None
        if recorded != version:
            problems.append(
                f"obstacle {key!r} is at version {version} but its latest event records version {recorded}: "
                "its events are missing, or the row was changed outside the app"
            )
    return problems
