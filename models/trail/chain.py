"""The append-only, hash-chained trail that every write goes through.

An event's hash covers a canonical serialisation of its content plus the previous event's
hash, so editing, deleting, inserting or reordering stored rows breaks the chain where it
happened. Appends run inside :func:`models.store.db.write_session`, which serialises writers, so
two writers never read the same head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import String, case, func, type_coerce
from sqlmodel import Session, col, select

from models.store.tables import AuditEvent, utcnow

GENESIS = "0" * 64

#: called as ``hook(session, event)`` after each append, in the same transaction. This module may
#: import only the store, so the rules register here what must follow every event: the notification
#: fan-out (:func:`models.rules.notifications.fan_out`, registered when ``models.rules`` is imported).
AFTER_APPEND: list[Callable[[Session, AuditEvent], None]] = []


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


HASHED_FIELDS = (
    "seq",
    "recorded_at",
    "effective_at",
    "actor",
    "action",
    "record_type",
    "record_key",
    "status_before",
    "status_after",
    "before",
    "after",
    "reason",
    "prev_hash",
)


# The exact encoder json.dumps(..., ensure_ascii=False, separators=(",", ":")) builds, made once
# (verifying a long trail encodes every event). CPython's C encoder is used directly when present
# and gives the same bytes as json.dumps on a probe; otherwise the public encoder.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _c_encoder():
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _ENCODE

    def default(o):
        raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")

    try:
        enc = make(None, default, json.encoder.encode_basestring, None, ":", ",", False, False, True)
        fast = lambda values: "".join(enc(values, 0))  # noqa: E731
        probe = [1, 'ä"\n\u2028\x00', None, True, 1.5, [2, {"k": "v"}], "x" * 64]
        if fast(probe) == json.dumps(probe, ensure_ascii=False, separators=(",", ":")):
            return fast
    except Exception:  # pragma: no cover - another Python's internals
        pass
    return _ENCODE  # pragma: no cover


_ENCODE = _c_encoder()
compact_json = _ENCODE
"""``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``, without rebuilding the encoder each call."""


def content_bytes(values) -> bytes:
    """Canonical bytes of an event given its HASHED_FIELDS values in order (datetimes or ISO strings).

    Exports write the same ISO strings, so a bundle verifies with no database and no app state.
    """
    vals = list(values)
    for i in (1, 2):
        if isinstance(vals[i], datetime):
            vals[i] = _iso(vals[i])
    return _ENCODE(vals).encode("utf-8")


def event_content(e: AuditEvent) -> bytes:
    """The bytes an event's hash covers: every field but the hash itself."""
    return content_bytes(getattr(e, f) for f in HASHED_FIELDS)


def event_hash(e: AuditEvent) -> str:
    return hashlib.sha256(event_content(e)).hexdigest()


def iso(dt: datetime) -> str:
    return _iso(dt)


def chain_head(session: Session) -> tuple[int, str]:
    row = session.exec(
        select(AuditEvent.seq, AuditEvent.hash).order_by(col(AuditEvent.seq).desc()).limit(1)
    ).first()
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
        seq=seq + 1,
        recorded_at=now,
        effective_at=effective_at or now,
        actor=actor,
        action=action,
        record_type=record_type,
        record_key=record_key,
        status_before=status_before,
        status_after=status_after,
        before=canonical_json(before),
        after=canonical_json(after),
        reason=reason,
        prev_hash=prev,
        hash="",
    )
    e.hash = event_hash(e)
    session.add(e)
    session.flush()
    for hook in AFTER_APPEND:
        hook(session, e)
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

    prev: str  # the last event's hash
    prev_prev: str | None  # the one before it (None before the second event)

    def __init__(self) -> None:
        self.expected_seq, self.prev, self.prev_prev = 1, GENESIS, None
        self.count = 0
        self.problem: ChainProblem | None = None

    def feed(self, values: tuple, stored_hash: str) -> bool:
        if self.problem:
            return False
        seq, prev_hash = values[0], values[-1]
        if seq != self.expected_seq:
            self.problem = ChainProblem(
                self.expected_seq,
                "deleted",
                f"events {self.expected_seq}..{seq - 1} are missing (the next stored event is {seq})"
                if seq > self.expected_seq + 1
                else f"event {self.expected_seq} is missing (the next stored event is {seq})",
            )
            return False
        own = hashlib.sha256(content_bytes(values)).hexdigest()
        if own != stored_hash:
            for moved in (seq - 1, seq + 1, seq - 2, seq + 2):
                if moved < 1:
                    continue
                if hashlib.sha256(content_bytes((moved, *values[1:]))).hexdigest() == stored_hash:
                    if moved == seq - 1 and prev_hash == self.prev_prev:
                        self.problem = ChainProblem(
                            seq - 1,
                            "inserted",
                            f"event {seq - 1} was inserted: the event now at {seq} was stored as {moved} "
                            f"and links to event {seq - 2}",
                        )
                    else:
                        self.problem = ChainProblem(
                            seq, "reordered", f"the event stored here was written as event {moved}"
                        )
                    return False
            self.problem = ChainProblem(seq, "altered", "its stored content does not match its hash")
            return False
        if prev_hash != self.prev:
            self.problem = ChainProblem(
                seq, "inserted", "it has a valid hash but does not link to the event before it"
            )
            return False
        self.prev_prev, self.prev = self.prev, stored_hash
        self.expected_seq += 1
        self.count += 1
        return True

    def feed_rows(self, rows) -> bool:
        """Feed many rows of (HASHED_FIELDS values..., hash) whose timestamps are already ISO strings
        (:func:`iter_canonical_rows`). The verdicts are :meth:`feed`'s: the common case, an intact
        event, is checked inline; the first row that is not is handed to :meth:`feed` to be named."""
        if self.problem:
            return False
        sha, encode = hashlib.sha256, _ENCODE
        expected, prev, prev_prev, n = self.expected_seq, self.prev, self.prev_prev, 0
        for row in rows:
            values = row[:-1]
            if (
                row[0] != expected
                or row[-2] != prev
                or sha(encode(values).encode("utf-8")).hexdigest() != row[-1]
            ):
                self.expected_seq, self.prev, self.prev_prev, self.count = (
                    expected,
                    prev,
                    prev_prev,
                    self.count + n,
                )
                if not self.feed(values, row[-1]):
                    return False
                expected, prev, prev_prev, n = self.expected_seq, self.prev, self.prev_prev, 0
                continue
            prev_prev, prev = prev, row[-1]
            expected += 1
            n += 1
        self.expected_seq, self.prev, self.prev_prev, self.count = expected, prev, prev_prev, self.count + n
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


_PG_ISO = 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'
_SQLITE_STORED = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]"
_ODD = "~"  # marks a SQLite value not in SQLAlchemy's storage format (parsed in Python instead)


def _iso_column(col, pg: bool):
    if pg:
        return type_coerce(func.to_char(func.timezone("UTC", col), _PG_ISO), String)
    raw = type_coerce(col, String)
    return case(
        (raw.op("GLOB")(_SQLITE_STORED), func.substr(raw, 1, 10) + "T" + func.substr(raw, 12) + "+00:00"),
        else_=_ODD + raw,
    )


def iter_canonical_rows(session: Session, where=None, batch: int = 5000):
    """Like :func:`iter_event_rows`, in batches (lists of tuples), with ``recorded_at`` and
    ``effective_at`` already the ISO strings the hash covers, and no per-value type processing.

    The audit trail is read whole by ``rectrack verify`` and by exports; building and formatting
    two datetime objects per event was most of their cost. The database formats the timestamps:
    PostgreSQL in UTC; SQLite rearranges the text SQLAlchemy stored ("YYYY-MM-DD HH:MM:SS.ffffff"),
    and any value not in that form is parsed in Python as before. So the strings are exactly
    those :func:`iso` gives for the values :func:`iter_event_rows` returns.
    """
    pg = session.get_bind().dialect.name == "postgresql"
    cols = [
        _iso_column(getattr(AuditEvent, f), pg)
        if f in ("recorded_at", "effective_at")
        else getattr(AuditEvent, f)
        for f in HASHED_FIELDS + ("hash",)
    ]
    q = select(*cols).order_by(AuditEvent.seq)
    if where is not None:
        q = q.where(where)
    result = session.connection().execution_options(yield_per=batch).execute(q)
    for part in result.partitions(batch):
        rows = [tuple(r) for r in part]
        if not pg:
            for i, r in enumerate(rows):
                if r[1] is None or r[2] is None or r[1][0] == _ODD or r[2][0] == _ODD:
                    rows[i] = (r[0], _odd_iso(r[1]), _odd_iso(r[2]), *r[3:])
        yield rows


def _odd_iso(text: str | None) -> str | None:
    """The ISO string for a SQLite value stored some other way, parsed as SQLAlchemy would."""
    if text is None or text[0] != _ODD:
        return text
    from sqlalchemy.dialects.sqlite import DATETIME

    process = DATETIME().result_processor(cast(Any, None), None)  # SQLite's DATETIME reads no dialect
    parsed = cast(Callable[[str], datetime], process)(text[1:])
    return _iso(parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC))


def verify_chain(session: Session) -> ChainProblem | None:
    checker = ChainChecker()
    for rows in iter_canonical_rows(session):
        if not checker.feed_rows(rows):
            break
    return checker.problem
