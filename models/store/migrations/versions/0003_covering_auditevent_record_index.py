"""cover effective_at and status_after in ix_auditevent_record

The as-of status of every record (``history.latest_status_subquery``), the overview's stale
count, the version check in ``verify_store`` and ``rules.records.stale_version`` read only these
columns of the trail, so with them in the index they no longer visit the table row by row.
Same leading columns, so every query that used the old index still can.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_index("ix_auditevent_record")
        batch_op.create_index(
            "ix_auditevent_record",
            ["record_type", "record_key", "seq", "effective_at", "status_after"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_index("ix_auditevent_record")
        batch_op.create_index("ix_auditevent_record", ["record_type", "record_key", "seq"], unique=False)
