"""obstacles maintained by officers, per-recommendation obstacle state, and action plan steps

Officers record obstacles (with a citation or their own evidence item), link and unlink them, and
mark one resolved or no longer blocking for one recommendation; each recommendation can hold the
steps of its action plan, from which progress is derived until an officer sets it by hand.
Existing catalog obstacles become ``origin = catalog``; existing links are ``blocking``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import models.store.tables

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "actionstep",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("office", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", models.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["evidence_id"], ["evidenceitem.id"], name=op.f("fk_actionstep_evidence_id_evidenceitem")
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendation.id"],
            name=op.f("fk_actionstep_recommendation_id_recommendation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actionstep")),
        sa.UniqueConstraint("recommendation_id", "position", name="uq_actionstep_position"),
    )
    with op.batch_alter_table("actionstep", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_actionstep_due_date"), ["due_date"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_actionstep_recommendation_id"), ["recommendation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_actionstep_status"), ["status"], unique=False)

    with op.batch_alter_table("obstacle", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "origin",
                sqlmodel.sql.sqltypes.AutoString(length=20),
                nullable=False,
                server_default="catalog",
            )
        )
        batch_op.add_column(sa.Column("evidence_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "created_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False, server_default=""
            )
        )
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_foreign_key(
            batch_op.f("fk_obstacle_evidence_id_evidenceitem"), "evidenceitem", ["evidence_id"], ["id"]
        )

    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("progress_explicit", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("recommendationobstacle", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "state",
                sqlmodel.sql.sqltypes.AutoString(length=20),
                nullable=False,
                server_default="blocking",
            )
        )
        batch_op.add_column(sa.Column("evidence_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_recommendationobstacle_state"), ["state"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_recommendationobstacle_evidence_id_evidenceitem"),
            "evidenceitem",
            ["evidence_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("recommendationobstacle", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_recommendationobstacle_evidence_id_evidenceitem"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_recommendationobstacle_state"))
        batch_op.drop_column("evidence_id")
        batch_op.drop_column("state")
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.drop_column("progress_explicit")
    with op.batch_alter_table("obstacle", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_obstacle_evidence_id_evidenceitem"), type_="foreignkey")
        batch_op.drop_column("version")
        batch_op.drop_column("created_by")
        batch_op.drop_column("evidence_id")
        batch_op.drop_column("origin")
    with op.batch_alter_table("actionstep", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actionstep_status"))
        batch_op.drop_index(batch_op.f("ix_actionstep_recommendation_id"))
        batch_op.drop_index(batch_op.f("ix_actionstep_due_date"))
    op.drop_table("actionstep")
