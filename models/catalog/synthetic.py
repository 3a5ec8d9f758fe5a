"""A synthetic store for demonstrations and load tests: ``rectrack demo``.

GAO's public database held about 4,800 open recommendations in 2020; this tracker is meant to
stay fast and whole at ten times that. :func:`generate` fills a *new* store with a chosen
number of recommendations, audit events and evidence files so that claim can be measured
(``benchmarks/run.py``) and the dashboard can be shown at scale.

Everything it makes says so wherever it shows: recommendations have ``origin="synthetic"``,
keys ``syn-000001``…, titles starting ``[SYNTHETIC]``; accounts are ``syn-…`` with no password;
evidence files say "SYNTHETIC DATA" in their first line. :func:`models.reads.accounts.is_synthetic_store` (imported here as ``is_synthetic``) tells the
dashboard to show a "SYNTHETIC DATA" banner.

Why one module of about 500 lines
---------------------------------
The generator's phases (accounts, recommendations and their moves, evidence, closures, the
chain) share one random stream and one running chain head; split across modules they would
pass that state back and forth. Nothing else imports its internals.

Why this module writes rows in bulk instead of calling the domain functions
---------------------------------------------------------------------------
The one write path (:mod:`models.rules.recommendations`) costs a round of queries per event: read
the chain head, read the row, check, flush. A million events that way take hours. Here the
same rules are applied in memory and the rows are written with SQLAlchemy Core
``executemany`` in large batches (SQLite) or ``COPY`` (PostgreSQL), in one transaction
holding the app's write lock. That bypass is acceptable because:

* it only ever creates a new synthetic store: it refuses a target that already holds any
  recommendation, checked again under the write lock, so it can never alter, interleave
  with or fake the history of a real one;
* what it writes is exactly what the write path would have written: statuses move only
  along :data:`models.rules.lifecycle.TRANSITIONS` (closing as implemented only once evidence is
  linked), creates go through :class:`models.store.schemas.RecommendationCreate`, every event is
  serialised with :func:`models.trail.chain.canonical_json` and hashed with
  :func:`models.trail.chain.content_bytes` over :data:`models.trail.chain.HASHED_FIELDS` like
  :func:`models.trail.chain.append_event`, each row's version equals its latest event's
  ``after.version``, and evidence files are stored by :func:`models.rules.evidence_files.store_file`
  with their SHA-256;
* the result is checked by the same verifier as any store: :func:`models.trail.verify.verify_store`
  (``rectrack verify``) passes on it, and the tests in ``tests/test_demo.py`` hold it to that.
"""

from __future__ import annotations

import hashlib
import io
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.schema import Table
from sqlmodel import SQLModel, col

from models.reads.accounts import is_synthetic_store as is_synthetic  # noqa: F401  (re-exported)
from models.rules import lifecycle
from models.rules.evidence_files import store_file
from models.store.db import WRITE_LOCK_ID, is_sqlite, make_engine
from models.store.errors import InvalidInput
from models.store.schemas import RecommendationCreate
from models.store.settings import Settings, get_settings
from models.store.tables import (
    AuditEvent,
    ClosureProposal,
    EvidenceFile,
    EvidenceItem,
    EvidenceLink,
    Recommendation,
    User,
)
from models.store.upgrade import upgrade
from models.store.vocabulary import SYNTHETIC_ORIGIN, Actor, Confidence, RecommendationKind, Theme
from models.trail.chain import GENESIS, HASHED_FIELDS, canonical_json, content_bytes

ORIGIN = SYNTHETIC_ORIGIN
KEY_PREFIX = "syn-"
TITLE_PREFIX = "[SYNTHETIC] "
GENERATOR = "syn-generator"  # the system account that adds the synthetic accounts
EDITORS = tuple(f"syn-editor-{i:02d}" for i in range(1, 13))
ACCOUNTS = (
    *((name, "editor") for name in EDITORS),
    ("syn-viewer", "viewer"),
    ("syn-auditor", "auditor"),
    ("syn-admin", "admin"),
)
VERIFIERS = ("syn-auditor", "syn-admin")  # closures are verified by someone other than the proposer
OFFICES = tuple(f"Synthetic Office {i:02d}" for i in range(1, 41))
START = datetime(2012, 1, 1, tzinfo=UTC)
BATCH = 10_000

# how often a move goes to each next status (only the moves TRANSITIONS allows are ever drawn)
_MOVE_WEIGHTS = {
    "under_review": 3,
    "accepted": 3,
    "in_progress": 4,
    "on_hold": 1,
    "implemented": 4,
    "not_implemented": 0.25,
}
_REOPEN_WEIGHT = 1


class DemoRefused(InvalidInput):
    """The target is not a new, empty store (or the sizes make no sense)."""


@dataclass
class DemoReport:
    url: str
    recommendations: int = 0
    events: int = 0
    evidence: int = 0
    accounts: int = 0
    seconds: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)
    head: tuple[int, str] | None = None

    def __str__(self) -> str:
        statuses = ", ".join(f"{s} {n:,}" for s, n in sorted(self.by_status.items(), key=lambda kv: -kv[1]))
        return (
            f"synthetic store written to {safe_url(self.url)}: {self.recommendations:,} recommendations, "
            f"{self.events:,} audit events, {self.evidence:,} evidence files, {self.accounts} accounts "
            f"in {self.seconds:.1f} s ({statuses}). Every record is marked SYNTHETIC."
        )


def safe_url(url: str) -> str:
    """The URL without credentials, for messages."""
    return url.split("@")[-1] if "@" in url else url


def _refuse_if_not_empty(conn: Connection, url: str) -> None:
    n = conn.execute(select(func.count()).select_from(Recommendation)).scalar_one()
    if n:
        raise DemoRefused(
            f"refusing to write synthetic data into {safe_url(url)}: it already holds {n:,} recommendation(s). "
            "`rectrack demo` only fills a new, empty store; name a fresh database (createdb …) or SQLite file."
        )


# ---------------------------------------------------------------- bulk writing


def _table(model: type[SQLModel]) -> Table:
    """The Core table of a table model, which SQLModel sets on the class without declaring it."""
    return model.__table__  # type: ignore[attr-defined]


def _bulk_insert(conn: Connection, table, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        cols = ", ".join(f'"{c}"' for c in columns)
        cur = cast(Any, conn.connection.driver_connection).cursor()  # psycopg's, for COPY
        with cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        cur.close()
    else:
        conn.execute(insert(table), [dict(zip(columns, r)) for r in rows])


def _model_row(obj, columns: list[str]) -> tuple:
    return tuple(getattr(obj, c) for c in columns)


def _fix_sequences(conn: Connection, tables) -> None:
    if conn.dialect.name != "postgresql":
        return
    for t in tables:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{t.name}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{t.name}"), 1))'
            )
        )


# ---------------------------------------------------------------- the generator


def _recommendation_data(i: int, rng: random.Random, parents: list[int]) -> RecommendationCreate:
    theme = rng.choice(list(Theme)).value
    parent_key = None
    if parents and rng.random() < 0.05:
        parent_key = f"{KEY_PREFIX}{rng.choice(parents):06d}"
    target = None
    if rng.random() < 0.8:
        target = date(2013, 1, 1) + timedelta(days=rng.randrange(0, 18 * 365))
    return RecommendationCreate(
        key=f"{KEY_PREFIX}{i:06d}",
        title=f"{TITLE_PREFIX}{theme.replace('_', ' ').capitalize()} recommendation {i:06d}",
        summary=(
            "Synthetic record generated by `rectrack demo` for demonstrations and load tests. "
            "It is not drawn from any source and says nothing about real policy."
        ),
        kind=rng.choice(list(RecommendationKind)),
        confidence=rng.choice(list(Confidence)),
        theme=Theme(theme),
        who_must_act=rng.choice(list(Actor)),
        owner=rng.choice(OFFICES),
        owner_inferred=False,
        target_date=target,
        parent_key=parent_key,
    )


def _evidence_content(n: int, seed: int) -> bytes:
    return (
        f"SYNTHETIC DATA - not a real document.\n"
        f"Evidence file syn-ev-{n:06d}, generated by `rectrack demo` (seed {seed}) for load tests.\n"
    ).encode()


def _plan_kinds(rng: random.Random, creates: int, evidence: int, moves: int):
    """Yield 'c' (create), 'e' (evidence) or 'm' (move) in time order with exactly the given
    totals; creates are front-loaded so most records have a history."""
    rc, re_, rm = creates, evidence, moves
    yield "c"
    rc -= 1
    while rc or re_ or rm:
        wc = 3.0 * rc
        r = rng.random() * (wc + re_ + rm)
        if r < wc:
            rc -= 1
            yield "c"
        elif r < wc + re_:
            re_ -= 1
            yield "e"
        else:
            rm -= 1
            yield "m"


def generate(
    url: str,
    *,
    recommendations: int,
    events: int,
    evidence: int = 0,
    seed: int = 7,
    data_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoReport:
    """Create (or upgrade) the schema at ``url`` and fill it with a synthetic, verifiable store.

    ``events`` counts every audit event written: one per account, one create per recommendation,
    one per evidence item, and the rest status moves and field updates. Evidence files go under
    ``data_dir`` (default: the settings' data dir, where ``rectrack verify`` looks for them).
    """
    t0 = time.perf_counter()
    say = progress or (lambda _msg: None)
    accounts = len(ACCOUNTS)
    if recommendations < 1:
        raise DemoRefused("--recommendations must be at least 1")
    if evidence < 0:
        raise DemoRefused("--evidence cannot be negative")
    minimum = accounts + recommendations + evidence
    if events < minimum:
        raise DemoRefused(
            f"--events must be at least {minimum:,}: one per account ({accounts}), one create per "
            f"recommendation and one per evidence item"
        )
    settings = get_settings() if data_dir is None else Settings(data_dir=Path(data_dir))

    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _refuse_if_not_empty(conn, url)
        report = _fill(
            engine,
            url,
            recommendations=recommendations,
            events=events,
            evidence=evidence,
            seed=seed,
            settings=settings,
            say=say,
        )
    finally:
        engine.dispose()
    report.seconds = time.perf_counter() - t0
    return report


def _fill(
    engine: Engine,
    url: str,
    *,
    recommendations: int,
    events: int,
    evidence: int,
    seed: int,
    settings: Settings,
    say,
) -> DemoReport:
    rng = random.Random(seed)
    clock = random.Random(seed + 1)  # own stream: dates depend on the day it runs, the records must not
    report = DemoReport(url=url)

    # Evidence files first, content-addressed, like every upload: a rolled-back transaction
    # leaves at most unreferenced files, never a row pointing at nothing.
    files = []
    for n in range(1, evidence + 1):
        files.append(store_file(io.BytesIO(_evidence_content(n, seed)), f"syn-ev-{n:06d}.txt", settings))
    if evidence:
        say(f"stored {evidence:,} synthetic evidence files under {settings.evidence_dir}")

    ev_cols = [c.name for c in _table(AuditEvent).columns]
    ev_index = {name: i for i, name in enumerate(ev_cols)}
    hashed_pos = [ev_index[f] for f in HASHED_FIELDS]

    with engine.execution_options(rectrack_write=True).connect() as conn:
        with conn.begin():
            if not is_sqlite(engine):
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_ID})
            _refuse_if_not_empty(conn, url)  # again, under the write lock
            head = conn.execute(
                select(col(AuditEvent.seq), col(AuditEvent.hash))
                .order_by(col(AuditEvent.seq).desc())
                .limit(1)
            ).first()
            seq, prev = (head[0], head[1]) if head else (0, GENESIS)
            existing_users = set(conn.execute(select(col(User.username))).scalars())
            rec_id0 = cast(
                int, conn.execute(select(func.coalesce(func.max(Recommendation.id), 0))).scalar_one()
            )
            ev_id0 = cast(int, conn.execute(select(func.coalesce(func.max(EvidenceItem.id), 0))).scalar_one())
            file_id0 = cast(
                int, conn.execute(select(func.coalesce(func.max(EvidenceFile.id), 0))).scalar_one()
            )
            closure_id0 = cast(
                int, conn.execute(select(func.coalesce(func.max(ClosureProposal.id), 0))).scalar_one()
            )

            # the clocks: effective dates spread from START to yesterday; recorded_at is when we write
            now = datetime.now(UTC).replace(microsecond=0)
            end = now - timedelta(days=1)
            step_us = max(2, int((end - START).total_seconds() * 1e6) // max(events, 1))
            effective = START
            recorded = now - timedelta(microseconds=events)

            batch: list[tuple] = []
            total_written = 0

            def emit(
                *,
                actor,
                action,
                record_type,
                record_key,
                reason,
                before=None,
                after=None,
                status_before=None,
                status_after=None,
            ) -> datetime:
                nonlocal seq, prev, effective, recorded, total_written
                seq += 1
                effective = min(end, effective + timedelta(microseconds=clock.randrange(1, 2 * step_us)))
                recorded = recorded + timedelta(microseconds=1)
                row: list[Any] = [None] * len(ev_cols)
                for name, value in (
                    ("seq", seq),
                    ("recorded_at", recorded),
                    ("effective_at", effective),
                    ("actor", actor),
                    ("action", action),
                    ("record_type", record_type),
                    ("record_key", record_key),
                    ("status_before", status_before),
                    ("status_after", status_after),
                    ("before", canonical_json(before)),
                    ("after", canonical_json(after)),
                    ("reason", reason),
                    ("prev_hash", prev),
                ):
                    row[ev_index[name]] = value
                digest = hashlib.sha256(content_bytes([row[i] for i in hashed_pos])).hexdigest()
                row[ev_index["hash"]] = digest
                prev = digest
                batch.append(tuple(row))
                if len(batch) >= BATCH:
                    _bulk_insert(conn, _table(AuditEvent), ev_cols, batch)
                    total_written += len(batch)
                    batch.clear()
                    if total_written % 100_000 == 0:
                        say(f"  {total_written:,} events written")
                return effective

            # accounts (no passwords: synthetic stores are for looking at and load tests)
            user_rows = []
            user_cols = [c.name for c in _table(User).columns if c.name != "id"]
            if GENERATOR not in existing_users:
                user_rows.append(
                    User(username=GENERATOR, display_name="[SYNTHETIC] demo generator", role="system")
                )
            for name, role in ACCOUNTS:
                if name not in existing_users:
                    user_rows.append(User(username=name, role=role, display_name=f"[SYNTHETIC] {name}"))
                emit(
                    actor=GENERATOR,
                    action="user_add",
                    record_type="user",
                    record_key=name,
                    reason=f"[SYNTHETIC] added with role {role}",
                    after={"role": role, "office": None},
                )
            report.accounts = len(ACCOUNTS)

            # per-record state, kept in memory and written once at the end
            created: list[RecommendationCreate] = []
            status: list[str] = []
            version: list[int] = []
            owner: list[str] = []
            target: list[date | None] = []
            prog: list[int] = []
            n_evidence: list[int] = []
            last_actor: list[str] = []
            first_at: list[datetime] = []
            last_at: list[datetime] = []
            top_level: list[int] = []
            links: list[tuple[int, int]] = []
            items: list[EvidenceItem] = []
            rec_items: dict[int, list[int]] = {}
            proposals: list[ClosureProposal] = []
            pending: list[tuple[int, ClosureProposal]] = []

            moves = events - len(ACCOUNTS) - recommendations - evidence
            for kind in _plan_kinds(rng, recommendations, evidence, moves):
                if kind == "c":
                    i = len(created) + 1
                    data = _recommendation_data(i, rng, top_level)
                    actor = rng.choice(EDITORS)
                    emit(
                        actor=actor,
                        action="create",
                        record_type="recommendation",
                        record_key=data.key,
                        reason=f"[SYNTHETIC] created by rectrack demo (seed {seed})",
                        after={**data.model_dump(mode="json"), "status": "proposed", "version": 1},
                        status_after="proposed",
                    )
                    created.append(data)
                    status.append("proposed")
                    version.append(1)
                    owner.append(data.owner)
                    target.append(data.target_date)
                    prog.append(0)
                    n_evidence.append(0)
                    last_actor.append(actor)
                    first_at.append(recorded)
                    last_at.append(recorded)
                    if data.parent_key is None:
                        top_level.append(i)
                elif kind == "e":
                    n = len(items) + 1
                    # evidence mostly supports work under way, so it can later close a record
                    idx = [_pick(rng, status, prefer=("in_progress", "accepted"))]
                    if rng.random() < 0.1:
                        other = rng.randrange(len(created))
                        if other != idx[0]:
                            idx.append(other)
                    actor = rng.choice(EDITORS)
                    f = files[n - 1]
                    title = f"{TITLE_PREFIX}Evidence {n:06d}"
                    key = f"syn-ev-{n:06d}"
                    observed = effective.date()
                    emit(
                        actor=actor,
                        action="evidence_add",
                        record_type="evidence",
                        record_key=key,
                        reason="[SYNTHETIC] evidence attached by rectrack demo",
                        after={
                            "recommendations": [created[j].key for j in idx],
                            "title": title,
                            "kind": "file",
                            "supersedes": None,
                            "observed_on": observed,
                            "files": [{"name": f["filename"], "sha256": f["sha256"]}],
                            "citations": [],
                        },
                    )
                    items.append(
                        EvidenceItem(
                            id=ev_id0 + n,
                            key=key,
                            title=title,
                            summary="Synthetic evidence: not a real document.",
                            kind="file",
                            observed_on=observed,
                            created_by=actor,
                            created_at=recorded,
                        )
                    )
                    for j in idx:
                        links.append((ev_id0 + n, rec_id0 + j + 1))
                        n_evidence[j] += 1
                        rec_items.setdefault(j, []).append(n - 1)
                elif pending:
                    # the closure proposed at the previous move is verified by someone else
                    j, proposal = pending.pop()
                    old, target_status = status[j], proposal.target_status
                    lifecycle.check_transition(
                        old, target_status, reason="synthetic", evidence_count=n_evidence[j]
                    )
                    verifier = rng.choice(VERIFIERS)
                    in_force = [_in_force(items[e], files[e]) for e in rec_items.get(j, ())]
                    version[j] += 1
                    status[j] = target_status
                    reason = f"[SYNTHETIC] closure verified: {target_status.replace('_', ' ')}"
                    emit(
                        actor=verifier,
                        action="closure_accepted",
                        record_type="recommendation",
                        record_key=created[j].key,
                        reason=reason,
                        before={"status": old, "version": version[j] - 1},
                        after={
                            "status": target_status,
                            "evidence": in_force,
                            "proposed_by": proposal.proposed_by,
                            "version": version[j],
                        },
                        status_before=old,
                        status_after=target_status,
                    )
                    proposal.state, proposal.decided_by, proposal.decided_at = "accepted", verifier, recorded
                    proposal.decision_reason, proposal.evidence_hashes = reason, canonical_json(in_force)
                    last_actor[j], last_at[j] = verifier, recorded
                else:
                    j = _pick(rng, status)
                    actor = rng.choice(EDITORS)
                    old = status[j]
                    key = created[j].key
                    stuck = old == "in_progress" and not n_evidence[j]  # work goes on until evidence arrives
                    new_status = (
                        old
                        if rng.random() < (0.85 if stuck else 0.3)
                        else _next_status(rng, old, n_evidence[j])
                    )
                    before: dict[str, Any]
                    after: dict[str, Any]
                    if new_status != old and new_status in lifecycle.CLOSED:
                        # closing takes two people: propose now, verified at the next move
                        lifecycle.check_transition(
                            old, new_status, reason="synthetic", evidence_count=n_evidence[j]
                        )
                        action, reason = (
                            "closure_proposed",
                            f"[SYNTHETIC] proposed to close as {new_status.replace('_', ' ')}",
                        )
                        before, after = {}, {"closure_target": new_status}
                        proposal = ClosureProposal(
                            id=closure_id0 + len(proposals) + 1,
                            recommendation_id=rec_id0 + j + 1,
                            target_status=new_status,
                            proposed_by=actor,
                            proposed_at=recorded,
                            reason=reason,
                        )
                        proposals.append(proposal)
                        pending.append((j, proposal))
                        new_status = old
                    elif new_status == old:
                        fld, new = _field_change(rng, owner[j], target[j], prog[j])
                        action = "update"
                        before, after = (
                            {fld: {"owner": owner[j], "target_date": target[j], "progress": prog[j]}[fld]},
                            {fld: new},
                        )
                        if fld == "owner":
                            owner[j] = new
                        elif fld == "target_date":
                            target[j] = new
                        else:
                            prog[j] = new
                        reason = f"[SYNTHETIC] {fld.replace('_', ' ')} updated"
                    else:
                        lifecycle.check_transition(
                            old, new_status, reason="synthetic", evidence_count=n_evidence[j]
                        )
                        action = "reopen" if lifecycle.is_reopening(old, new_status) else "status_change"
                        before, after = {"status": old}, {"status": new_status}
                        status[j] = new_status
                        reason = f"[SYNTHETIC] moved to {new_status.replace('_', ' ')}"
                    version[j] += 1
                    before["version"], after["version"] = version[j] - 1, version[j]
                    emit(
                        actor=actor,
                        action=action,
                        record_type="recommendation",
                        record_key=key,
                        reason=reason,
                        before=before,
                        after=after,
                        status_before=old,
                        status_after=status[j],
                    )
                    last_actor[j] = actor
                    last_at[j] = recorded
            _bulk_insert(conn, _table(AuditEvent), ev_cols, batch)
            total_written += len(batch)
            say(
                f"  {total_written:,} events written; writing {len(created):,} recommendations and their evidence"
            )

            if user_rows:
                _bulk_insert(conn, _table(User), user_cols, [_model_row(u, user_cols) for u in user_rows])
            rec_cols = [c.name for c in _table(Recommendation).columns]
            key_to_id = {d.key: rec_id0 + j + 1 for j, d in enumerate(created)}
            rec_rows = []
            for j, d in enumerate(created):
                rec = Recommendation(
                    id=rec_id0 + j + 1,
                    key=d.key,
                    title=d.title,
                    summary=d.summary,
                    kind=d.kind,
                    confidence=d.confidence,
                    theme=d.theme,
                    who_must_act=d.who_must_act,
                    owner=owner[j],
                    owner_inferred=d.owner_inferred,
                    parent_id=key_to_id[d.parent_key] if d.parent_key else None,
                    primary_source_id=None,
                    status=status[j],
                    target_date=target[j],
                    progress=prog[j],
                    origin=ORIGIN,
                    version=version[j],
                    created_at=first_at[j],
                    updated_at=last_at[j],
                    updated_by=last_actor[j],
                )
                rec_rows.append(_model_row(rec, rec_cols))
                if len(rec_rows) >= BATCH:
                    _bulk_insert(conn, _table(Recommendation), rec_cols, rec_rows)
                    rec_rows = []
            _bulk_insert(conn, _table(Recommendation), rec_cols, rec_rows)
            item_cols = [c.name for c in _table(EvidenceItem).columns]
            _bulk_insert(conn, _table(EvidenceItem), item_cols, [_model_row(it, item_cols) for it in items])
            _bulk_insert(conn, _table(EvidenceLink), ["evidence_id", "recommendation_id"], links)
            file_cols = [c.name for c in _table(EvidenceFile).columns]
            file_rows = [
                _model_row(
                    EvidenceFile(
                        id=file_id0 + n,
                        evidence_id=ev_id0 + n,
                        uploaded_at=items[n - 1].created_at,
                        **files[n - 1],
                    ),
                    file_cols,
                )
                for n in range(1, len(items) + 1)
            ]
            _bulk_insert(conn, _table(EvidenceFile), file_cols, file_rows)
            closure_cols = [c.name for c in _table(ClosureProposal).columns]
            _bulk_insert(
                conn,
                _table(ClosureProposal),
                closure_cols,
                [_model_row(p, closure_cols) for p in proposals],
            )
            _fix_sequences(
                conn,
                [
                    _table(Recommendation),
                    _table(EvidenceItem),
                    _table(EvidenceFile),
                    _table(User),
                    _table(ClosureProposal),
                ],
            )
            say("committing")
    # planner statistics for the new tables, and on SQLite the large write-ahead log folded back
    with engine.connect() as conn:
        if is_sqlite(engine):
            sqlite_conn = cast(Any, conn.connection.driver_connection)
            sqlite_conn.execute("ANALYZE")
            sqlite_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            # VACUUM too: rows written by COPY are not yet marked all-visible, so until autovacuum
            # runs no index-only scan is possible
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")

    report.recommendations = len(created)
    report.events = seq - (head[0] if head else 0)
    report.evidence = len(items)
    report.head = (seq, prev)
    counts: dict[str, int] = {}
    for s in status:
        counts[s] = counts.get(s, 0) + 1
    report.by_status = counts
    return report


def _in_force(item: EvidenceItem, f: dict) -> dict:
    """An evidence item as :func:`models.rules.closure.evidence_in_force` records it in a closing event."""
    return {
        "key": item.key,
        "title": item.title,
        "observed_on": item.observed_on,
        "files": [{"name": f["filename"], "sha256": f["sha256"]}],
        "citations": [],
    }


def _pick(rng: random.Random, status: list[str], prefer: tuple[str, ...] = ()) -> int:
    """A record to act on: closed records are picked less often, preferred statuses more."""
    n = len(status)
    for _ in range(4):
        j = rng.randrange(n)
        s = status[j]
        if prefer and s not in prefer and rng.random() < 0.6:
            continue
        if s in lifecycle.CLOSED and rng.random() < 0.9:
            continue
        return j
    return rng.randrange(n)


def _next_status(rng: random.Random, old: str, evidence_count: int) -> str:
    options = [s for s in lifecycle.allowed_next(old) if s != "implemented" or evidence_count > 0]
    weights = [_REOPEN_WEIGHT if lifecycle.is_reopening(old, s) else _MOVE_WEIGHTS[s] for s in options]
    return rng.choices(options, weights)[0]


def _field_change(rng: random.Random, owner: str, target: date | None, progress: int):
    r = rng.random()
    if r < 0.6 and progress < 100:
        return "progress", min(100, progress + rng.choice((5, 10, 15, 20, 25)))
    if r < 0.8:
        return "owner", rng.choice([o for o in OFFICES if o != owner])
    base = target or date(2016, 1, 1)
    return "target_date", base + timedelta(days=rng.choice((30, 60, 90, 180, 365)))


def main_progress(msg: str) -> None:  # pragma: no cover - CLI feedback
    print(msg, file=sys.stderr, flush=True)
