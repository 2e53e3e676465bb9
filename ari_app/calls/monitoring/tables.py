"""Monitor sessions as a table; only `audit.MonitorStore` uses it (its migration builds it).

An audit: no foreign key to the call, so a session's row outlives whatever it names. `modes`
holds every mode in order, each with when and by whom (`[{mode, at, by}]`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db.schema import ID, Base

NAME = String(128)


class CallMonitorModel(Base):
    __tablename__ = "call_monitors"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True)
    monitor_id: Mapped[str] = mapped_column(String(32), unique=True)
    call_id: Mapped[str] = mapped_column(ID, index=True)
    actor: Mapped[str] = mapped_column(NAME, index=True)
    role: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(ID)
    queue_id: Mapped[str | None] = mapped_column(ID)
    endpoint: Mapped[str] = mapped_column(String(255))
    mode: Mapped[str] = mapped_column(String(16))  # the last one
    modes: Mapped[list[dict[str, Any]]] = mapped_column(JSON())
    requested_at: Mapped[datetime] = mapped_column(index=True)
    connected_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    ended_by: Mapped[str | None] = mapped_column(NAME)
