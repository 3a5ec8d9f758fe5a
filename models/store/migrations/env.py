"""Alembic environment: the URL comes from the app's settings unless the caller set one."""

from alembic import context
from sqlalchemy import engine_from_config, pool

import models.store.tables  # noqa: F401  (registers every table on the metadata)
from models.store.settings import get_settings
from models.store.tables import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().url


def run_migrations_offline() -> None:
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        compare_type=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            compare_type=True,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
