"""The append-only, hash-chained trail that every write goes through.

An event's hash covers a canonical serialisation of its content plus the previous event's
hash, so editing, deleting, inserting or reordering stored rows breaks the chain where it
happened. Appends run inside :func:`models.db.write_session`, which serialises writers, so
two writers never read the same head.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable

from sqlmodel import Session, select

from models.tables import AuditEvent, utcnow

GENESIS = "0" * 64


def canonical_json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _json_default(v: Any) -> Any:
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    raise TypeError(f"cannot serialise {type(v).__name__}")


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="microseconds")


HASHED_FIELDS = ("seq", "recorded_at", "effective_at", "actor", "action", "record_type", "record_key",
                 "status_before", "status_after", "before", "after", "reason", "prev_hash")


def content_bytes(values) -> bytes:
    """Canonical bytes of an event given its HASHED_FIELDS values in order (datetimes or ISO strings).

    Exports write the same ISO strings, so a bundle verifies with no database and no app state.
    """
    vals = list(values)
    for i in (1, 2):
        if isinstance(vals[i], datetime):
            vals[i] = _iso(vals[i])
    return json.dumps(vals, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def event_content(e: AuditEvent) -> bytes:
    """The bytes an event's hash covers: every field but the hash itself."""
    return content_bytes(getattr(e, f) for f in HASHED_FIELDS)


def event_hash(e: AuditEvent) -> str:
    return hashlib.sha256(event_content(e)).hexdigest()


def iso(dt: datetime) -> str:
    return _iso(dt)


def chain_head(session: Session) -> tuple[int, str]:
    row = session.exec(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def append_event(
    session: Session,
    *,
    actor: str,
    action: str,
    record_type: str,
    record_key: str,
    reason: str,
    before: dict | None = None,
    after: dict | None = None,
    status_before: str | None = None,
    status_after: str | None = None,
    effective_at: datetime | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (which must hold the write lock)."""
    seq, prev = chain_head(session)
    now = utcnow()
    e = AuditEvent(
        seq=seq + 1, recorded_at=now, effective_at=effective_at or now, actor=actor, action=action,
        record_type=record_type, record_key=record_key, status_before=status_before, status_after=status_after,
        before=canonical_json(before), after=canonical_json(after), reason=reason, prev_hash=prev, hash="",
    )
    e.hash = event_hash(e)
    session.add(e)
    session.flush()
    return e


@dataclass
class ChainProblem:
    seq: int
    kind: str  # altered | deleted | inserted | reordered | truncated
    detail: str

    def __str__(self) -> str:
        return f"event {self.seq}: {self.kind}: {self.detail}"


class ChainChecker:
    """Feed events in seq order (as HASHED_FIELDS value tuples plus the stored hash); the first
    break is kept with a name for what happened there.

    Each event's hash covers its own seq, so a row moved to another position no longer matches;
    recomputing with nearby seqs tells a reordering or an insertion from an edit.
    """

    def __init__(self) -> None:
        self.expected_seq, self.prev, self.prev_prev = 1, GENESIS, None
        self.count = 0
        self.problem: ChainProblem | None = None

    def feed(self, values: tuple, stored_hash: str) -> bool:
        if self.problem:
            return False
        seq, prev_hash = values[0], values[-1]
        if seq != self.expected_seq:
            self.problem = ChainProblem(self.expected_seq, "deleted",
                                        f"events {self.expected_seq}..{seq - 1} are missing (the next stored event is {seq})"
                                        if seq > self.expected_seq + 1 else
                                        f"event {self.expected_seq} is missing (the next stored event is {seq})")
            return False
        own = hashlib.sha256(content_bytes(values)).hexdigest()
        if own != stored_hash:
            for moved in (seq - 1, seq + 1, seq - 2, seq + 2):
                if moved < 1:
                    continue
                if hashlib.sha256(content_bytes((moved, *values[1:]))).hexdigest() == stored_hash:
                    if moved == seq - 1 and prev_hash == self.prev_prev:
                        self.problem = ChainProblem(seq - 1, "inserted",
                                                    f"event {seq - 1} was inserted: the event now at {seq} was stored as {moved} "
                                                    f"and links to event {seq - 2}")
                    else:
                        self.problem = ChainProblem(seq, "reordered",
                                                    f"the event stored here was written as event {moved}")
                    return False
            self.problem = ChainProblem(seq, "altered", "its stored content does not match its hash")
            return False
        if prev_hash != self.prev:
            self.problem = ChainProblem(seq, "inserted",
                                        "it has a valid hash but does not link to the event before it")
            return False
        self.prev_prev, self.prev = self.prev, stored_hash
        self.expected_seq += 1
        self.count += 1
        return True


def check_chain(events: Iterable[AuditEvent]) -> ChainProblem | None:
    """The first break in a run of events ordered by seq, or None when the chain holds."""
    checker = ChainChecker()
    for e in events:
        if not checker.feed(tuple(getattr(e, f) for f in HASHED_FIELDS), e.hash):
            break
    return checker.problem


def iter_event_rows(session: Session, where=None, batch: int = 5000):
    """Stream events as (HASHED_FIELDS values..., hash) tuples in seq order, without ORM objects."""
    cols = [getattr(AuditEvent, f) for f in HASHED_FIELDS] + [AuditEvent.hash]
    q = select(*cols).order_by(AuditEvent.seq)
    if where is not None:
        q = q.where(where)
    result = session.connection().execution_options(yield_per=batch).execute(q)
    for row in result:
        yield tuple(row)


def verify_chain(session: Session) -> ChainProblem | None:
    checker = ChainChecker()
    for row in iter_event_rows(session):
        if not checker.feed(row[:-1], row[-1]):
            break
    return checker.problem
