"""In-process fan-out of journey events to live subscribers (the events WebSocket)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from ivr.journey import JourneyEvent


class EventHub:
    """Each subscriber has a bounded queue: a slow one loses its oldest events; calls never wait."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: set[asyncio.Queue[JourneyEvent]] = set()

    def publish(self, event: JourneyEvent) -> None:
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    @contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[JourneyEvent]]:
        queue: asyncio.Queue[JourneyEvent] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)
