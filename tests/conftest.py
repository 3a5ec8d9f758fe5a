"""Fixtures: every store test runs on SQLite and on a real PostgreSQL server.

PostgreSQL gets a fresh database per test run (dropped at the end); each test then starts
from empty tables. SQLite gets a new file per test. A PostgreSQL server that is down fails
the run loudly: `.ci/run` starts one, and a skipped database would only look green.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

import models.store.tables  # noqa: F401
from models.rules.users import add_user, operator_user
from models.store.db import make_engine, write_session
from models.store.schemas import UserCreate
from models.store.settings import get_settings

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("RECTRACK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def pg_database():
    """Make fresh PostgreSQL databases for this run; all are dropped at the end."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"rectrack_test_{uuid.uuid4().hex[:10]}"
        try:
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as e:  # pragma: no cover - environment problem, reported clearly
            pytest.fail(
                f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({e}); start it (see README) and rerun"
            )
        made.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    yield make
    with admin.connect() as c:
        for name in made:
            c.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                )
            )
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_url(pg_database):
    return pg_database()


@pytest.fixture(scope="session")
def pg_engine(pg_url):
    engine = make_engine(pg_url)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _truncate_pg(engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as c:
        c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Each test gets its own data dir (evidence files, SQLite file) and fresh settings."""
    monkeypatch.setenv("RECTRACK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
        SQLModel.metadata.create_all(eng)
        yield eng
        eng.dispose()
    else:
        eng = request.getfixturevalue("pg_engine")
        _truncate_pg(eng)
        yield eng


@pytest.fixture
def users(engine):
    """One account per role, plus an editor scoped to one office, each added by the catalog loader
    through ``add_user`` as an install's first accounts are, so the store verifies (state replay)."""
    with write_session(engine) as s:
        actor = operator_user(s)
        made = {}
        for name, role, office in [
            ("ed", "editor", None),
            ("ed2", "editor", None),
            ("vic", "viewer", None),
            ("aud", "auditor", None),
            ("adm", "admin", None),
            ("scoped", "editor", "OSD Policy"),
        ]:
            made[name] = add_user(s, data=UserCreate(username=name, role=role, office=office), actor=actor)
    return made


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free 127.0.0.1 port: (port, the envelopes it received)."""
    import socket

    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()
