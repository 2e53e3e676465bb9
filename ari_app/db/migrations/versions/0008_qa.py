"""QA over the recordings: comments pinned to times, scorecard forms (one row per version, never
changed), evaluations (each with the form version it was made with), the training library, and
the listen audit (which bytes and seconds of which recording were served to whom).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ID = sa.String(128)
NAME = sa.String(128)
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def _of_recording(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["recording_id"], ["recordings.recording_id"],
                                   name=op.f(f"fk_{table}_recording_id_recordings"),
                                   ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "qa_comments",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("recording_id", ID, nullable=False),
        sa.Column("at_s", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("by", NAME, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _of_recording("qa_comments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_comments")),
    )
    op.create_index(op.f("ix_qa_comments_recording_id"), "qa_comments", ["recording_id"])

    op.create_table(
        "qa_forms",
        sa.Column("form_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("passing_score", sa.Float(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("created_by", NAME, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("form_id", "version", name=op.f("pk_qa_forms")),
    )

    op.create_table(
        "qa_evaluations",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("recording_id", ID, nullable=False),
        sa.Column("call_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("queue_id", ID, nullable=False),
        sa.Column("form_id", ID, nullable=False),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column("reviewer", NAME, nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("auto_failed", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("released_by", NAME, nullable=True),
        sa.Column("released_at", UTC_DATETIME, nullable=True),
        sa.Column("dispute_reason", sa.Text(), nullable=True),
        sa.Column("disputed_at", UTC_DATETIME, nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by", NAME, nullable=True),
        sa.Column("resolved_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(["form_id", "form_version"],
                                ["qa_forms.form_id", "qa_forms.version"],
                                name=op.f("fk_qa_evaluations_form_id_qa_forms")),
        _of_recording("qa_evaluations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_evaluations")),
    )
    op.create_index("ix_qa_evaluations_agent_id_released_at", "qa_evaluations",
                    ["agent_id", "released_at"])
    op.create_index(op.f("ix_qa_evaluations_recording_id"), "qa_evaluations", ["recording_id"])

    op.create_table(
        "qa_training",
        sa.Column("recording_id", ID, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("added_by", NAME, nullable=False),
        sa.Column("added_at", UTC_DATETIME, nullable=False),
        _of_recording("qa_training"),
        sa.PrimaryKeyConstraint("recording_id", name=op.f("pk_qa_training")),
    )

    op.create_table(
        "recording_listens",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("actor", NAME, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("recording_id", ID, nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("byte_start", sa.BigInteger(), nullable=True),
        sa.Column("byte_end", sa.BigInteger(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=True),
        sa.Column("end_s", sa.Float(), nullable=True),
        sa.Column("remote", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_listens")),
    )
    for column in ("actor", "at", "recording_id"):
        op.create_index(op.f(f"ix_recording_listens_{column}"), "recording_listens", [column])


def downgrade() -> None:
    for column in ("recording_id", "at", "actor"):
        op.drop_index(op.f(f"ix_recording_listens_{column}"), table_name="recording_listens")
    op.drop_table("recording_listens")
    op.drop_table("qa_training")
    op.drop_index(op.f("ix_qa_evaluations_recording_id"), table_name="qa_evaluations")
    op.drop_index("ix_qa_evaluations_agent_id_released_at", table_name="qa_evaluations")
    op.drop_table("qa_evaluations")
    op.drop_table("qa_forms")
    op.drop_index(op.f("ix_qa_comments_recording_id"), table_name="qa_comments")
    op.drop_table("qa_comments")
