"""QA records as tables; only the QA stores use them (migration 0008 builds them).

Comments, evaluations and training entries belong to a recording and go with it. Listens are an
audit: they outlive the recording and name it by id only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db.schema import ID, Base

NAME = String(128)
_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")
_RECORDING = "recordings.recording_id"


class QaCommentModel(Base):
    __tablename__ = "qa_comments"

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey(_RECORDING, ondelete="CASCADE"),
                                              index=True)
    at_s: Mapped[float] = mapped_column(Float)  # seconds from the recording's start
    text: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(NAME)
    created_at: Mapped[datetime]


class QaFormModel(Base):
    """One version of a scorecard form; never updated (a change is the next version)."""

    __tablename__ = "qa_forms"

    form_id: Mapped[str] = mapped_column(ID, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    passing_score: Mapped[float] = mapped_column(Float)
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON())
    created_by: Mapped[str] = mapped_column(NAME)
    created_at: Mapped[datetime]


class QaEvaluationModel(Base):
    """A reviewer's scorecard for one recording, with the form version it was made with."""

    __tablename__ = "qa_evaluations"
    __table_args__ = (
        ForeignKeyConstraint(["form_id", "form_version"], ["qa_forms.form_id", "qa_forms.version"]),
        Index("ix_qa_evaluations_agent_id_released_at", "agent_id", "released_at"),
    )

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey(_RECORDING, ondelete="CASCADE"),
                                              index=True)
    call_id: Mapped[str] = mapped_column(ID)
    agent_id: Mapped[str] = mapped_column(ID)
    queue_id: Mapped[str] = mapped_column(ID)
    form_id: Mapped[str] = mapped_column(ID)
    form_version: Mapped[int] = mapped_column(Integer)
    reviewer: Mapped[str] = mapped_column(NAME)
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSON())
    score: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    auto_failed: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))  # EvaluationState value
    released_by: Mapped[str | None] = mapped_column(NAME)
    released_at: Mapped[datetime | None]
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    disputed_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(NAME)
    resolved_at: Mapped[datetime | None]


class QaTrainingModel(Base):
    """A recording in the training library, and why."""

    __tablename__ = "qa_training"

    recording_id: Mapped[str] = mapped_column(ForeignKey(_RECORDING, ondelete="CASCADE"),
                                              primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(NAME)
    added_at: Mapped[datetime]


class RecordingListenModel(Base):
    """Audio served: who, when, which bytes and which seconds of which recording."""

    __tablename__ = "recording_listens"

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(NAME, index=True)
    role: Mapped[str] = mapped_column(String(16))
    recording_id: Mapped[str] = mapped_column(ID, index=True)
    status: Mapped[int] = mapped_column(Integer)  # 200 whole file, 206 a range, 416 refused
    byte_start: Mapped[int | None] = mapped_column(BigInteger)
    byte_end: Mapped[int | None] = mapped_column(BigInteger)  # inclusive
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    start_s: Mapped[float | None] = mapped_column(Float)
    end_s: Mapped[float | None] = mapped_column(Float)
    remote: Mapped[str | None] = mapped_column(String(64))


class RecordingPlayModel(Base):
    """Seconds of a recording a player reports as played (heard), beside the bytes served."""

    __tablename__ = "recording_plays"

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(NAME, index=True)
    role: Mapped[str] = mapped_column(String(16))
    recording_id: Mapped[str] = mapped_column(ID, index=True)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    remote: Mapped[str | None] = mapped_column(String(64))
