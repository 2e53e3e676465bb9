"""Tables of the versioned routing configuration and its audit trail.

They share `tables.Base`'s MetaData, so migrations and the schema comparison see them; the
migration environment imports this module. Every change here needs a migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db.schema import ID, Base


class RoutingConfigVersionModel(Base):
    """One saved routing configuration; versions count up from 1 and are never changed.

    The primary key is the optimistic lock: two writers that built on the same version both
    try to insert the next number, and only one can.
    """

    __tablename__ = "routing_config_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(ID)
    comment: Mapped[str] = mapped_column(Text)
    restored_from: Mapped[int | None] = mapped_column(Integer)


class RoutingAuditModel(Base):
    """Who changed what, when: one row per changed resource or agent command."""

    __tablename__ = "routing_audit"
    __table_args__ = (Index("ix_routing_audit_path_at", "path", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(ID)
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))  # AuditAction value
    path: Mapped[str] = mapped_column(String(300))  # e.g. "agents/alice"
    before: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    after: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    # The version the change created, or the one in force for agent commands (none yet: null).
    version: Mapped[int | None] = mapped_column(
        ForeignKey("routing_config_versions.version"), index=True
    )
