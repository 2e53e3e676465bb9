"""Keypad digits a caller pressed and nobody has consumed yet (type-ahead)."""

from __future__ import annotations

import asyncio
from collections import deque


class DigitBuffer:
    def __init__(self) -> None:
        self._digits: deque[str] = deque()
        self._arrived = asyncio.Event()

    def push(self, digit: str) -> None:
        self._digits.append(digit)
        self._arrived.set()

    def peek(self) -> str | None:
        return self._digits[0] if self._digits else None

    def clear(self) -> None:
        self._digits.clear()
        self._arrived.clear()

    async def wait_any(self) -> str:
        """Wait until at least one digit is buffered; return it without consuming it."""
        while not self._digits:
            self._arrived.clear()
            await self._arrived.wait()
        return self._digits[0]

    async def get_within(self, seconds: float) -> str | None:
        """The next digit, or None when none arrives within ``seconds``."""
        try:
            async with asyncio.timeout(seconds):
                await self.wait_any()
        except TimeoutError:
            return None
        digit = self._digits.popleft()
        if not self._digits:
            self._arrived.clear()
        return digit
