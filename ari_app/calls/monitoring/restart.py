"""After a restart: monitor sessions are never taken over. The last run's phones and snoops
are channels of ours that no resumed call claims, so adoption hangs them up with the other
leftovers (`adoption._clear_leftovers`), and their bridges go with the call's prefix. What is
left to do here is the audit: every session still open is closed as ended by the restart, and
a call that goes on gets the end in its journey."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import structlog

from ari_app.calls.monitoring.model import MonitorAudit, MonitorEnd
from ari_app.calls.record import CallRecord
from ari_app.calls.store import CallStore
from ivr.journey import JourneyEvent, JourneyType

log = structlog.get_logger(__name__)


async def close_stale_monitors(audit: MonitorAudit, store: CallStore,
                               unfinished: Mapping[str, CallRecord]) -> int:
    """Close the sessions the last run left open; returns how many. Database errors are the
    caller's (adoption retries)."""
    now = datetime.now(UTC)
    closed = await audit.close_open(now, MonitorEnd.SERVICE_RESTART)
    events = [JourneyEvent(
        call_id=r.call_id, type=JourneyType.MONITOR,
        t=(now - unfinished[r.call_id].started_at).total_seconds(), at=now,
        details={"action": "ended", "monitor_id": r.monitor_id, "mode": str(r.mode),
                 "agent": r.agent_id, "by": r.actor, "reason": str(MonitorEnd.SERVICE_RESTART)})
        for r in closed if r.call_id in unfinished and r.connected_at is not None]
    await store.append_events(events)
    if closed:
        log.warning("adoption.monitors_closed", monitors=len(closed))
    return len(closed)
