"""Comparing the stored rows with the state the trail implies (:mod:`models.trail.replay`).

Each check reads one kind of row in batches (never one query per record) and names every
difference: the record, the field, the value stored and the value the trail implies. Checks are
a registry too (:func:`check`), so a helper adding a table with its own events adds its check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import cast

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models.store.db import select_row
from models.store.tables import (
    ClosureProposal,
    EvidenceFile,
    EvidenceItem,
    EvidenceLink,
    Recommendation,
    User,
)
from models.trail.chain import canonical_json
from models.trail.replay import REC_FIELDS, SYSTEM_ACCOUNTS, ReplayState

BATCH = 5000
KEEP = 200  # differences kept word for word; the rest are counted


@dataclass
class Differences:
    lines: list[str] = field(default_factory=list)
    total: int = 0

    def add(self, record: str, what: str, stored, implied) -> None:
        self.total += 1
        if len(self.lines) < KEEP:
            self.lines.append(
                f"{record}: {what} is {_show(stored)} in the store but the trail implies {_show(implied)}"
            )

    def note(self, text: str) -> None:
        self.total += 1
        if len(self.lines) < KEEP:
            self.lines.append(text)


def _show(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, date):
        return value.isoformat()
    return repr(value)


Check = Callable[[Session, ReplayState, Differences], None]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    CHECKS.append(fn)
    return fn


def compare_state(session: Session, state: ReplayState) -> Differences:
    diffs = Differences()
    for (record_type, action), (seq, n) in sorted(state.unknown.items(), key=lambda kv: kv[1][0]):
        diffs.note(
            f"event {seq}: action {action!r} on a {record_type} ({n:,} such events) is not known to the "
            "state check, so what it changed cannot be confirmed"
        )
    for text in state.problems:
        diffs.note(text)
    for fn in CHECKS:
        fn(session, state, diffs)
    return diffs


def _stream(session: Session, q):
    result = session.connection().execution_options(yield_per=BATCH).execute(q)
    for part in result.partitions(BATCH):
        yield from part


def _day(value) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


@check
def recommendations(session: Session, state: ReplayState, diffs: Differences) -> None:
    parent = aliased(Recommendation)
    R = Recommendation
    q = (
        select_row(
            R.key,
            R.status,
            R.owner,
            R.responsible,
            R.target_date,
            R.progress,
            R.priority,
            R.close_plan,
            parent.key,
            R.version,
        )
        .join(parent, col(parent.id) == R.parent_id, isouter=True)
        .order_by(col(R.id))
    )
    seen = set()
    for row in _stream(session, q):
        key = row[0]
        seen.add(key)
        implied = state.recs.get(key)
        if implied is None:
            diffs.note(f"recommendation {key!r} is in the store but no event created it")
            continue
        stored = dict(zip(REC_FIELDS, row[1:], strict=True))
        stored["target_date"] = _day(stored["target_date"])
        stored["priority"] = bool(stored["priority"])
        for f in REC_FIELDS:
            want = implied[f]
            if f == "priority":
                want = bool(want)
            if stored[f] != want:
                diffs.add(f"recommendation {key!r}", f, stored[f], want)
    for key, implied in state.recs.items():
        if key not in seen:
            diffs.note(
                f"recommendation {key!r} was created by event {implied['seq']} but is missing from the store"
            )


def _grouped(session: Session, q) -> dict[str, list]:
    out: dict[str, list] = {}
    for key, *rest in _stream(session, q):
        out.setdefault(key, []).append(tuple(rest) if len(rest) > 1 else rest[0])
    return out


@check
def evidence(session: Session, state: ReplayState, diffs: Differences) -> None:
    E, older = EvidenceItem, aliased(EvidenceItem)
    links = _grouped(
        session,
        select(E.key, Recommendation.key)
        .join(EvidenceLink, col(EvidenceLink.evidence_id) == E.id)
        .join(Recommendation, col(Recommendation.id) == EvidenceLink.recommendation_id),
    )
    files = _grouped(
        session,
        select(E.key, EvidenceFile.filename, EvidenceFile.sha256).join(
            EvidenceFile, col(EvidenceFile.evidence_id) == E.id
        ),
    )
    q = select_row(E.key, E.title, E.kind, E.observed_on, older.key).join(
        older, col(older.id) == E.supersedes_id, isouter=True
    )
    stored_keys = set()
    for key, title, kind, observed_on, supersedes in _stream(session, q):
        stored_keys.add(key)
        implied = state.evidence.get(key)
        record = f"evidence {key!r}"
        if implied is None:
            diffs.note(f"{record} is in the store but no event recorded it")
            continue
        for name, stored in (
            ("title", title),
            ("kind", kind),
            ("observed_on", _day(observed_on)),
            ("supersedes", supersedes),
            ("recommendations", sorted(links.get(key, []))),
        ):
            if stored != implied[name]:
                diffs.add(record, name, stored, implied[name])
        have, want = sorted(files.get(key, [])), implied["files"]
        if have != want:
            have_names = {n: h for n, h in have}
            for name, sha in want:
                if name not in have_names:
                    diffs.add(record, f"file {name!r}", None, f"SHA-256 {sha}")
                elif have_names[name] != sha:
                    diffs.add(record, f"file {name!r} SHA-256", have_names[name], sha)
            for name, sha in have:
                if name not in {n for n, _ in want}:
                    diffs.add(record, f"file {name!r}", f"SHA-256 {sha}", None)
    for key, implied in state.evidence.items():
        if key not in stored_keys:
            diffs.note(
                f"evidence {key!r} was recorded by event {implied['seq']} but is missing from the store"
            )
    for seq, rec_key, item in state.accepted_evidence:
        key = item.get("key")
        if key not in stored_keys:
            diffs.note(
                f"recommendation {rec_key!r}: the closure accepted at event {seq} rested on evidence {key!r}, "
                "which is no longer in the store"
            )
            continue
        held = set(files.get(cast(str, key), []))  # a key the store holds, so not None
        for f in item.get("files") or []:
            if (f.get("name"), f.get("sha256")) not in held:
                diffs.note(
                    f"recommendation {rec_key!r}: the closure accepted at event {seq} rested on file "
                    f"{f.get('name')!r} of evidence {key!r} with SHA-256 {f.get('sha256')}, which the store no "
                    "longer holds"
                )


@check
def users(session: Session, state: ReplayState, diffs: Differences) -> None:
    q = select_row(User.username, User.role, User.office, User.disabled, User.can_verify).order_by(
        col(User.id)
    )
    seen = set()
    for username, role, office, disabled, can_verify in _stream(session, q):
        seen.add(username)
        implied = state.users.get(username)
        record = f"user {username!r}"
        if implied is None:
            if username in SYSTEM_ACCOUNTS:
                if role != "system":
                    diffs.add(record, "role", role, "system")
                if disabled:
                    diffs.add(record, "disabled", True, False)
            else:
                diffs.note(f"{record} (role {role}) is in the store but no event added the account")
            continue
        for name, stored in (
            ("role", role),
            ("office", office),
            ("disabled", bool(disabled)),
            ("can_verify", bool(can_verify)),
        ):
            if stored != implied[name]:
                diffs.add(record, name, stored, implied[name])
    for username, implied in state.users.items():
        if username not in seen:
            diffs.note(f"user {username!r} was added by event {implied['seq']} but is missing from the store")


@check
def closure_proposals(session: Session, state: ReplayState, diffs: Differences) -> None:
    P = ClosureProposal
    stored = _grouped(
        session,
        select_row(
            Recommendation.key, P.target_status, P.state, P.proposed_by, P.decided_by, P.evidence_hashes
        )
        .join(Recommendation, col(Recommendation.id) == P.recommendation_id)
        .order_by(col(P.id)),
    )
    for key in sorted(set(stored) | set(state.proposals)):
        have, want = stored.get(key, []), state.proposals.get(key, [])
        record = f"recommendation {key!r}"
        if len(have) != len(want):
            diffs.add(record, "number of closure proposals", len(have), len(want))
        for i, (row, implied) in enumerate(zip(have, want, strict=False), 1):
            target, st, proposed_by, decided_by, hashes = row
            for name, value in (
                ("target_status", target),
                ("state", st),
                ("proposed_by", proposed_by),
                ("decided_by", decided_by),
            ):
                if value != implied[name]:
                    diffs.add(f"{record} closure proposal {i}", name, value, implied[name])
            if implied["state"] == "accepted" and hashes != canonical_json(implied.get("evidence") or []):
                diffs.note(
                    f"{record} closure proposal {i}: the evidence hashes it stores differ from those its "
                    "acceptance event recorded"
                )
