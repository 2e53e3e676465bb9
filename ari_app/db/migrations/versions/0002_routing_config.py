"""Routing configuration versions and their audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.String(128)
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "routing_config_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("created_by", ID, nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_routing_config_versions")),
    )

    op.create_table(
        "routing_audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("actor", ID, nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("path", sa.String(300), nullable=False),
        sa.Column("before", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("after", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_audit")),
        sa.ForeignKeyConstraint(
            ["version"], ["routing_config_versions.version"],
            name=op.f("fk_routing_audit_version_routing_config_versions"),
        ),
    )
    op.create_index(op.f("ix_routing_audit_at"), "routing_audit", ["at"])
    op.create_index(op.f("ix_routing_audit_version"), "routing_audit", ["version"])
    op.create_index(op.f("ix_routing_audit_path_at"), "routing_audit", ["path", "at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_routing_audit_path_at"), table_name="routing_audit")
    op.drop_index(op.f("ix_routing_audit_version"), table_name="routing_audit")
    op.drop_index(op.f("ix_routing_audit_at"), table_name="routing_audit")
    op.drop_table("routing_audit")
    op.drop_table("routing_config_versions")
