"""What the IVR needs from a call, as ports; the call engine (ari_app) implements them over ARI.

Hangup is cancellation: `CancelledError` propagates out of any await on these ports and the
IVR never catches it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ivr.intents import Hypothesis
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


# --- speech: what a speech-capable call offers (ari_app implements it over ARI media) -------


class HeardKind(StrEnum):
    SPEECH = "speech"  # an utterance ended by trailing silence
    NO_INPUT = "no_input"  # nothing said within the first-input timeout
    TOO_LONG = "too_long"  # speech went on past max_speech_s; pcm holds what was heard


@dataclass(frozen=True, slots=True)
class ListenParams:
    """`first_input_timeout_s` counts from the end of the prompt (from the start when none
    plays). With `barge_in` off, speech during the prompt is ignored."""

    first_input_timeout_s: float = 5.0
    end_silence_s: float = 0.7
    max_speech_s: float = 15.0
    barge_in: bool = True


@dataclass(frozen=True, slots=True)
class HeardAudio:
    """One utterance: 16-bit little-endian mono PCM at `sample_rate`; empty for no_input.
    `barged_in`: the caller started speaking during a prompt, which was stopped."""

    kind: HeardKind
    pcm: bytes
    sample_rate: int
    barged_in: bool = False


class PromptHandle(Protocol):
    """A prompt that is playing; `stop` is idempotent and does nothing once it ended."""

    def done(self) -> bool: ...

    async def stop(self) -> None: ...

    async def wait_done(self) -> None:
        """Return when the prompt ended, played out or stopped."""
        ...


class SpeechChannel(CallChannel, Protocol):
    """A call whose caller can also be listened to."""

    async def start_prompt(self, text: str) -> PromptHandle:
        """Start speaking `text` and return at once (barge-in needs the prompt running)."""
        ...

    def hearing(self) -> AbstractAsyncContextManager[None]:
        """Open the caller's audio for the block, before the prompt that asks starts: a caller
        who answers at once is heard from the first syllable (opening it inside `listen`
        raced them and lost the start of a quick "yes"). `listen` in the block uses it."""
        ...

    async def listen(self, *, prompt: PromptHandle | None, params: ListenParams) -> HeardAudio:
        """Endpoint one utterance of the caller.

        With `params.barge_in` and a `prompt` still playing, speech stops the prompt as soon
        as it starts. Cancelling `listen` (a key won the race, or hangup) closes the audio.
        """
        ...


class Recognition(Protocol):
    """What a listener heard: best text, its confidence 0..1, the n-best (ivr.speech)."""

    @property
    def text(self) -> str: ...

    @property
    def confidence(self) -> float: ...

    @property
    def alternatives(self) -> Sequence[Hypothesis]: ...


class Listener(Protocol):
    """Audio to text. `phrases` constrain the recognizer to a menu's words (a grammar built
    from the active intents' examples); None means free-form (a self-service question)."""

    async def transcribe(self, audio: HeardAudio,
                         phrases: Sequence[str] | None) -> Recognition: ...
