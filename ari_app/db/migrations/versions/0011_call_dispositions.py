"""Agents' dispositions of calls (the code, its complaint and resolved flags as given, notes,
who gave it, and when giving it ended the agent's wrap-up): one row per agent and call, a
second one replacing the first. Beside the journey, which a finished call never gets more of.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ID = sa.String(128)
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "call_dispositions",
        sa.Column("call_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("complaint", sa.Boolean(), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("wrapup_ended_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["calls.call_id"], ondelete="CASCADE",
                                name=op.f("fk_call_dispositions_call_id_calls")),
        sa.PrimaryKeyConstraint("call_id", "agent_id", name=op.f("pk_call_dispositions")),
    )
    op.create_index(op.f("ix_call_dispositions_code"), "call_dispositions", ["code"])


def downgrade() -> None:
    op.drop_table("call_dispositions")
