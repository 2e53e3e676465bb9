"""Recordings and survey answers as tables; only `recordings.store` uses them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db.schema import ID, Base


class RecordingModel(Base):
    """A finished recording; deleting its call is refused until the file is dealt with."""

    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_agent_id_started_at", "agent_id", "started_at"),)

    recording_id: Mapped[str] = mapped_column(ID, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id"), index=True)
    queue_id: Mapped[str] = mapped_column(ID)
    agent_id: Mapped[str] = mapped_column(ID)
    started_at: Mapped[datetime]
    duration_s: Mapped[float] = mapped_column(Float)
    format: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    # Muted intervals (PCI), written once with the row and read only with it: a JSON list of
    # {start_s, end_s, by, reason}; NULL when none (and for rows from before migration 0006).
    mutes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))


class SurveyAnswerModel(Base):
    """At most one answer per call: the call id is the key."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        CheckConstraint("score IS NULL OR score BETWEEN 1 AND 5", name="score_range"),
    )

    call_id: Mapped[str] = mapped_column(
        ForeignKey("calls.call_id", ondelete="CASCADE"), primary_key=True
    )
    queue_id: Mapped[str | None] = mapped_column(ID)
    agent_id: Mapped[str | None] = mapped_column(ID)
    score: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime]
