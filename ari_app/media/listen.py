"""Listen to the caller once: until they finish speaking, speak too long, or say nothing.

The gather step calls `listen` while its prompt plays (barge-in) or after it. Keys are the
gather step's business: it cancels `listen` when a digit arrives (cancellation tears the
media down) and stops the prompt through the same `PlayingPrompt`.

Times in `Heard` are on the event loop's clock (``loop.time()``), mapped from the audio's
own sample count: the earliest-arriving frame anchors media time to the loop clock, so
network or scheduling jitter on later frames does not move the boundaries.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import structlog

from ari_app.calls.call import Call
from ari_app.media.caller_audio import SAMPLE_RATE, AudioFrame, CallerAudio, CallerAudioError
from ari_app.media.prompt import PlayingPrompt
from ivr.ports import HeardKind
from ivr.vad import (
    Endpointer,
    EndpointEvent,
    EndpointParams,
    NoInput,
    SpeechEnded,
    SpeechStarted,
    TooLong,
    VadParams,
)

log = structlog.get_logger(__name__)



@dataclass(frozen=True, slots=True)
class ListenParams:
    """`first_input_timeout_s` counts from the end of the prompt (or from the start when
    none plays). With `barge_in` off, speech during the prompt is ignored. `preroll_s` of
    audio before the detected start is kept so the recognizer hears the first phoneme."""

    first_input_timeout_s: float = 5.0
    end_silence_s: float = 0.7
    max_speech_s: float = 15.0
    barge_in: bool = True
    preroll_s: float = 0.3
    vad: VadParams = field(default_factory=VadParams)

    def endpoint(self) -> EndpointParams:
        return EndpointParams(end_silence_s=self.end_silence_s, max_speech_s=self.max_speech_s,
                              first_input_timeout_s=self.first_input_timeout_s, vad=self.vad)


@dataclass(frozen=True, slots=True)
class Heard:
    """`pcm`: the utterance (16-bit little-endian mono at `sample_rate`) from `preroll_s`
    before its start to the moment the end was decided; empty for no_input."""

    kind: HeardKind
    pcm: bytes
    sample_rate: int
    speech_started_at: float | None
    speech_ended_at: float | None
    detected_at: float
    barged_in: bool = False


async def listen(call: Call, *, prompt_playing: PlayingPrompt | None,
                 params: ListenParams) -> Heard:
    """Open the caller's audio for this call, endpoint one utterance, close the audio."""
    async with CallerAudio.for_call(call) as frames:
        return await hear(frames, prompt_playing=prompt_playing, params=params)


async def hear(frames: AsyncIterator[AudioFrame], *, prompt_playing: PlayingPrompt | None,
               params: ListenParams) -> Heard:
    """`listen` over any frame source (e.g. a CallerAudio opened by the caller)."""
    playing = prompt_playing is not None and not prompt_playing.done()
    endpointer = Endpointer(params.endpoint(), sample_rate=SAMPLE_RATE,
                            no_input_from=None if playing else 0.0)  # fmt: skip
    kept: deque[AudioFrame] = deque()
    anchor = float("inf")
    barged_in = False
    async for frame in frames:
        anchor = min(anchor, frame.received_at - frame.offset_s - frame.duration_s)
        if playing and prompt_playing is not None and prompt_playing.done():
            playing = False
            endpointer.arm_no_input(frame.offset_s)
        event = endpointer.feed(frame.pcm, frame.offset_s, detect=params.barge_in or not playing)
        _keep(kept, frame, endpointer, params)
        if isinstance(event, SpeechStarted):
            if playing and prompt_playing is not None:
                await prompt_playing.stop()
                barged_in = True
            _trim_to(kept, event.at - params.preroll_s)
        elif event is not None:
            heard = _heard(event, kept, anchor, barged_in)
            log.info("listen.heard", kind=str(heard.kind), barged_in=barged_in,
                     seconds=round(len(heard.pcm) / (2 * SAMPLE_RATE), 2))  # fmt: skip
            return heard
    raise CallerAudioError("the caller's audio ended")


def _keep(kept: deque[AudioFrame], frame: AudioFrame, endpointer: Endpointer,
          params: ListenParams) -> None:
    kept.append(frame)
    if endpointer.started_at is None:  # only what could become pre-roll of a start
        _trim_to(kept, frame.offset_s - params.preroll_s - params.vad.start_s)


def _trim_to(kept: deque[AudioFrame], offset_s: float) -> None:
    while kept and kept[0].offset_s + kept[0].duration_s <= offset_s + 1e-9:
        kept.popleft()


def _heard(event: EndpointEvent, kept: deque[AudioFrame], anchor: float,
           barged_in: bool) -> Heard:
    now = asyncio.get_running_loop().time()
    if isinstance(event, NoInput):
        return Heard(HeardKind.NO_INPUT, b"", SAMPLE_RATE, None, None, now, barged_in)
    pcm = b"".join(frame.pcm for frame in kept)
    if isinstance(event, SpeechEnded):
        return Heard(HeardKind.SPEECH, pcm, SAMPLE_RATE, anchor + event.started_at,
                     anchor + event.ended_at, now, barged_in)  # fmt: skip
    assert isinstance(event, TooLong)
    return Heard(HeardKind.TOO_LONG, pcm, SAMPLE_RATE, anchor + event.started_at, None, now,
                 barged_in)  # fmt: skip
