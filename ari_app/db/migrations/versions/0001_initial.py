"""Initial schema: calls and their journey events, agents, recordings, survey answers.

Names are wrapped in op.f() because they are final: the naming convention must not rewrite them.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(128)
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("caller_number", sa.String(64), nullable=False),
        sa.Column("correlation_id", ID, nullable=True),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("ended_at", UTC_DATETIME, nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("hangup_cause", sa.String(64), nullable=True),
        sa.Column("queue_id", ID, nullable=True),
        sa.Column("agent_id", ID, nullable=True),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_calls")),
    )
    op.create_index(op.f("ix_calls_started_at"), "calls", ["started_at"])

    op.create_table(
        "call_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("call_id", ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("t", sa.Float(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_events")),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.call_id"],
            name=op.f("fk_call_events_call_id_calls"), ondelete="CASCADE",
        ),
        sa.UniqueConstraint("call_id", "seq", name=op.f("uq_call_events_call_id_seq")),
    )

    op.create_table(
        "agents",
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("endpoint", sa.String(255), nullable=False),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agents")),
    )

    op.create_table(
        "recordings",
        sa.Column("recording_id", ID, nullable=False),
        sa.Column("call_id", ID, nullable=False),
        sa.Column("queue_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("recording_id", name=op.f("pk_recordings")),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.call_id"], name=op.f("fk_recordings_call_id_calls")
        ),
    )
    op.create_index(op.f("ix_recordings_call_id"), "recordings", ["call_id"])
    op.create_index(
        op.f("ix_recordings_agent_id_started_at"), "recordings", ["agent_id", "started_at"]
    )

    op.create_table(
        "survey_answers",
        sa.Column("call_id", ID, nullable=False),
        sa.Column("queue_id", ID, nullable=True),
        sa.Column("agent_id", ID, nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("answered_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_survey_answers")),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.call_id"],
            name=op.f("fk_survey_answers_call_id_calls"), ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "score IS NULL OR score BETWEEN 1 AND 5",
            name=op.f("ck_survey_answers_score_range"),
        ),
    )


def downgrade() -> None:
    op.drop_table("survey_answers")
    op.drop_index(op.f("ix_recordings_agent_id_started_at"), table_name="recordings")
    op.drop_index(op.f("ix_recordings_call_id"), table_name="recordings")
    op.drop_table("recordings")
    op.drop_table("agents")
    op.drop_table("call_events")
    op.drop_index(op.f("ix_calls_started_at"), table_name="calls")
    op.drop_table("calls")
