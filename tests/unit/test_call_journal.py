"""A call's journal: the row at once, then events and the checkpoint gathered into one
transaction per batch, and everything pending written at once when the call ends."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ari_app.calls.checkpoint import Checkpoint, Stage
from ari_app.calls.hub import EventHub
from ari_app.calls.journal import CallJournal
from ari_app.calls.record import CallOutcome, CallRecord
from ari_app.calls.store import CallStore
from ari_app.db.database import Database
from ivr.journey import JourneyEvent, JourneyType

LONG_BATCH_S = 30.0  # far longer than any test: what is written early was not waited for


class Counting(CallStore):
    """The real store, counting its transactions."""

    def __init__(self, db: Database) -> None:
        super().__init__(db.units)
        self.appends: list[tuple[int, bool]] = []  # (events, with a checkpoint)

    async def append_events(self, events: Sequence[JourneyEvent],
                            checkpoints: Mapping[str, dict[str, Any]] | None = None) -> None:
        self.appends.append((len(events), bool(checkpoints)))
        await super().append_events(events, checkpoints)


def record() -> CallRecord:
    return CallRecord("c-1", "ch-1", "+15550100", None, datetime.now(UTC))


async def until_stored(store: CallStore) -> None:
    async with asyncio.timeout(5):
        while True:
            if await store.get("c-1") is not None:
                return
            await asyncio.sleep(0.01)


async def test_the_row_at_once_then_one_transaction_per_batch(database: Database) -> None:
    store = Counting(database)
    async with asyncio.TaskGroup() as group:
        journal = CallJournal(record(), store, EventHub(), batch_s=LONG_BATCH_S,
                              spawn=lambda work, name: group.create_task(work(), name=name))
        journal.record(JourneyType.CALL_START, caller="+15550100")
        await until_stored(store)  # not after the batch: recordings and surveys refer to it
        for node in ("welcome", "main_menu", "claims"):
            journal.record(JourneyType.PROMPT, node=node)
        journal.save_checkpoint(Checkpoint(Stage.QUEUE, queue_id="claims"))
        await asyncio.sleep(0.05)
        assert len(await store.events("c-1")) == 1  # the rest is being gathered
        journal.hurry()
        journal.update(ended_at=datetime.now(UTC), outcome=CallOutcome.ANSWERED)
        await asyncio.wait_for(journal.close(), 5)  # no waiting for the batch

    assert store.appends == [(1, False), (3, True)]
    stored = await store.get("c-1")
    assert stored is not None and stored.outcome is CallOutcome.ANSWERED
    assert [e.details.get("node") for e in await store.events("c-1")][1:] == \
        ["welcome", "main_menu", "claims"]
    assert await store.unfinished() == []  # finished: no checkpoint left to adopt


async def test_a_call_left_for_the_next_run_keeps_its_checkpoint(database: Database) -> None:
    store = Counting(database)
    async with asyncio.TaskGroup() as group:
        journal = CallJournal(record(), store, EventHub(), batch_s=LONG_BATCH_S,
                              spawn=lambda work, name: group.create_task(work(), name=name))
        journal.record(JourneyType.CALL_START, caller="+15550100")
        journal.save_checkpoint(Checkpoint(Stage.IVR, node="main_menu"))
        await asyncio.wait_for(journal.close(final=False), 5)

    ((left, saved),) = await store.unfinished()
    assert left.call_id == "c-1" and left.outcome is CallOutcome.IN_PROGRESS
    assert saved is not None and Checkpoint.from_json(saved).node == "main_menu"
