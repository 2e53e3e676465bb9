"""People who log in (argon2id password hashes, roles, queue scopes), their browser sessions,
failed logins for the lockout, and the audit of recording reads.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.String(128)
NAME = sa.String(128)
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("username", NAME, nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("agent_id", ID, nullable=True),
        sa.Column("queues", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_users")),
    )

    op.create_table(
        "web_sessions",
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("username", NAME, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("last_seen_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_web_sessions")),
        sa.ForeignKeyConstraint(
            ["username"], ["users.username"],
            name=op.f("fk_web_sessions_username_users"), ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_web_sessions_username"), "web_sessions", ["username"])

    op.create_table(
        "login_failures",
        sa.Column("username", NAME, nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", UTC_DATETIME, nullable=False),
        sa.Column("locked_until", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_login_failures")),
    )

    op.create_table(
        "recording_access",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("actor", NAME, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("recording_id", ID, nullable=False),
        sa.Column("call_id", ID, nullable=True),
        sa.Column("what", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("remote", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_access")),
    )
    op.create_index(op.f("ix_recording_access_at"), "recording_access", ["at"])
    op.create_index(op.f("ix_recording_access_recording_id"), "recording_access",
                    ["recording_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_recording_access_recording_id"), table_name="recording_access")
    op.drop_index(op.f("ix_recording_access_at"), table_name="recording_access")
    op.drop_table("recording_access")
    op.drop_table("login_failures")
    op.drop_index(op.f("ix_web_sessions_username"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("users")
