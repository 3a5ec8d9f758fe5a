"""office register: the offices a recommendation's owner must name

``Recommendation.owner`` keeps holding the owner's name, now the canonical name of a row here, so
existing reads, filters and charts keep working; the catalog loader and an admin fill the register.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import models.store.tables

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "office",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_at", models.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office")),
        sa.UniqueConstraint("name", name=op.f("uq_office_name")),
    )
    with op.batch_alter_table("office", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_office_key"), ["key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("office", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_office_key"))
    op.drop_table("office")
