"""The store: SQLModel tables and the schemas beside them, engines and write/read sessions that
behave alike on SQLite and PostgreSQL, the one settings class, the controlled vocabularies, the
errors a user can act on, and the Alembic migrations (``store/migrations``).

May import: nothing else in ``models``.
"""
