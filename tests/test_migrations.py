"""Alembic owns real stores' schemas: the migrations must build exactly what the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models.store.db import make_engine
from models.store.tables import metadata
from models.store.upgrade import upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mig.db'}"
    return request.getfixturevalue("pg_database")()


def test_upgrade_builds_the_schema_the_models_describe(fresh_url):
    upgrade(fresh_url)
    upgrade(fresh_url)  # a second upgrade is a no-op
    engine = make_engine(fresh_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"
