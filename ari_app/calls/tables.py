"""The calls and their journey milestones as tables; only `ari_app.calls.store` uses them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db.schema import ID, Base


class CallModel(Base):
    __tablename__ = "calls"

    call_id: Mapped[str] = mapped_column(ID, primary_key=True)
    channel_id: Mapped[str] = mapped_column(ID)
    caller_number: Mapped[str] = mapped_column(String(64))
    correlation_id: Mapped[str | None] = mapped_column(ID)
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(32), index=True)  # CallOutcome value
    # Where a live call stands (ari_app.calls.checkpoint), for adoption after a restart.
    checkpoint: Mapped[dict[str, Any] | None]
    hangup_cause: Mapped[str | None] = mapped_column(String(64))
    queue_id: Mapped[str | None] = mapped_column(ID)
    agent_id: Mapped[str | None] = mapped_column(ID)


class CallEventModel(Base):
    """One journey milestone; `seq` orders a call's events (1, 2, ...)."""

    __tablename__ = "call_events"
    __table_args__ = (UniqueConstraint("call_id", "seq"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))  # JourneyType value
    t: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime]
    details: Mapped[dict[str, Any]]
