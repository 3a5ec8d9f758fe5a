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


def event_content(e: AuditEvent) -> bytes:
    """The bytes an event's hash covers: every field but the hash itself."""
    return json.dumps(
        [e.seq, _iso(e.recorded_at), _iso(e.effective_at), e.actor, e.action, e.record_type,
         e.record_key, e.status_before, e.status_after, e.before, e.after, e.reason, e.prev_hash],
        ensure_ascii=False, separators=(",", ":"),
    ).encode("utf-8")


def event_hash(e: AuditEvent) -> str:
    return hashlib.sha256(event_content(e)).hexdigest()


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
    kind: str  # altered | deleted | inserted | reordered
    detail: str

    def __str__(self) -> str:
        return f"event {self.seq}: {self.kind}: {self.detail}"


def check_chain(events: Iterable[AuditEvent]) -> ChainProblem | None:
    """The first break in a run of events ordered by seq, or None when the chain holds."""
    expected_seq, prev = 1, GENESIS
    seen_hashes: dict[str, int] = {}
    for e in events:
        if e.seq != expected_seq:
            return ChainProblem(expected_seq, "deleted",
                                f"events {expected_seq}..{e.seq - 1} are missing (next stored event is {e.seq})")
        own = event_hash(e)
        if e.prev_hash != prev:
            if e.prev_hash in seen_hashes:
                return ChainProblem(e.seq, "reordered",
                                    f"it follows event {seen_hashes[e.prev_hash]}, not event {e.seq - 1}")
            if own == e.hash:
                return ChainProblem(e.seq, "inserted", "it does not link to the event before it")
            return ChainProblem(e.seq, "reordered" if own != e.hash and e.hash in seen_hashes else "inserted",
                                "its link to the previous event is broken")
        if own != e.hash:
            return ChainProblem(e.seq, "altered", "its content does not match its hash")
        seen_hashes[e.hash] = e.seq
        prev, expected_seq = e.hash, expected_seq + 1
    return None


def verify_chain(session: Session) -> ChainProblem | None:
    rows = session.exec(select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=5000))
    return check_chain(rows)
