"""The recognizer port: what the IVR needs from a speech engine, and how to run one off the loop.

An engine (`pocketsphinx_engine`, `vosk_engine`) opens one session per utterance. The media
path feeds it caller audio as 16-bit signed little-endian mono PCM at 8 or 16 kHz (Asterisk's
`slin`/`slin16` over RTP is big-endian: swap the bytes first) and asks for the result when its
endpointer says the caller stopped talking. Every engine call blocks (decoding is CPU work in C),
so the IVR only reaches engines through `recognize`, which runs them on worker threads.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from ivr.intents import IntentSpec, normalize

__all__ = [
    "SUPPORTED_RATES", "Alternative", "Grammar", "PartialResult", "Recognition", "Recognizer",
    "RecognizerConfigError", "RecognizerError", "RecognizerSession", "recognition_executor",
    "recognize",
]

SUPPORTED_RATES = (8000, 16000)
_FEED_BYTES = 3200  # bytes handed to the engine per call when given a whole buffer: 100 ms @ 8 kHz


class RecognizerError(RuntimeError):
    """The engine failed on this utterance (the call goes on: treat it as no match)."""


class RecognizerConfigError(RecognizerError):
    """The engine cannot start (missing model, bad setting): stop start-up with this message."""


@dataclass(frozen=True, slots=True)
class Grammar:
    """Phrases the active menu expects (its intents' examples): the recognizer's hint list.

    Engines constrain or bias recognition to these words; `None` in place of a grammar means
    open dictation (e.g. a question for the knowledge base).
    """

    phrases: tuple[str, ...]

    @classmethod
    def from_intents(cls, intents: Iterable[IntentSpec]) -> Grammar:
        seen = dict.fromkeys(normalize(e) for spec in intents for e in spec.examples)
        return cls(tuple(p for p in seen if p))

    @property
    def key(self) -> str:
        """Stable id of the phrase set: engines cache compiled grammars under it."""
        return hashlib.sha256("\n".join(self.phrases).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Alternative:
    text: str
    confidence: float


@dataclass(frozen=True, slots=True)
class PartialResult:
    """Words heard so far (for barge-in and logs; they may still change)."""

    text: str


@dataclass(frozen=True, slots=True)
class Recognition:
    """The final result of one utterance.

    `text` is '' when nothing was recognised. `confidence` (0..1) is the engine's own: word
    posteriors averaged over the words. `alternatives` are the n-best after the first, best
    first. `audio_s`/`cpu_s` give the real-time factor (cpu_s / audio_s).
    """

    text: str
    confidence: float
    alternatives: tuple[Alternative, ...] = ()
    engine: str = ""
    audio_s: float = 0.0
    cpu_s: float = 0.0

    @property
    def empty(self) -> bool:
        return not self.text.strip()


class RecognizerSession(Protocol):
    """One utterance. Methods block; each is called from one thread at a time."""

    def accept(self, pcm: bytes) -> PartialResult | None:
        """Feed audio; returns a partial result when the words heard so far changed."""
        ...

    def finish(self) -> Recognition:
        """End of speech: the final result. The session is closed afterwards."""
        ...

    def close(self) -> None:
        """Abandon the utterance (hang-up, barge-in by key) and free the engine. Idempotent."""
        ...


class Recognizer(Protocol):
    """A speech engine chosen in configuration."""

    @property
    def name(self) -> str: ...

    def open_session(self, grammar: Grammar | None, sample_rate: int) -> RecognizerSession:
        """Start an utterance constrained by `grammar`. Blocking; may raise RecognizerError."""
        ...

    def prepare(self, grammars: Iterable[Grammar | None]) -> None:
        """Load the model and compile grammars (None: free-form) now (start-up), not on the
        first caller."""
        ...


def recognition_executor(max_workers: int = 4) -> ThreadPoolExecutor:
    """The dedicated pool recognition runs on (not the loop's default one, which DNS and file
    I/O share). Engines decode in C; pocketsphinx keeps the GIL while it does, so sessions feed
    it in 100 ms pieces to let the loop run in between."""
    return ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="asr")


async def recognize(recognizer: Recognizer, frames: AsyncIterator[bytes] | bytes,
                    grammar: Grammar | None, sample_rate: int, executor: Executor, *,
                    on_partial: Callable[[PartialResult], None] | None = None) -> Recognition:
    """Recognise one utterance off the event loop.

    `frames` is the caller's audio as it arrives (ended by the media path's endpointer) or a
    whole buffer. Cancellation (hang-up) abandons the session without waiting for the engine.
    """
    loop = asyncio.get_running_loop()
    session = await loop.run_in_executor(executor, recognizer.open_session, grammar, sample_rate)
    finished = False
    try:
        chunks: AsyncIterator[bytes] = (
            _pieces(frames) if isinstance(frames, bytes | bytearray) else frames)
        async for chunk in chunks:
            partial = await loop.run_in_executor(executor, session.accept, chunk)
            if partial is not None and on_partial is not None:
                on_partial(partial)
        result = await loop.run_in_executor(executor, session.finish)
        finished = True
        return result
    finally:
        if not finished:
            # Not awaited: a hang-up must not wait for the engine. The session serialises this
            # behind any call still running on another worker.
            executor.submit(session.close)


async def _pieces(buffer: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(buffer), _FEED_BYTES):
        yield buffer[start:start + _FEED_BYTES]
