"""Legal holds and the deletion audit as tables (migration 0009 builds them).

Neither has a foreign key to `recordings`: a hold's history and a deletion's audit outlive the
recording and name it by id only. At most one hold per recording is active (not lifted): a
partial unique index says so on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db.schema import ID, Base

NAME = String(128)
_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")
_ACTIVE = text("lifted_at IS NULL")


class RecordingHoldModel(Base):
    __tablename__ = "recording_holds"
    __table_args__ = (Index("uq_recording_holds_active", "recording_id", unique=True,
                            sqlite_where=_ACTIVE, postgresql_where=_ACTIVE),)

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    recording_id: Mapped[str] = mapped_column(ID, index=True)
    placed_by: Mapped[str] = mapped_column(NAME)
    placed_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    lifted_by: Mapped[str | None] = mapped_column(NAME)
    lifted_at: Mapped[datetime | None]
    lift_reason: Mapped[str | None] = mapped_column(Text)


class RecordingDeletionModel(Base):
    __tablename__ = "recording_deletions"

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(NAME, index=True)
    reason: Mapped[str] = mapped_column(Text)
    recording_id: Mapped[str] = mapped_column(ID, index=True)
    call_id: Mapped[str] = mapped_column(ID)
    queue_id: Mapped[str] = mapped_column(ID)
    agent_id: Mapped[str] = mapped_column(ID)
    started_at: Mapped[datetime]
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    file_found: Mapped[bool] = mapped_column(Boolean)
