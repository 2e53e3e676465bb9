"""The monitor audit: every session, kept as it goes (opened, connected, each mode, ended) and
read by auditors and admins, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from ari_app.calls.monitoring.model import ModeChange, MonitorEnd, MonitorMode, MonitorRecord
from ari_app.calls.monitoring.tables import CallMonitorModel
from kernel.db.unit import Units, key

M = CallMonitorModel


@dataclass(frozen=True, slots=True)
class MonitorQuery:
    """`GET /v1/audit/monitors`: sessions requested in [start, end), by actor or call."""

    limit: int = 100
    offset: int = 0
    start: datetime | None = None
    end: datetime | None = None
    actor: str | None = None
    call_id: str | None = None


class MonitorStore:
    """ari_app.calls.monitoring.model.MonitorAudit over the `call_monitors` table."""

    def __init__(self, units: Units) -> None:
        self._units = units

    async def opened(self, record: MonitorRecord) -> None:
        async with self._units.begin("call_monitors", key("monitor_id", record.monitor_id)) as s:
            s.add(M(**_values(record)))

    async def save(self, record: MonitorRecord) -> None:
        async with self._units.begin("call_monitors", key("monitor_id", record.monitor_id)) as s:
            await s.execute(update(M).where(M.monitor_id == record.monitor_id)
                            .values(**_values(record)))

    async def close_open(self, at: datetime, reason: MonitorEnd) -> list[MonitorRecord]:
        async with self._units.begin("call_monitors", "open") as s:
            rows = list(await s.scalars(select(M).where(M.ended_at.is_(None)).order_by(M.id)))
            for row in rows:
                row.ended_at, row.end_reason = at, str(reason)
            return [_record(row) for row in rows]

    async def find(self, q: MonitorQuery) -> list[tuple[int, MonitorRecord]]:
        """The page asked for, newest first, each with its row id."""
        where = []
        if q.start is not None:
            where.append(M.requested_at >= q.start)
        if q.end is not None:
            where.append(M.requested_at < q.end)
        if q.actor is not None:
            where.append(M.actor == q.actor)
        if q.call_id is not None:
            where.append(M.call_id == q.call_id)
        async with self._units.begin("call_monitors", f"page {q.offset}+{q.limit}") as s:
            rows = await s.scalars(select(M).where(*where).order_by(M.id.desc())
                                   .offset(q.offset).limit(q.limit))
            return [(row.id, _record(row)) for row in rows]


def _values(r: MonitorRecord) -> dict[str, Any]:
    return {"monitor_id": r.monitor_id, "call_id": r.call_id, "actor": r.actor, "role": r.role,
            "agent_id": r.agent_id, "queue_id": r.queue_id, "endpoint": r.endpoint,
            "mode": str(r.mode), "modes": [_mode_json(m) for m in r.modes],
            "requested_at": r.requested_at, "connected_at": r.connected_at,
            "ended_at": r.ended_at, "ended_by": r.ended_by,
            "end_reason": str(r.end_reason) if r.end_reason is not None else None}


def _mode_json(change: ModeChange) -> dict[str, Any]:
    return {"mode": str(change.mode), "at": change.at.isoformat(), "by": change.by}


def _record(row: CallMonitorModel) -> MonitorRecord:
    return MonitorRecord(
        monitor_id=row.monitor_id, call_id=row.call_id, actor=row.actor, role=row.role,
        agent_id=row.agent_id, queue_id=row.queue_id, endpoint=row.endpoint,
        modes=tuple(ModeChange(MonitorMode(m["mode"]), datetime.fromisoformat(m["at"]),
                               str(m["by"])) for m in row.modes),
        requested_at=row.requested_at, connected_at=row.connected_at, ended_at=row.ended_at,
        end_reason=MonitorEnd(row.end_reason) if row.end_reason else None,
        ended_by=row.ended_by)

