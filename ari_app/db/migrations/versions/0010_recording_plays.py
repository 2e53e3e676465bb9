"""What players report as played: the seconds heard, beside the listen audit's bytes served
(a player that buffers a short file is served all of it at once). An audit: no foreign key, it
outlives the recording it names.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "recording_plays",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("recording_id", sa.String(128), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("remote", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_plays")),
    )
    for column in ("at", "actor", "recording_id"):
        op.create_index(op.f(f"ix_recording_plays_{column}"), "recording_plays", [column])


def downgrade() -> None:
    op.drop_table("recording_plays")
