"""The knowledge editors' loop: questions self-service could not answer (or answered, and the
caller said no) with the call around them, and the editors' changes to the embedded FAQ, applied
over the bundled file in the order they were made.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.String(128)
NAME = sa.String(128)
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "caller_questions",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("call_id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.Column("intent", ID, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("offered_item_id", ID, nullable=True),
        sa.Column("offered_answer", sa.Text(), nullable=True),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("handled_by", NAME, nullable=True),
        sa.Column("handled_at", UTC_DATETIME, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("faq_item_id", ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caller_questions")),
    )
    for column in ("at", "call_id", "state"):
        op.create_index(op.f(f"ix_caller_questions_{column}"), "caller_questions", [column])

    op.create_table(
        "faq_edits",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", ID, nullable=False),
        sa.Column("answer_spoken", sa.Text(), nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=False),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("by", NAME, nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("question_id", ROW_ID, nullable=True),
        sa.ForeignKeyConstraint(["question_id"], ["caller_questions.id"],
                                name=op.f("fk_faq_edits_question_id_caller_questions"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_edits")),
    )


def downgrade() -> None:
    op.drop_table("faq_edits")
    for column in ("state", "call_id", "at"):
        op.drop_index(op.f(f"ix_caller_questions_{column}"), table_name="caller_questions")
    op.drop_table("caller_questions")
