"""priority flag and "what it takes to close" on recommendations

Leadership's headline panel lists the priority recommendations first, each with the owner's
short statement of what it takes to close it. Who set the flag, when and why is read from the
trail (the flag changes through the one write path like every other field).

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(
            sa.Column("close_plan", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True)
        )
        batch_op.create_index("ix_recommendation_priority", ["priority"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.drop_index("ix_recommendation_priority")
        batch_op.drop_column("close_plan")
        batch_op.drop_column("priority")
