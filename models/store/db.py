"""Engines and write transactions that behave the same on SQLite and PostgreSQL.

Writers must queue rather than interleave: the audit chain has one head, and optimistic
version checks only hold if the read and the write happen under one lock. SQLite gets
``BEGIN IMMEDIATE``; PostgreSQL a transaction-scoped advisory lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, create_engine, select
from sqlmodel.sql.expression import Select

from models.store.errors import StorageError
from models.store.settings import get_settings

WRITE_LOCK_ID = 7_310_001  # any constant; shared by every writer of this app


def ensure_sqlite_dir(url: str) -> None:
    """A new user's first start must not fail because ``data/`` does not exist yet."""
    path = url.removeprefix("sqlite:///")
    if url.startswith("sqlite:///") and ":memory:" not in url and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)


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


_LOST_CONNECTION_STATES = ("08", "57P01", "57P02", "57P03")  # connection exceptions, admin/crash shutdown


def storage_error(e: DBAPIError, *, during_commit: bool = False) -> StorageError | None:
    """The user-facing refusal for a store that cannot take writes, or None for other errors."""
    if isinstance(e, IntegrityError):
        return None
    orig = getattr(e, "orig", None)
    cause = (str(orig or e).strip().splitlines() or [""])[0]
    low = cause.lower()
    state = getattr(orig, "sqlstate", None) or ""
    if "database or disk is full" in low or "no space left" in low or state.startswith("53"):
        what = (
            "the disk holding the store is full (or the store reached its size limit): nothing was saved. "
            "Free some space, or ask the administrator to, and try again"
        )
    elif "readonly database" in low or state == "25006":
        what = (
            "the store is read-only: nothing was saved. Ask the administrator to make the database writable, "
            "then try again"
        )
    elif e.connection_invalidated or state.startswith(_LOST_CONNECTION_STATES):
        what = (
            "the connection to the database was lost while saving: the change may or may not have been saved. "
            "Reload the record and check before trying again"
            if during_commit
            else "the connection to the database was lost: nothing was saved. Try again in a moment; if it keeps "
            "failing, check that the database server is running"
        )
    elif "database is locked" in low:
        what = "the store is busy with another writer: nothing was saved. Try again in a moment"
    else:
        return None
    return StorageError(f"{what} ({cause})")


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction holds the app-wide write lock; commits on success.

    A store that cannot take the write (disk full, read-only, connection lost) raises
    :class:`models.store.errors.StorageError` with a message a user can act on."""
    with Session(engine.execution_options(rectrack_write=True), expire_on_commit=False) as session:
        committing = False
        try:
            if not is_sqlite(engine):
                session.execute(text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=WRITE_LOCK_ID))
            yield session
            committing = True
            session.commit()
        except DBAPIError as e:
            try:
                session.rollback()
            except DBAPIError:  # the connection is gone: the server has already dropped the transaction
                pass
            translated = storage_error(e, during_commit=committing)
            if translated is None:
                raise
            raise translated from e
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def select_row(*columns: Any) -> Select[*tuple[Any, ...]]:
    """``sqlmodel.select`` for rows of five or more columns, which its typed overloads (four at
    most) do not cover; the statement is the same one ``select`` builds."""
    return select(*columns)
