"""Opening a store and bringing its schema up to date.

Alembic owns the schema of every real store; ``create_all`` is only for tests that want
a throwaway database quickly.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from models.store.db import ensure_sqlite_dir
from models.store.settings import get_settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    url = url or get_settings().url
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("recommendation")
