"""Supervisors' monitor sessions on live calls (listen, whisper, barge): who, on which call,
agent and queue, every mode in order, when asked for, connected and ended, and how it ended.
An audit: no foreign key, it outlives the call it names.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "call_monitors",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("monitor_id", sa.String(32), nullable=False),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.String(128), nullable=True),
        sa.Column("queue_id", sa.String(128), nullable=True),
        sa.Column("endpoint", sa.String(255), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("modes", sa.JSON(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("ended_by", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_monitors")),
        sa.UniqueConstraint("monitor_id", name=op.f("uq_call_monitors_monitor_id")),
    )
    for column in ("call_id", "actor", "requested_at", "ended_at"):
        op.create_index(op.f(f"ix_call_monitors_{column}"), "call_monitors", [column])


def downgrade() -> None:
    op.drop_table("call_monitors")
