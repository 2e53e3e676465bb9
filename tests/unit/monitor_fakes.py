"""LiveMonitors in memory, over FakeLiveCalls: for HTTP tests that need monitoring to answer
(the route walk) without a call engine. The engine's own behaviour is tested against the
fake Asterisk in test_call_monitoring.py."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from ari_app.calls.monitoring.model import (
    ModeChange,
    MonitorEnd,
    MonitorMode,
    MonitorRecord,
    MonitorRefused,
    MonitorRequest,
    Refusal,
)
from tests.unit.test_calls_api import FakeLiveCalls


@dataclass
class FakeLiveMonitors:
    live: FakeLiveCalls
    sessions: dict[str, dict[str, MonitorRecord]] = field(default_factory=dict)

    async def start_monitor(self, call_id: str, request: MonitorRequest) -> MonitorRecord:
        if call_id not in self.live.journeys:
            raise MonitorRefused(Refusal.NO_SUCH_CALL, f"no live call {call_id}")
        if call_id not in self.live.talking:
            raise MonitorRefused(Refusal.NOT_TALKING, "not talking")
        now = datetime.now(UTC)
        record = MonitorRecord(f"{len(self.sessions.get(call_id, {})) + 1:x}", call_id,
                               request.actor, request.role, "alice", "claims", request.endpoint,
                               (ModeChange(request.mode, now, request.actor),), now)
        self.sessions.setdefault(call_id, {})[record.monitor_id] = record
        return record

    async def change_monitor(self, call_id: str, monitor_id: str, mode: MonitorMode,
                             by: str) -> MonitorRecord:
        record = self._find(call_id, monitor_id).with_mode(mode, datetime.now(UTC), by)
        self.sessions[call_id][monitor_id] = record
        return record

    async def end_monitor(self, call_id: str, monitor_id: str, by: str) -> MonitorRecord:
        record = self._find(call_id, monitor_id).ended(datetime.now(UTC), MonitorEnd.STOPPED, by)
        del self.sessions[call_id][monitor_id]
        return replace(record)

    def monitors(self, call_id: str) -> list[MonitorRecord] | None:
        if call_id not in self.live.journeys:
            return None
        return list(self.sessions.get(call_id, {}).values())

    def _find(self, call_id: str, monitor_id: str) -> MonitorRecord:
        record = self.sessions.get(call_id, {}).get(monitor_id)
        if record is None:
            raise MonitorRefused(Refusal.NO_SUCH_MONITOR, f"no live monitor {monitor_id}")
        return record
