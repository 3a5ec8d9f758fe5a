"""watches, notifications and notification preferences

A user watches a recommendation, an owner office or an obstacle; every change to what they watch
(or to what their office owns) becomes a notification row written in the change's transaction,
mailed later by ``rectrack notify send`` immediately or in a daily digest, as each user prefers.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import models.store.tables

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", models.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", models.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("mail", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("mailed_at", models.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_notification_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("user_id", "event_seq", name="uq_notification_user_event"),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_mail", ["mail", "user_id"], unique=False)
        batch_op.create_index("ix_notification_unread", ["user_id", "read_at"], unique=False)

    op.create_table(
        "notificationpreference",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("own_office", sa.Boolean(), nullable=False),
        sa.Column("digest_sent_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_notificationpreference_user_id_user")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notificationpreference")),
    )
    op.create_table(
        "watch",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_at", models.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_watch_user_id_user")),
        sa.PrimaryKeyConstraint("user_id", "kind", "target", name=op.f("pk_watch")),
    )
    with op.batch_alter_table("watch", schema=None) as batch_op:
        batch_op.create_index("ix_watch_target", ["kind", "target"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("watch", schema=None) as batch_op:
        batch_op.drop_index("ix_watch_target")
    op.drop_table("watch")
    op.drop_table("notificationpreference")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_unread")
        batch_op.drop_index("ix_notification_mail")
    op.drop_table("notification")
