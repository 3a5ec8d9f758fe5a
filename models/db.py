"""Engines and write transactions that behave the same on SQLite and PostgreSQL.

Writers must queue rather than interleave: the audit chain has one head, and optimistic
version checks only hold if the read and the write happen under one lock. SQLite gets
``BEGIN IMMEDIATE``; PostgreSQL a transaction-scoped advisory lock.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from models.settings import get_settings

WRITE_LOCK_ID = 7_310_001  # any constant; shared by every writer of this app


def ensure_sqlite_dir(url: str) -> None:
    """A new user's first start must not fail because ``data/`` does not exist yet."""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str | None = None, **kwargs) -> Engine:
    url = url or get_settings().url
    if url.startswith("sqlite"):
        ensure_sqlite_dir(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by every test
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover
            write = conn.get_execution_options().get("rectrack_write")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction holds the app-wide write lock; commits on success."""
    with Session(engine.execution_options(rectrack_write=True), expire_on_commit=False) as session:
        if not is_sqlite(engine):
            session.exec(text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=WRITE_LOCK_ID))
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session
