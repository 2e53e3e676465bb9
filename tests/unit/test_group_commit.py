"""Group commit: several calls' journals in one transaction, and what happens when it fails."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from ari_app.calls.group_commit import Batch, GroupCommit
from ari_app.calls.record import CallRecord
from ari_app.calls.store import CallStore
from ari_app.db.database import Database
from ivr.journey import JourneyEvent, JourneyType
from kernel.db.errors import DatabaseConflict, DatabaseUnavailable

LONG_BATCH_S = 30.0  # no test waits for a batch to end: each asks for its commit


class Store(CallStore):
    """The real store, counting its transactions; `outage` makes the next one fail."""

    def __init__(self, db: Database) -> None:
        super().__init__(db.units)
        self.appends: list[list[str]] = []  # the call ids of each transaction's events
        self.outage = False

    async def append_events(self, events: Sequence[JourneyEvent],
                            checkpoints: Mapping[str, dict[str, Any]] | None = None) -> None:
        if self.outage:
            self.outage = False
            raise DatabaseUnavailable("the database went away")
        await super().append_events(events, checkpoints)
        self.appends.append(sorted({e.call_id for e in events} | set(checkpoints or {})))


class Journal:
    """What the group commit needs of a call's journal: its pending events."""

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self.pending: list[JourneyEvent] = []
        self.checkpoint: dict[str, Any] | None = None

    def record(self, node: str) -> None:
        self.pending.append(JourneyEvent(call_id=self.call_id, type=JourneyType.PROMPT, t=0.0,
                                         at=datetime.now(UTC), details={"node": node}))

    def take_batch(self) -> Batch | None:
        if not self.pending and self.checkpoint is None:
            return None
        batch = Batch(self.call_id, self.pending, self.checkpoint)
        self.pending, self.checkpoint = [], None
        return batch

    def give_back(self, batch: Batch) -> None:
        self.pending[:0] = batch.events
        self.checkpoint = self.checkpoint or batch.checkpoint


async def started(store: CallStore, *call_ids: str) -> None:
    for call_id in call_ids:
        await store.start(CallRecord(call_id, f"ch-{call_id}", "+15550100", None,
                                     datetime.now(UTC)))


async def nodes(store: CallStore, call_id: str) -> list[object]:
    return [e.details["node"] for e in await store.events(call_id)]


async def test_every_waiting_call_goes_in_one_transaction(database: Database) -> None:
    store = Store(database)
    await started(store, "a", "b", "c")
    commits = GroupCommit(store, LONG_BATCH_S)
    a, b, c = Journal("a"), Journal("b"), Journal("c")
    a.record("welcome")
    b.record("menu")
    b.checkpoint = {"stage": "ivr", "node": "menu"}
    c.record("claims")
    waits = [asyncio.create_task(commits.write(j)) for j in (a, b)]
    await asyncio.sleep(0.05)
    assert store.appends == []  # gathering until the batch ends or someone is in a hurry
    a.record("main_menu")  # taken at commit time, not when it asked
    await asyncio.wait_for(commits.write(c, now=True), 5)
    await asyncio.wait_for(asyncio.gather(*waits), 5)

    assert store.appends == [["a", "b", "c"]]
    assert await nodes(store, "a") == ["welcome", "main_menu"]
    assert (await store.unfinished())[1][1] == {"stage": "ivr", "node": "menu"}
    assert a.pending == b.pending == c.pending == []


async def test_an_outage_gives_every_batch_back_in_order(database: Database) -> None:
    store = Store(database)
    await started(store, "a", "b")
    commits = GroupCommit(store, LONG_BATCH_S)
    a, b = Journal("a"), Journal("b")
    a.record("welcome")
    b.record("menu")
    store.outage = True
    waits = [asyncio.create_task(commits.write(j, now=True)) for j in (a, b)]
    results = await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), 5)
    assert all(isinstance(r, DatabaseUnavailable) for r in results)

    a.record("main_menu")  # newer than what was given back
    assert [e.details["node"] for e in a.pending] == ["welcome", "main_menu"]
    await asyncio.wait_for(asyncio.gather(commits.write(a, now=True), commits.write(b)), 5)
    assert await nodes(store, "a") == ["welcome", "main_menu"]
    assert await nodes(store, "b") == ["menu"]


async def test_one_bad_call_does_not_hold_up_the_others(database: Database) -> None:
    store = Store(database)
    await started(store, "good")
    commits = GroupCommit(store, LONG_BATCH_S)
    good, never_started = Journal("good"), Journal("never-started")
    good.record("welcome")
    never_started.record("welcome")
    waits = [asyncio.create_task(commits.write(j, now=True)) for j in (good, never_started)]
    ok, refused = await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), 5)

    assert ok is None and isinstance(refused, DatabaseConflict)
    assert await nodes(store, "good") == ["welcome"]
    assert [e.details["node"] for e in never_started.pending] == ["welcome"]  # not lost
    assert good.pending == []


async def test_a_waiter_cancelled_does_not_cancel_its_write(database: Database) -> None:
    store = Store(database)
    await started(store, "a")
    commits = GroupCommit(store, LONG_BATCH_S)
    a = Journal("a")
    a.record("welcome")
    wait = asyncio.create_task(commits.write(a))
    await asyncio.sleep(0.01)
    wait.cancel()
    with pytest.raises(asyncio.CancelledError):
        await wait
    assert a.pending  # still waiting for its commit
    await asyncio.wait_for(commits.write(a, now=True), 5)  # joins the same write
    assert await nodes(store, "a") == ["welcome"]
    assert store.appends == [["a"]]
