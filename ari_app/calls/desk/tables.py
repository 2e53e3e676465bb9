"""Dispositions as a table; `store.py` and the KPI reports' reads use it (migration 0011).

One row per agent and call (the primary key): a second disposition replaces the first. Kept
apart from the journey: a finished call's journey is never appended to.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db.schema import ID, Base

NAME = String(128)


class CallDispositionModel(Base):
    __tablename__ = "call_dispositions"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id", ondelete="CASCADE"),
                                         primary_key=True)
    agent_id: Mapped[str] = mapped_column(ID, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    complaint: Mapped[bool] = mapped_column(Boolean)
    resolved: Mapped[bool | None] = mapped_column(Boolean)
    notes: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(NAME)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    wrapup_ended_at: Mapped[datetime | None]
