"""Time for the queue actor: a monotonic clock in production, a simulated one in tests."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds."""
        ...

    async def sleep_until(self, t: float) -> None:
        """Return once `now() >= t`."""
        ...


class MonotonicClock:
    """The event loop's own time source (`loop.time()` is `time.monotonic()`)."""

    # asyncio runs a timer up to one clock resolution early; sleeping that much longer guarantees
    # now() >= t on wake-up.
    _RESOLUTION = time.get_clock_info("monotonic").resolution

    def now(self) -> float:
        return time.monotonic()

    async def sleep_until(self, t: float) -> None:
        delay = t - self.now()
        if delay > 0:
            await asyncio.sleep(delay + self._RESOLUTION)


class SimulatedClock:
    """A clock that only moves when a test calls `advance()`.

    `advance(dt)` first lets the event loop settle (whatever is already pending happens at the
    current time), then visits every due deadline in order (ties in the order the sleeps began):
    sets `now()` to that deadline, wakes the sleeper and settles again, so whatever the wake-up
    triggers happens at that exact time. Finally time moves to the end of the interval and the
    loop settles once more. Settling means `settle_rounds` loop iterations: deterministic, and
    enough for a few hops of message passing.
    """

    def __init__(self, start: float = 0.0, settle_rounds: int = 50) -> None:
        self._now = start
        self._settle_rounds = settle_rounds
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep_until(self, t: float) -> None:
        if t <= self._now:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (t, next(self._seq), future))
        await future

    @property
    def sleepers(self) -> int:
        """How many sleeps are pending (cancelled ones excluded)."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

    async def advance(self, dt: float) -> None:
        if dt < 0:
            raise ValueError("time only moves forward")
        await self.settle()
        end = self._now + dt
        while self._sleepers and self._sleepers[0][0] <= end:
            t, _, future = heapq.heappop(self._sleepers)
            if future.done():  # the sleeping task was cancelled
                continue
            self._now = t
            future.set_result(None)
            await self.settle()
        self._now = end
        await self.settle()

    async def settle(self) -> None:
        """Let ready tasks run for a fixed number of loop iterations (deterministic)."""
        for _ in range(self._settle_rounds):
            await asyncio.sleep(0)
