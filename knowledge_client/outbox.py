"""Reports that must not be lost: feedback and unanswered questions go into a local store first
and are delivered by `Outbox.run()`, oldest first, with jittered exponential backoff while the
service is unreachable. Delivery is at least once; each report carries a content id
(wire._content_id) so the service drops duplicates. A report the service refuses (4xx) is
parked in the store, never retried and never deleted, and logged for an operator.

The store is an adapter behind `OutboxStore`: `MemoryOutboxStore` (tests, or when losing
reports on restart is acceptable) and `SqliteOutboxStore` (a file; survives restarts).
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol, Self, TypeVar

import structlog

from knowledge_client import wire
from knowledge_client.model import Feedback, Query, SearchResult, Unanswered
from knowledge_client.port import (
    KnowledgeRejected,
    KnowledgeUnavailable,
    ManagedKnowledgeSource,
)

log = structlog.get_logger(__name__)
T = TypeVar("T")


class ReportKind(StrEnum):
    FEEDBACK = "feedback"
    UNANSWERED = "unanswered"


@dataclass(frozen=True, slots=True)
class Pending:
    pending_id: int
    kind: ReportKind
    body: str  # the contract's JSON body


class OutboxStore(Protocol):
    async def put(self, kind: ReportKind, body: str) -> None: ...

    async def oldest(self, limit: int) -> Sequence[Pending]:
        """Up to `limit` reports waiting for delivery, oldest first (parked ones excluded)."""
        ...

    async def remove(self, pending_id: int) -> None: ...

    async def park(self, pending_id: int, reason: str) -> None:
        """Keep the report but stop delivering it."""
        ...

    async def count(self) -> int:
        """Reports waiting for delivery."""
        ...

    async def aclose(self) -> None: ...


class ReportSink(Protocol):
    async def feedback(self, fb: Feedback) -> None: ...

    async def report_unanswered(self, u: Unanswered) -> None: ...


class MemoryOutboxStore:
    def __init__(self) -> None:
        self._next_id = 0
        self._waiting: dict[int, Pending] = {}
        self.parked: dict[int, tuple[Pending, str]] = {}

    async def put(self, kind: ReportKind, body: str) -> None:
        self._next_id += 1
        self._waiting[self._next_id] = Pending(self._next_id, kind, body)

    async def oldest(self, limit: int) -> Sequence[Pending]:
        return list(self._waiting.values())[:limit]

    async def remove(self, pending_id: int) -> None:
        self._waiting.pop(pending_id, None)

    async def park(self, pending_id: int, reason: str) -> None:
        pending = self._waiting.pop(pending_id, None)
        if pending is not None:
            self.parked[pending_id] = (pending, reason)

    async def count(self) -> int:
        return len(self._waiting)

    async def aclose(self) -> None:
        pass


class SqliteOutboxStore:
    """Reports in a SQLite file, on a thread of its own (the connection never changes threads).
    Every put is committed before it returns, so a report survives a crash right after."""

    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS knowledge_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "kind TEXT NOT NULL, body TEXT NOT NULL, parked_reason TEXT)"
    )

    def __init__(self, path: Path, *, op_timeout_s: float = 5.0) -> None:
        self.path = path
        self.op_timeout_s = op_timeout_s
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="knowledge-outbox")
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(self.path)
            self._db.execute(self._SCHEMA)
            self._db.commit()
        return self._db

    def _write(self, sql: str, args: tuple[object, ...]) -> None:
        db = self._conn()
        db.execute(sql, args)
        db.commit()

    async def put(self, kind: ReportKind, body: str) -> None:
        sql = "INSERT INTO knowledge_outbox (kind, body) VALUES (?, ?)"
        await self._run(lambda: self._write(sql, (kind.value, body)))

    async def oldest(self, limit: int) -> Sequence[Pending]:
        sql = ("SELECT id, kind, body FROM knowledge_outbox WHERE parked_reason IS NULL "
               "ORDER BY id LIMIT ?")
        rows = await self._run(lambda: self._conn().execute(sql, (limit,)).fetchall())
        return [Pending(int(i), ReportKind(k), str(b)) for i, k, b in rows]

    async def remove(self, pending_id: int) -> None:
        sql = "DELETE FROM knowledge_outbox WHERE id = ?"
        await self._run(lambda: self._write(sql, (pending_id,)))

    async def park(self, pending_id: int, reason: str) -> None:
        sql = "UPDATE knowledge_outbox SET parked_reason = ? WHERE id = ?"
        await self._run(lambda: self._write(sql, (reason, pending_id)))

    async def count(self) -> int:
        sql = "SELECT count(*) FROM knowledge_outbox WHERE parked_reason IS NULL"
        return int(await self._run(lambda: self._conn().execute(sql).fetchone()[0]))

    async def aclose(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            self._executor.submit(db.close)
        self._executor.shutdown(wait=False)

    async def _run(self, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.op_timeout_s):
                return await loop.run_in_executor(self._executor, fn)
        except (sqlite3.Error, OSError, TimeoutError) as exc:
            raise KnowledgeUnavailable(f"outbox store {self.path}: {exc!r}") from exc


def backoff_delay(failures: int, *, initial_s: float, cap_s: float,
                  rand: Callable[[], float] = random.random) -> float:
    """Full jitter: uniform in [0, min(cap, initial * 2**(failures-1))], so many services that
    lost the same knowledge service do not retry in lock step."""
    ceiling = min(cap_s, initial_s * 2.0 ** min(max(failures - 1, 0), 32))
    return rand() * ceiling


class Outbox:
    """Implements ReportSink: `feedback`/`report_unanswered` only store (fast, local) and wake
    the delivery loop, which `run()` is; run it in a task you own."""

    def __init__(self, sink: ReportSink, store: OutboxStore, *, batch: int = 20,
                 initial_backoff_s: float = 1.0, max_backoff_s: float = 300.0,
                 idle_poll_s: float = 60.0, send_timeout_s: float = 5.0,
                 rand: Callable[[], float] = random.random) -> None:
        self.sink = sink
        self.store = store
        self.batch = batch
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self.idle_poll_s = idle_poll_s
        self.send_timeout_s = send_timeout_s
        self._rand = rand
        self._wake = asyncio.Event()
        self.failures = 0  # consecutive failed deliveries

    async def feedback(self, fb: Feedback) -> None:
        await self._submit(ReportKind.FEEDBACK, wire.feedback_body(fb))

    async def report_unanswered(self, u: Unanswered) -> None:
        await self._submit(ReportKind.UNANSWERED, wire.unanswered_body(u))

    async def _submit(self, kind: ReportKind, body: dict[str, object]) -> None:
        await self.store.put(kind, json.dumps(body, separators=(",", ":")))
        self._wake.set()

    async def run(self) -> None:
        """Deliver forever: drain what is waiting, then sleep until woken (or `idle_poll_s`,
        for reports stored by an earlier run); after a failure, back off (new reports do not
        cut a backoff short)."""
        while True:
            self._wake.clear()
            try:
                failed = await self.flush()
            except KnowledgeUnavailable as exc:  # the local store failed (disk full, locked)
                log.error("knowledge.outbox_store_failed", reason=str(exc))
                self.failures += 1
                failed = True
            if failed:
                delay = backoff_delay(self.failures, initial_s=self.initial_backoff_s,
                                      cap_s=self.max_backoff_s, rand=self._rand)
                log.info("knowledge.outbox_backoff", delay_s=round(delay, 2),
                         failures=self.failures)
                await asyncio.sleep(delay)
                continue
            try:
                async with asyncio.timeout(self.idle_poll_s):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def flush(self) -> bool:
        """Deliver what is waiting, oldest first, until the store is empty or a delivery fails.
        Returns True when a delivery failed (the service is unreachable)."""
        while pending := await self.store.oldest(self.batch):
            for item in pending:
                if not await self._deliver(item):
                    return True
        return False

    async def _deliver(self, item: Pending) -> bool:
        try:
            async with asyncio.timeout(self.send_timeout_s):
                await self._send(item)
        except (KnowledgeRejected, wire.WireError) as exc:
            log.error("knowledge.outbox_parked", kind=item.kind, reason=str(exc))
            await self.store.park(item.pending_id, str(exc))
            return True  # one refusal says nothing about the next report
        except (KnowledgeUnavailable, TimeoutError) as exc:
            self.failures += 1
            log.warning("knowledge.outbox_undelivered", kind=item.kind, reason=str(exc))
            return False
        self.failures = 0
        await self.store.remove(item.pending_id)
        return True

    async def _send(self, item: Pending) -> None:
        raw = item.body.encode()
        if item.kind is ReportKind.FEEDBACK:
            await self.sink.feedback(wire.feedback_from(raw)[1])
        else:
            await self.sink.report_unanswered(wire.unanswered_from(raw)[1])


class OutboxedSource:
    """A KnowledgeSource whose searches go to `source` and whose reports go through the outbox;
    `async with` enters the source and runs the outbox's delivery loop in a task it owns."""

    def __init__(self, source: ManagedKnowledgeSource, outbox: Outbox) -> None:
        self.source = source
        self.outbox = outbox
        self._task: asyncio.Task[None] | None = None

    async def search(self, query: Query, *, limit: int = 3) -> SearchResult:
        return await self.source.search(query, limit=limit)

    async def feedback(self, fb: Feedback) -> None:
        await self.outbox.feedback(fb)

    async def report_unanswered(self, u: Unanswered) -> None:
        await self.outbox.report_unanswered(u)

    async def __aenter__(self) -> Self:
        await self.source.__aenter__()
        self._task = asyncio.create_task(self.outbox.run(), name="knowledge-outbox")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        waiting = await self.outbox.store.count()
        if waiting:
            log.info("knowledge.outbox_left_waiting", reports=waiting)
        await self.outbox.store.aclose()
        await self.source.__aexit__(*exc_info)
