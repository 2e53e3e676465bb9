"""Small fakes of the IVR ports (`ivr.ports`), scripted per test."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ivr.journey import JourneyType

HANGUP = object()  # a script item: the caller hangs up at this collect


@dataclass
class Collect:
    max_digits: int
    first_timeout: float
    inter_digit_timeout: float
    finish_key: str | None


class FakeChannel:
    """Implements `CallChannel`.

    `inputs` scripts what each `collect_digits` call returns ('' = silence, HANGUP = cancel).
    `presses` maps a prompt text to a key the caller presses while it plays: an interruptible
    prompt stops and returns it; either way the key joins the type-ahead buffer.
    """

    def __init__(self, inputs: Iterable[str | object] = (),
                 presses: Mapping[str, str] | None = None) -> None:
        self.inputs = list(inputs)
        self.presses = dict(presses or {})
        self.played: list[tuple[str, bool]] = []
        self.collects: list[Collect] = []
        self.buffer = ""
        self.discards = 0

    @property
    def texts(self) -> list[str]:
        return [text for text, _ in self.played]

    async def play(self, text: str, *, interruptible: bool = True) -> str | None:
        await asyncio.sleep(0)
        self.played.append((text, interruptible))
        key = self.presses.pop(text, None)
        if key is None:
            return None
        self.buffer += key
        return key if interruptible else None

    async def collect_digits(self, *, max_digits: int, first_timeout: float,
                             inter_digit_timeout: float, finish_key: str | None = "#") -> str:
        await asyncio.sleep(0)
        self.collects.append(Collect(max_digits, first_timeout, inter_digit_timeout, finish_key))
        if self.buffer:
            digits, self.buffer = self.buffer[:max_digits], self.buffer[max_digits:]
            return digits
        if not self.inputs:
            raise AssertionError(f"unexpected collect #{len(self.collects)}: script exhausted")
        item = self.inputs.pop(0)
        if item is HANGUP:
            raise asyncio.CancelledError
        assert isinstance(item, str)
        digits, self.buffer = item[:max_digits], item[max_digits:]
        return digits

    def discard_digits(self) -> None:
        self.discards += 1
        self.buffer = ""


@dataclass
class FakeJournal:
    """Implements `Journal`; keeps (type, details) in order."""

    entries: list[tuple[JourneyType, dict[str, object]]] = field(default_factory=list)

    def record(self, type: JourneyType, **details: object) -> None:
        self.entries.append((type, details))

    def types(self) -> list[JourneyType]:
        return [t for t, _ in self.entries]

    def of(self, type: JourneyType) -> list[dict[str, object]]:
        return [d for t, d in self.entries if t is type]
