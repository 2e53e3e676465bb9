"""What the IVR needs from a call, as ports; the call engine (ari_app) implements them over ARI.

Hangup is cancellation: `CancelledError` propagates out of any await on these ports and the
IVR never catches it.
"""

from __future__ import annotations

from typing import Protocol

from ivr.journey import JourneyType


class CallChannel(Protocol):
    """One caller's audio and keys."""

    async def play(self, text: str, *, interruptible: bool = True) -> str | None:
        """Speak `text` (the adapter renders it with TTS) and wait until it ends.

        Returns the DTMF digit that interrupted it, or None when it played to the end. An
        interrupting digit stays available to `collect_digits` (type-ahead); it is not lost.
        With `interruptible=False` keys do not stop the prompt.
        """
        ...

    async def collect_digits(self, *, max_digits: int, first_timeout: float,
                             inter_digit_timeout: float, finish_key: str | None = "#") -> str:
        """Collect up to `max_digits` keys, consuming type-ahead digits first.

        Returns the digits without the finish key; '' means no input within `first_timeout`.
        """
        ...

    def discard_digits(self) -> None:
        """Drop type-ahead digits (keys pressed before the caller was asked anything)."""
        ...


class Journal(Protocol):
    """The call's journey log; `record` must not block (the adapter persists and streams)."""

    def record(self, type: JourneyType, **details: object) -> None: ...
