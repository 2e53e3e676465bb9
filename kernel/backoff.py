"""Exponential backoff with full jitter for every adapter that reconnects.

Full jitter (a uniform delay between 0 and the exponential ceiling) spreads reconnects of many
clients after an Asterisk restart instead of having them retry in lock step; see
https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/.
"""

from __future__ import annotations

import random
from collections.abc import Callable

_MAX_EXPONENT = 64


class Backoff:
    """Delays for consecutive failed attempts; `reset()` after a success."""

    def __init__(
        self,
        initial: float = 0.5,
        factor: float = 2.0,
        cap: float = 30.0,
        *,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if initial <= 0 or factor < 1 or cap < initial:
            raise ValueError(f"invalid backoff: initial={initial} factor={factor} cap={cap}")
        self.initial = initial
        self.factor = factor
        self.cap = cap
        self._rand = rand
        self._attempt = 0

    @property
    def attempts(self) -> int:
        """Failed attempts since the last reset."""
        return self._attempt

    def ceiling(self) -> float:
        """The upper bound of the next delay."""
        # The exponent is bounded so a days-long outage cannot overflow the float.
        exponent = min(self._attempt, _MAX_EXPONENT)
        return min(self.cap, self.initial * self.factor**exponent)

    def next_delay(self) -> float:
        """Seconds to wait before the next attempt, uniform in [0, ceiling]."""
        ceiling = self.ceiling()
        self._attempt += 1
        return self._rand() * ceiling

    def reset(self) -> None:
        self._attempt = 0
