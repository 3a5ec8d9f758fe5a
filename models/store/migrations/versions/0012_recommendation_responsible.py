"""recommendation.responsible: the person answering for a record, set by a handover

The owner is an office; when its officer leaves, the successor needs the office's open records
named as theirs (and My items needs to find them). Null until a handover names someone.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("responsible", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True)
        )
        batch_op.create_index("ix_recommendation_responsible", ["responsible"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.drop_index("ix_recommendation_responsible")
        batch_op.drop_column("responsible")
