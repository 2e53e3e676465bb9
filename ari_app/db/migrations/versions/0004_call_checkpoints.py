"""A call's checkpoint (where it stands: phase, IVR node, queue ticket, agent, bridge, live
recording), so a restarted service can adopt the calls the last one left in Asterisk.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("checkpoint", sa.JSON(), nullable=True))
    op.create_index("ix_calls_outcome", "calls", ["outcome"])


def downgrade() -> None:
    op.drop_index("ix_calls_outcome", table_name="calls")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("checkpoint")
