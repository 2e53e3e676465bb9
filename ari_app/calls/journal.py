"""A call's journey: streamed live to the hub, written to the database at its own pace.

A database outage never holds up the caller: events wait in memory and are retried with
backoff; the final write at the end of the call retries for a bounded time, then logs what
could not be saved.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import structlog

from ari_app.calls.checkpoint import Checkpoint
from ari_app.calls.group_commit import BATCH_S, Batch, GroupCommit
from ari_app.calls.hub import EventHub
from ari_app.calls.record import CallRecord
from ari_app.calls.store import CallStore
from ivr.journey import JourneyEvent, JourneyType
from kernel.backoff import Backoff
from kernel.db.errors import DatabaseUnavailable

log = structlog.get_logger(__name__)

# Starts background work in the call's task group (`CallTasks.spawn`); None once it closed.
Spawn = Callable[[Callable[[], Coroutine[Any, Any, None]], str], "asyncio.Task[None] | None"]


class CallJournal:
    def __init__(self, record: CallRecord, store: CallStore, hub: EventHub, *,
                 spawn: Spawn | None = None, final_write_deadline_s: float = 30.0,
                 commits: GroupCommit | None = None, batch_s: float = BATCH_S) -> None:
        self.record_row = record
        self.events: list[JourneyEvent] = []
        self._store = store
        self._hub = hub
        self._started = time.monotonic()
        self._pending: list[JourneyEvent] = []
        self._row_written = False
        self._writer: asyncio.Task[None] | None = None
        self._deadline_s = final_write_deadline_s
        # Shared by every call of the engine; a journal on its own commits alone.
        self._commits = commits or GroupCommit(store, batch_s)
        self._spawn = spawn
        self.checkpoint = Checkpoint()
        self._checkpoint_dirty = False

    @classmethod
    def resumed(cls, record: CallRecord, events: list[JourneyEvent], checkpoint: Checkpoint,
                store: CallStore, hub: EventHub, *, spawn: Spawn | None = None,
                commits: GroupCommit | None = None) -> CallJournal:
        """The journal of a call an earlier run of the service started (adoption)."""
        journal = cls(record, store, hub, spawn=spawn, commits=commits)
        journal.events = list(events)
        journal.checkpoint = checkpoint
        journal._row_written = True
        # Journey times stay relative to the call's start, not to its adoption.
        journal._started -= max(0.0, (datetime.now(UTC) - record.started_at).total_seconds())
        return journal

    def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Where the call stands now; written with the next journal batch (or alone)."""
        self.checkpoint = checkpoint
        self._checkpoint_dirty = True
        self._write_soon()

    def record(self, type: JourneyType, **details: object) -> None:
        event = JourneyEvent(
            call_id=self.record_row.call_id, type=type, t=time.monotonic() - self._started,
            at=datetime.now(UTC), details=details,
        )
        self.events.append(event)
        self._pending.append(event)
        self._hub.publish(event)
        self._write_soon()

    def _write_soon(self) -> None:
        if self._spawn is not None and (self._writer is None or self._writer.done()):
            self._writer = self._spawn(self._write_later, "journal-writer")

    async def _write_later(self) -> None:
        """Write with the next group commit; in the background, give up after a while: the
        next event or close() retries."""
        await self._write_pending(deadline=time.monotonic() + 10.0)

    def update(self, **fields: object) -> None:
        self.record_row = replace(self.record_row, **fields)  # type: ignore[arg-type]

    def hurry(self) -> None:
        """The call is ending: what is pending goes with a commit now, not at the batch's end."""
        self._commits.hurry()

    async def close(self, *, final: bool = True) -> None:
        """Write everything left and (when `final`) the final call record; bounded, never
        raises. Not final: the call lives on in Asterisk for the next run to adopt."""
        self.hurry()
        if self._writer is not None:
            await asyncio.wait({self._writer})
        await self._write_pending(deadline=time.monotonic() + self._deadline_s, final=final)

    async def _write_pending(self, *, deadline: float, final: bool = False) -> None:
        backoff = Backoff()
        while True:
            try:
                await self._flush(final, now=final)
                return
            except DatabaseUnavailable as exc:
                delay = backoff.next_delay()
                if time.monotonic() + delay > deadline:
                    event = "journal.unsaved" if final else "journal.write_deferred"
                    log.error(event, events=len(self._pending), error=str(exc))
                    return
                await asyncio.sleep(delay)

    async def _flush(self, final: bool, *, now: bool) -> None:
        first = not self._row_written
        if first:  # the call's row goes at once: recordings and surveys need it
            await self._store.start(self.record_row)
            self._row_written = True
        while self._pending or self._checkpoint_dirty:
            await self._commits.write(self, now=now or first)  # its first events with it
            first = False
        if final:
            await self._store.finish(self.record_row)

    def take_batch(self) -> Batch | None:
        if not self._pending and not self._checkpoint_dirty:
            return None
        events, self._pending = self._pending, []
        checkpoint = self.checkpoint.to_json() if self._checkpoint_dirty else None
        self._checkpoint_dirty = False
        return Batch(self.record_row.call_id, events, checkpoint)

    def give_back(self, batch: Batch) -> None:
        self._pending[:0] = batch.events
        self._checkpoint_dirty = self._checkpoint_dirty or batch.checkpoint is not None
