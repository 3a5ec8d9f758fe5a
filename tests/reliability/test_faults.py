"""Faults: a writer killed mid-transaction, a read-only store, a full disk, a lost connection.

Each test checks three things: the user gets a message that says what happened and what to
do (a :class:`models.store.errors.StorageError`, never a raw driver error), nothing already saved is
lost or changed (rows, events, evidence files; the chain and the store verify), and the store
takes writes again once the fault is gone.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import sqlite3
import tempfile
import time

import pytest
from helpers import add_account, change, event_count, make_rec, read_rec
from reliability_workers import write_then_hang
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, select

import models.rules.evidence_files
from models.rules.evidence_files import store_file
from models.rules.recommendations import attach_evidence, update_recommendation
from models.store.db import WRITE_LOCK_ID, make_engine, read_session, write_session
from models.store.errors import StorageError
from models.store.schemas import EvidenceCreate, RecommendationUpdate
from models.store.settings import get_settings
from models.store.tables import AuditEvent, User
from models.trail.verify import verify_store


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _store_ok(engine) -> None:
    with read_session(engine) as s:
        report = verify_store(s)
    assert report.ok, report.summary()


def _snapshot(engine, key: str) -> tuple:
    rec = read_rec(engine, key)
    return rec.version, rec.status, rec.owner, event_count(engine)


def _ed(session) -> User:
    return session.exec(select(User).where(User.username == "ed")).one()


# ------------------------------------------------------------------ killed writer


def _write_lock_is_held_elsewhere(engine) -> bool:
    if engine.dialect.name == "sqlite":
        con = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            return "locked" in str(e)
        else:
            con.execute("ROLLBACK")
            return False
        finally:
            con.close()
    with engine.connect() as c:
        return (
            c.execute(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                    "WHERE l.locktype = 'advisory' AND l.objid = :k AND l.granted AND d.datname = current_database()"
                ),
                {"k": WRITE_LOCK_ID},
            ).scalar()
            == 1
        )


def test_a_writer_killed_with_sigkill_before_commit_leaves_no_trace(engine, users):
    make_rec(engine, key="rec-k")
    change(engine, "rec-k", status="accepted")
    change(engine, "rec-k", status="in_progress")
    before = _snapshot(engine, "rec-k")

    ctx = multiprocessing.get_context("spawn")
    ready, errors = ctx.Event(), ctx.Queue()
    child = ctx.Process(
        target=write_then_hang, args=(_url(engine), "rec-k", "KILLED-TOKEN", ready, errors), daemon=True
    )
    child.start()
    try:
        if not ready.wait(120):
            pytest.fail(
                "the child never reached its commit:\n"
                + (errors.get(timeout=5) if not errors.empty() else "no error")
            )
        # the child is inside its write transaction, with the row changed and the event appended
        assert _write_lock_is_held_elsewhere(engine)
        os.kill(child.pid, signal.SIGKILL)
        child.join(60)
    finally:
        if child.is_alive():
            child.kill()
            child.join()
    assert child.exitcode == -signal.SIGKILL

    # PostgreSQL rolls the dead client's transaction back when its socket closes; a lock
    # timeout turns a leaked lock into a failure instead of a hang
    guard = make_engine(
        _url(engine),
        **({} if engine.dialect.name == "sqlite" else {"connect_args": {"options": "-c lock_timeout=60s"}}),
    )
    try:
        assert _snapshot(guard, "rec-k") == before
        with read_session(guard) as s:
            assert s.exec(select(AuditEvent).where(AuditEvent.reason == "about to be killed")).all() == []
            assert "KILLED-TOKEN" not in {e.after for e in s.exec(select(AuditEvent)).all()}
        _store_ok(guard)
        # and the store takes the next write: the lock died with the writer
        rec = change(guard, "rec-k", owner="after the crash")
        assert (rec.version, rec.owner) == (before[0] + 1, "after the crash")
        assert event_count(guard) == before[3] + 1
        _store_ok(guard)
    finally:
        guard.dispose()


# ------------------------------------------------------------------ read-only store


def _read_only_engine(engine):
    if engine.dialect.name == "sqlite":
        return make_engine(f"sqlite:///file:{engine.url.database}?mode=ro&uri=true")
    return make_engine(_url(engine), connect_args={"options": "-c default_transaction_read_only=on"})


def test_a_read_only_store_refuses_writes_with_a_clear_message_and_keeps_what_was_saved(
    engine, users, tmp_path, monkeypatch
):
    make_rec(engine, key="rec-ro", title="Saved before the store went read-only")
    before = _snapshot(engine, "rec-ro")
    monkeypatch.chdir(tmp_path)
    ro = _read_only_engine(engine)
    try:
        assert read_rec(ro, "rec-ro").title == "Saved before the store went read-only"  # reading still works
        with pytest.raises(
            StorageError, match=r"^the store is read-only: nothing was saved\. Ask the administrator"
        ):
            with write_session(ro) as s:
                update_recommendation(
                    s,
                    key="rec-ro",
                    actor=_ed(s),
                    change=RecommendationUpdate(expected_version=1, owner="J5", reason="reassigned"),
                )
        with pytest.raises(StorageError, match="read-only"):
            make_rec(ro, key="rec-new")
    finally:
        ro.dispose()
    assert not list(tmp_path.glob("file:*"))  # a URI filename makes no stray folder in the working directory
    assert _snapshot(engine, "rec-ro") == before
    _store_ok(engine)
    assert change(engine, "rec-ro", owner="J5").version == 2  # writable again through a normal engine


# ------------------------------------------------------------------ full disk


def _size_capped_sqlite(path: str):
    """A SQLite engine that may not grow the file: what a full disk looks like to SQLite."""
    capped = make_engine(f"sqlite:///{path}")

    @event.listens_for(capped, "connect")
    def _cap(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        pages = cur.execute("PRAGMA page_count").fetchone()[0]
        cur.execute(f"PRAGMA max_page_count={pages}")
        cur.close()

    return capped


def test_a_full_sqlite_store_refuses_the_write_clearly_and_keeps_what_was_saved(tmp_path):
    path = str(tmp_path / "store.db")
    engine = make_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    with write_session(engine) as s:
        add_account(s, "ed", "editor")
    make_rec(engine, key="rec-saved", summary="kept " * 100)
    before = _snapshot(engine, "rec-saved")

    capped = _size_capped_sqlite(path)
    try:
        with pytest.raises(StorageError) as refused:
            make_rec(capped, key="rec-big", summary="x" * 20_000)
        assert str(refused.value).startswith(
            "the disk holding the store is full (or the store reached its size limit): nothing was saved. Free some space"
        )
        assert "(database or disk is full)" in str(refused.value)
        with pytest.raises(StorageError, match="is full"):  # and again: the refusal is not a one-off
            make_rec(capped, key="rec-big-2", summary="y" * 20_000)
    finally:
        capped.dispose()

    assert _snapshot(engine, "rec-saved") == before
    with read_session(engine) as s:
        keys = s.exec(select(AuditEvent.record_key).order_by(AuditEvent.seq)).all()
    assert keys[0].startswith("os:") and keys[1:] == ["ed", "rec-saved"]  # the operator who added ed first
    _store_ok(engine)
    # space freed: the same write now succeeds
    assert make_rec(engine, key="rec-big", summary="x" * 20_000).version == 1
    _store_ok(engine)
    engine.dispose()


def _mkstemp_on_a_full_disk(monkeypatch) -> None:
    """The evidence store's temp file writes to /dev/full, so every write fails with ENOSPC from the kernel."""
    real = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        fd, path = real(*args, **kwargs)
        os.close(fd)
        return os.open("/dev/full", os.O_WRONLY), path

    monkeypatch.setattr(models.rules.evidence_files.tempfile, "mkstemp", mkstemp)


def test_a_full_disk_while_storing_evidence_is_a_clear_error_and_keeps_what_was_saved(
    engine, users, monkeypatch
):
    make_rec(engine, key="rec-ev")
    saved = store_file(io.BytesIO(b"first report, stored fine"), "report.txt")
    with write_session(engine) as s:
        attach_evidence(
            s,
            keys=["rec-ev"],
            evidence=EvidenceCreate(title="First report"),
            actor=_ed(s),
            reason="the first report",
            files=[saved],
        )
    events = event_count(engine)
    evidence_dir = get_settings().evidence_dir
    files_before = sorted(p.relative_to(evidence_dir) for p in evidence_dir.rglob("*"))

    _mkstemp_on_a_full_disk(monkeypatch)
    with pytest.raises(StorageError) as refused:
        store_file(io.BytesIO(b"%PDF-" + b"x" * (3 * 1024 * 1024)), "second report.pdf")
    assert str(refused.value) == (
        "the disk holding the evidence files is full: 'second report.pdf' was not stored and nothing was saved. "
        "Free some space, or ask the administrator to, and attach it again (No space left on device)"
    )
    monkeypatch.undo()

    # no partial upload left behind, the first file intact, nothing written to the database
    assert sorted(p.relative_to(evidence_dir) for p in evidence_dir.rglob("*")) == files_before
    assert event_count(engine) == events
    _store_ok(engine)  # includes re-hashing the stored evidence file
    # space freed: the upload goes through
    again = store_file(io.BytesIO(b"%PDF-" + b"x" * (3 * 1024 * 1024)), "second report.pdf")
    assert again["size_bytes"] == 5 + 3 * 1024 * 1024


# ------------------------------------------------------------------ the database goes away (PostgreSQL)


@pytest.fixture
def pg_store(pg_database):
    """A PostgreSQL database of its own, so terminating its connections disturbs no other test."""
    url = pg_database()
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    with write_session(engine) as s:
        add_account(s, "ed", "editor")
    make_rec(engine, key="rec-pg")
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    yield engine, admin, make_url(url).database
    engine.dispose()
    admin.dispose()


def _terminate(admin, dbname: str, pid: int | None = None) -> int:
    """Terminate the store's server connections (or one) and wait until they are gone."""
    where = "datname = :d AND pid <> pg_backend_pid()" + (" AND pid = :p" if pid else "")
    with admin.connect() as c:
        killed = sum(
            1
            for (ok,) in c.execute(
                text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {where}"),
                {"d": dbname, "p": pid},
            )
            if ok
        )
        for _ in range(200):
            if not c.execute(
                text(f"SELECT count(*) FROM pg_stat_activity WHERE {where}"), {"d": dbname, "p": pid}
            ).scalar():
                return killed
            time.sleep(0.05)
    raise AssertionError("the terminated connections did not go away")


def test_connections_dropped_between_operations_are_replaced_transparently(pg_store):
    engine, admin, dbname = pg_store
    change(engine, "rec-pg", owner="before the drop")
    assert _terminate(admin, dbname) >= 1  # the pooled connection is dead now
    rec = change(engine, "rec-pg", owner="after the drop")  # pool_pre_ping notices and reconnects
    assert (rec.version, rec.owner) == (3, "after the drop")
    assert read_rec(engine, "rec-pg").owner == "after the drop"
    _store_ok(engine)


def test_a_connection_lost_mid_transaction_is_a_clear_error_and_the_next_write_succeeds(pg_store):
    engine, admin, dbname = pg_store
    before = _snapshot(engine, "rec-pg")
    with pytest.raises(StorageError) as refused:
        with write_session(engine) as s:
            update_recommendation(
                s,
                key="rec-pg",
                actor=_ed(s),
                change=RecommendationUpdate(expected_version=1, owner="LOST", reason="lost"),
            )
            _terminate(admin, dbname)
            update_recommendation(
                s,
                key="rec-pg",
                actor=_ed(s),
                change=RecommendationUpdate(expected_version=2, progress=10, reason="lost too"),
            )
    assert str(refused.value).startswith(
        "the connection to the database was lost: nothing was saved. Try again in a moment; if it keeps failing, "
        "check that the database server is running ("
    )
    assert _snapshot(engine, "rec-pg") == before  # the half-done transaction was rolled back by the server
    rec = change(engine, "rec-pg", owner="retried")
    assert (rec.version, rec.owner) == (2, "retried")
    _store_ok(engine)


def test_a_connection_lost_during_commit_says_the_outcome_is_unknown_and_the_store_stays_consistent(pg_store):
    engine, admin, dbname = pg_store
    before = _snapshot(engine, "rec-pg")
    state: dict = {}

    def drop_before_commit(session):
        if "pid" in state:
            _terminate(admin, dbname, state["pid"])

    event.listen(Session, "before_commit", drop_before_commit)
    try:
        with pytest.raises(StorageError) as refused:
            with write_session(engine) as s:
                update_recommendation(
                    s,
                    key="rec-pg",
                    actor=_ed(s),
                    change=RecommendationUpdate(expected_version=1, owner="MAYBE", reason="maybe"),
                )
                state["pid"] = s.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
    finally:
        event.remove(Session, "before_commit", drop_before_commit)
    assert str(refused.value).startswith(
        "the connection to the database was lost while saving: the change may or may not have been saved. "
        "Reload the record and check before trying again ("
    )
    # whichever way it went, the row and the trail agree and the chain holds
    after = _snapshot(engine, "rec-pg")
    assert after in (before, (2, "proposed", "MAYBE", before[3] + 1))
    _store_ok(engine)
    assert change(engine, "rec-pg", owner="checked and retried").version == after[0] + 1
