"""Group commit: every live call's pending journey events and checkpoint in one transaction.

A journal that gathered its own batch still cost one transaction per call per batch: about 40
per call, the largest part of the service's CPU per call at 150 live calls (`make bench-calls
--profile-service`). Journals now ask to be written, and the next commit, at most `batch_s`
later (at once when one is in a hurry), takes what each has pending at that moment and writes
it all in one transaction.

What the store refuses goes back to its journal, which retries with its own backoff; when a
shared transaction fails for a reason other than an outage, each journal's part is written
alone, so one bad call cannot hold up the others.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from ari_app.calls.store import CallStore
from ivr.journey import JourneyEvent
from kernel.db.errors import DatabaseError, DatabaseUnavailable

log = structlog.get_logger(__name__)

# Journey events (and the checkpoint) reach the database at most this much later. A crash loses
# at most this much of a call's progress; adoption resumes it from the checkpoint before.
BATCH_S = 0.25


@dataclass(frozen=True)
class Batch:
    """What one call had pending when a commit took it."""

    call_id: str
    events: list[JourneyEvent]
    checkpoint: dict[str, Any] | None


class Pending(Protocol):
    """A call's journal as the group commit sees it."""

    def take_batch(self) -> Batch | None:
        """What is pending now, no longer pending; None when nothing is."""

    def give_back(self, batch: Batch) -> None:
        """A taken batch that was not stored: pending again, ahead of anything newer."""


class GroupCommit:
    def __init__(self, store: CallStore, batch_s: float = BATCH_S) -> None:
        self._store = store
        self._batch_s = batch_s
        self._waiting: dict[Pending, asyncio.Future[None]] = {}
        self._now = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None

    async def write(self, journal: Pending, *, now: bool = False) -> None:
        """Until a commit took what `journal` has pending and stored it; raises what the store
        raised for it (its batch is then pending again). Cancelling the wait does not cancel
        the write."""
        done = self._waiting.get(journal)
        if done is None:
            done = asyncio.get_running_loop().create_future()
            done.add_done_callback(_retrieved)  # a waiter may be gone by the time it fails
            self._waiting[journal] = done
        if now:
            self._now.set()
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="journal-group-commit")
        await asyncio.shield(done)

    def hurry(self) -> None:
        """Commit what is waiting now instead of at the end of the batch."""
        self._now.set()

    async def _run(self) -> None:
        while self._waiting:
            if not self._now.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._now.wait(), self._batch_s)
            self._now.clear()
            waiting, self._waiting = self._waiting, {}
            await self._commit(waiting)

    async def _commit(self, waiting: dict[Pending, asyncio.Future[None]]) -> None:
        parts: list[tuple[Pending, Batch, asyncio.Future[None]]] = []
        for journal, done in waiting.items():
            batch = journal.take_batch()
            if batch is None:
                done.set_result(None)
            else:
                parts.append((journal, batch, done))
        if not parts:
            return
        try:
            await self._store.append_events(
                [event for _, batch, _ in parts for event in batch.events],
                {b.call_id: b.checkpoint for _, b, _ in parts if b.checkpoint is not None},
            )
        except DatabaseUnavailable as exc:  # every part would fail alike: all retry later
            for journal, batch, done in parts:
                journal.give_back(batch)
                done.set_exception(exc)
        except DatabaseError as exc:
            if len(parts) == 1:
                journal, batch, done = parts[0]
                journal.give_back(batch)
                done.set_exception(exc)
            else:
                log.warning("journal.group_commit_split", calls=len(parts), error=str(exc))
                for part in parts:
                    await self._commit_alone(*part)
        except BaseException as exc:  # cancelled at shutdown: nothing is lost, all pending again
            for journal, batch, done in parts:
                journal.give_back(batch)
                if isinstance(exc, asyncio.CancelledError):
                    done.cancel()
                else:
                    done.set_exception(exc)
            raise
        else:
            for _, _, done in parts:
                done.set_result(None)

    async def _commit_alone(
        self, journal: Pending, batch: Batch, done: asyncio.Future[None]
    ) -> None:
        checkpoints = {batch.call_id: batch.checkpoint} if batch.checkpoint is not None else None
        try:
            await self._store.append_events(batch.events, checkpoints)
        except DatabaseError as exc:
            journal.give_back(batch)
            done.set_exception(exc)
        else:
            done.set_result(None)


def _retrieved(done: asyncio.Future[None]) -> None:
    if not done.cancelled():
        done.exception()
