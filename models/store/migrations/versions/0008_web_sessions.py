"""web sessions: signed-in browsers (hashed one-time claim code and cookie token)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import models.store.tables

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    ts = models.store.tables.UTCDateTime(timezone=True)
    op.create_table(
        "websession",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("claim_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("claim_expires_at", ts, nullable=True),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("last_seen_at", ts, nullable=False),
        sa.Column("expires_at", ts, nullable=False),
        sa.Column("ended_at", ts, nullable=True),
        sa.Column("ended_why", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("client", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_websession")),
        sa.UniqueConstraint("claim_hash", name=op.f("uq_websession_claim_hash")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_websession_token_hash")),
    )
    with op.batch_alter_table("websession", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_websession_username"), ["username"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("websession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_websession_username"))
    op.drop_table("websession")
