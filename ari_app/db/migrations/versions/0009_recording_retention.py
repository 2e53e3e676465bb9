"""Recording retention: legal holds (one row per hold, placed and lifted, at most one active per
recording) and the deletion audit. Neither refers to `recordings` by foreign key: both outlive
the recording they name.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.String(128)
NAME = sa.String(128)
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)
ACTIVE = sa.text("lifted_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "recording_holds",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("recording_id", ID, nullable=False),
        sa.Column("placed_by", NAME, nullable=False),
        sa.Column("placed_at", UTC_DATETIME, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("lifted_by", NAME, nullable=True),
        sa.Column("lifted_at", UTC_DATETIME, nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_holds")),
    )
    op.create_index(op.f("ix_recording_holds_recording_id"), "recording_holds",
                    ["recording_id"])
    op.create_index("uq_recording_holds_active", "recording_holds", ["recording_id"],
                    unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE)

    op.create_table(
        "recording_deletions",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("actor", NAME, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recording_id", ID, nullable=False),
        sa.Column("call_id", ID, nullable=False),
        sa.Column("queue_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("file_found", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_deletions")),
    )
    for column in ("actor", "at", "recording_id"):
        op.create_index(op.f(f"ix_recording_deletions_{column}"), "recording_deletions",
                        [column])


def downgrade() -> None:
    for column in ("recording_id", "at", "actor"):
        op.drop_index(op.f(f"ix_recording_deletions_{column}"), table_name="recording_deletions")
    op.drop_table("recording_deletions")
    op.drop_index("uq_recording_holds_active", table_name="recording_holds")
    op.drop_index(op.f("ix_recording_holds_recording_id"), table_name="recording_holds")
    op.drop_table("recording_holds")
