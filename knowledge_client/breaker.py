"""A circuit breaker on an injected clock: after `failure_threshold` consecutive failures the
circuit opens and calls fail fast, without touching the network, for `cool_down_s`; then one
probe is let through (half-open): its success closes the circuit, its failure opens it again.

Pure state machine: no I/O, no asyncio; the caller asks `allow()` before a request and reports
the outcome with `record_success()` / `record_failure()`, or `release()` when the request ended
without a verdict (cancelled because the caller hung up).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"  # requests flow; consecutive failures are counted
    OPEN = "open"  # requests fail fast until the cool-down has passed
    HALF_OPEN = "half_open"  # the cool-down has passed; one probe request decides


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        cool_down_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1, got {failure_threshold}")
        if cool_down_s <= 0:
            raise ValueError(f"cool_down_s must be positive, got {cool_down_s}")
        self.failure_threshold = failure_threshold
        self.cool_down_s = cool_down_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    def state(self) -> BreakerState:
        """The state now (it moves from open to half-open with the clock alone)."""
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at < self.cool_down_s:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    @property
    def failures(self) -> int:
        """Consecutive failures while closed."""
        return self._failures

    def retry_after(self) -> float:
        """Seconds until a probe will be allowed (0 when not open)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.cool_down_s - self._clock())

    def allow(self) -> bool:
        """May a request go out now? In half-open, only one request at a time (the probe)."""
        state = self.state()
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN or self._probing:
            return False
        self._probing = True
        return True

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        state = self.state()
        if state is BreakerState.HALF_OPEN:
            self._open()
        elif state is BreakerState.CLOSED:
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self._open()
        # OPEN: a request that started before the circuit opened; it changes nothing.

    def release(self) -> None:
        """The request ended without a verdict: let another probe through."""
        self._probing = False

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._failures = 0
        self._probing = False
