"""The recording reconcile (recordings.reconcile) in the running service: once after the
last run's calls were adopted, then every `every_s`, over the calls table."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog

from ari_app.calls.record import CallOutcome
from ari_app.calls.store import CallStore
from kernel.db.errors import DatabaseError, DatabaseUnavailable
from recordings.lifecycle import RecordingPaths
from recordings.reconcile import (
    CallFacts,
    ReconcileReport,
    RecordingIndex,
    reconcile_recordings,
    recording_call_id,
)

log = structlog.get_logger(__name__)

LOOK_BACK = timedelta(days=1)  # rows and answered calls checked on each pass


class CallFactsOverStore:
    """recordings.reconcile.CallsPort over the calls table."""

    def __init__(self, calls: CallStore) -> None:
        self._calls = calls

    async def facts(self, call_id: str) -> CallFacts | None:
        record = await self._calls.get(call_id)
        if record is None:
            return None
        return CallFacts(call_id, record.outcome is not CallOutcome.IN_PROGRESS,
                         record.queue_id, record.agent_id, record.started_at)

    async def answered_since(self, since: datetime) -> list[str]:
        return await self._calls.answered_since(since)


async def audit_recordings(paths: RecordingPaths, index: RecordingIndex, calls: CallStore,
                           live_calls: Callable[[], set[str]]) -> ReconcileReport | None:
    """One pass; a recording of a call still live here is never touched. None when the
    database is away (the next pass tries again)."""
    def is_live(name: str) -> bool:
        return recording_call_id(name) in live_calls()

    try:
        return await reconcile_recordings(paths, index, CallFactsOverStore(calls),
                                          is_live=is_live, since=datetime.now(UTC) - LOOK_BACK)
    except (DatabaseUnavailable, DatabaseError) as exc:
        log.warning("recording.reconcile.deferred", error=str(exc))
        return None


async def audit_recordings_every(every_s: float, paths: RecordingPaths, index: RecordingIndex,
                                 calls: CallStore, live_calls: Callable[[], set[str]],
                                 ready: asyncio.Event) -> None:
    """First after adoption (`ready`), then every `every_s`."""
    await ready.wait()
    while True:
        await audit_recordings(paths, index, calls, live_calls)
        await asyncio.sleep(every_s)
