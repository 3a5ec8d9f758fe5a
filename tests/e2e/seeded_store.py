"""Build a store for dashboard tests: migrated with Alembic, optionally seeded with the catalog,
with one account per role, added through the domain function that records them."""

from __future__ import annotations

from pathlib import Path

from models.catalog.checks import load_catalog
from models.catalog.loader import seed_catalog
from models.rules.auth import create_user
from models.rules.users import operator_user
from models.store.db import make_engine, write_session
from models.store.upgrade import upgrade

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
NORTHCOM = "U.S. Northern Command"  # owns several seeded recommendations (the register's spelling)
ROLES = {
    "vic": ("viewer", None),
    "ed": ("editor", None),
    "aud": ("auditor", None),
    "adm": ("admin", None),
    "scoped": ("editor", "Nobody's Office"),
    "nc": ("editor", NORTHCOM),
}


def add_users(url: str, with_passwords: bool = False) -> None:
    """The accounts are added through ``create_user`` (so each has its ``user_add`` event and the
    store verifies), with the shared password or none."""
    engine = make_engine(url)
    with write_session(engine) as s:
        actor = operator_user(s)
        for name, (role, office) in ROLES.items():
            create_user(
                s,
                username=name,
                role=role,
                password=PASSWORD if with_passwords else None,
                actor=actor,
                office=office,
                display_name=name.capitalize(),
            )
    engine.dispose()


def build_store(path: Path, *, seeded: bool = True, with_passwords: bool = False) -> str:
    url = f"sqlite:///{path}"
    upgrade(url)
    if seeded:
        engine = make_engine(url)
        catalog = load_catalog(REPO / "seeds")
        with write_session(engine) as s:
            seed_catalog(s, catalog=catalog, actor=operator_user(s))
        engine.dispose()
    add_users(url, with_passwords=with_passwords)
    return url
