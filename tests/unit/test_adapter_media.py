"""Prompts that can be stopped (`start_playback`, `PlayingPrompt`) over a small fake ARI, and
`hear` (endpointing, barge-in) over synthetic caller audio."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest

from ari_app.ari.errors import AriError, AriNotFound, error_for_status
from ari_app.ari.events import PlaybackFinished, PlaybackStarted
from ari_app.ari.rest import AriRest
from ari_app.calls.call import Call
from ari_app.media import (
    SAMPLE_RATE,
    AudioFrame,
    CallerAudioError,
    ListenParams,
    PlayingPrompt,
    StartPromptMixin,
    hear,
    start_playback,
)
from ari_app.media.prompt import PromptSounds
from ivr.ports import HeardKind
from ivr.tts import PromptRenderer
from tests.unit.adapter_fakes import FakeEvents, ari_event

FRAME_S = 0.02
LOUD = (b"\x40\x1f" + b"\xc0\xe0") * int(SAMPLE_RATE * FRAME_S / 2)  # +-8000: about -12 dBFS
QUIET = b"\x00\x00" * int(SAMPLE_RATE * FRAME_S)


class FakeAri:
    """The two playback requests of AriRest; `play_error`/`stop_error` make them fail."""

    def __init__(self, play_error: AriError | None = None,
                 stop_error: AriError | None = None) -> None:
        self.play_error, self.stop_error = play_error, stop_error
        self.played: list[tuple[str, list[str], str]] = []
        self.stopped: list[str] = []

    async def play(self, channel_id: str, media: Sequence[str], playback_id: str) -> None:
        self.played.append((channel_id, list(media), playback_id))
        if self.play_error is not None:
            raise self.play_error

    async def stop_playback(self, playback_id: str) -> None:
        self.stopped.append(playback_id)
        if self.stop_error is not None:
            raise self.stop_error


def playback(kind: str, playback_id: str, state: str) -> dict[str, object]:
    return ari_event(kind, playback={"id": playback_id, "target_uri": "channel:c-1",
                                     "state": state, "media_uri": "sound:x"})  # fmt: skip


async def started_prompt(ari: FakeAri, events: FakeEvents,
                         playback_id: str | None = "p-1") -> PlayingPrompt:
    return await start_playback(cast(AriRest, ari), "c-1", ["sound:hello"], events=events,
                                bind=events.bind, unbind=events.unbind,
                                playback_id=playback_id)  # fmt: skip


async def test_a_prompt_starts_plays_and_finishes_through_its_events() -> None:
    ari, events = FakeAri(), FakeEvents()
    prompt = await started_prompt(ari, events)
    assert ari.played == [("c-1", ["sound:hello"], "p-1")]
    assert events.bound == {"p-1"} and not prompt.done()
    assert prompt.started is not None and not prompt.started.done()

    events.deliver_json(playback("PlaybackStarted", "other", "playing"))  # someone else's
    assert not prompt.started.done()
    events.deliver_json(playback("PlaybackStarted", "p-1", "playing"))
    assert isinstance(await prompt.started, PlaybackStarted)
    events.deliver_json(playback("PlaybackFinished", "p-1", "done"))
    finished = await prompt.wait(1.0)
    assert isinstance(finished, PlaybackFinished) and finished.state == "done"
    await prompt.wait_done()
    assert prompt.done() and events.bound == set()  # the id is no longer routed to us
    await prompt.stop()  # already over: nothing to stop
    assert ari.stopped == []


async def test_stopping_sends_one_delete_and_the_finish_still_arrives() -> None:
    ari, events = FakeAri(), FakeEvents()
    prompt = await started_prompt(ari, events, playback_id=None)
    playback_id = ari.played[0][2]
    assert len(playback_id) == 36  # a fresh UUID of ours
    await prompt.stop()
    await prompt.stop()
    assert ari.stopped == [playback_id] and prompt.stopped
    events.deliver_json(playback("PlaybackFinished", playback_id, "failed"))
    await prompt.wait_done()
    assert prompt.started is not None and prompt.started.cancelled()  # never began


@pytest.mark.parametrize("status", [404, 500])
async def test_stopping_a_playback_asterisk_no_longer_has_is_fine(status: int) -> None:
    error = error_for_status(status, "Playback not found", method="DELETE", path="/playbacks/p")
    prompt = await started_prompt(FakeAri(stop_error=error), FakeEvents())
    await prompt.stop()
    assert prompt.stopped


async def test_waiting_too_long_leaves_the_prompt_playing() -> None:
    events = FakeEvents()
    prompt = await started_prompt(FakeAri(), events)
    with pytest.raises(TimeoutError):
        await prompt.wait(0.01)
    assert not prompt.finished.cancelled()
    events.deliver_json(playback("PlaybackFinished", "p-1", "done"))
    await prompt.wait_done()


async def test_a_refused_play_raises_and_unbinds() -> None:
    events = FakeEvents()
    ari = FakeAri(play_error=AriNotFound("Channel not found", status=404, method="POST",
                                         path="/channels/c-1/play/p-1"))  # fmt: skip
    with pytest.raises(AriNotFound):
        await started_prompt(ari, events)
    await asyncio.sleep(0)  # done-callbacks of the cancelled waiter run on the next turn
    assert events.ever_bound == ["p-1"] and events.bound == set()


class FakeRenderer:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None]] = []

    async def render(self, text: str, *, voice: str | None = None) -> Path:
        self.asked.append((text, voice))
        return Path(f"/cache/{len(text)}-{voice}.wav")


async def test_prompt_texts_become_sound_media_asterisk_can_read() -> None:
    renderer = FakeRenderer()
    sounds = PromptSounds(cast(PromptRenderer, renderer), "/var/lib/asterisk/sounds/hotline/")
    assert await sounds.media("Hello", "en-us") == "sound:/var/lib/asterisk/sounds/hotline/5-en-us"
    assert renderer.asked == [("Hello", "en-us")]


@dataclass
class CallStub:
    """What StartPromptMixin reads from the call."""

    ari: FakeAri
    channel_id: str
    mailbox: FakeEvents

    def bind(self, subject_id: str) -> None:
        self.mailbox.bind(subject_id)

    def unbind(self, subject_id: str) -> None:
        self.mailbox.unbind(subject_id)


class Channel(StartPromptMixin):
    def __init__(self, call: CallStub, prompts: PromptSounds) -> None:
        self._call = cast(Call, call)
        self._prompts = prompts
        self._voice = "en-gb"


async def test_a_channel_starts_a_rendered_prompt() -> None:
    call = CallStub(FakeAri(), "c-7", FakeEvents())
    channel = Channel(call, PromptSounds(cast(PromptRenderer, FakeRenderer()), "/snd"))
    prompt = await channel.start_prompt("Welcome")
    assert call.ari.played == [("c-7", ["sound:/snd/7-en-gb"], prompt.playback_id)]
    assert call.mailbox.bound == {prompt.playback_id}


# --- hear ---------------------------------------------------------------------------------

BASE = 1000.0  # the loop time the stream's first sample would have arrived at


def frames_of(*runs: tuple[bytes, float]) -> list[AudioFrame]:
    """(frame, seconds) runs as consecutive frames, each arriving on time after BASE."""
    frames: list[AudioFrame] = []
    for pcm, seconds in runs:
        for _ in range(round(seconds / FRAME_S)):
            offset = len(frames) * FRAME_S
            frames.append(AudioFrame(pcm, offset, BASE + offset + FRAME_S))
    return frames


class Source:
    """An async frame source that counts the frames taken; it can end a prompt on the way."""

    def __init__(self, frames: list[AudioFrame]) -> None:
        self.frames = frames
        self.taken = 0
        self._prompt: PlayingPrompt | None = None
        self._finish_at = -1

    def finish_prompt_at(self, prompt: PlayingPrompt, index: int) -> None:
        self._prompt, self._finish_at = prompt, index

    async def __aiter__(self) -> AsyncIterator[AudioFrame]:
        for index, frame in enumerate(self.frames):
            if index == self._finish_at and self._prompt is not None:
                self._prompt.finished.set_result(PlaybackFinished("hotline", "p", "", "done"))
            self.taken += 1
            yield frame


PARAMS = ListenParams(first_input_timeout_s=0.5, end_silence_s=0.3, max_speech_s=2.0,
                      preroll_s=0.1)  # fmt: skip


async def test_an_utterance_is_heard_with_its_preroll_and_times() -> None:
    source = Source(frames_of((QUIET, 0.4), (LOUD, 0.5), (QUIET, 0.6)))
    heard = await hear(aiter(source), prompt_playing=None, params=PARAMS)
    assert heard.kind is HeardKind.SPEECH and not heard.barged_in
    assert heard.speech_started_at == pytest.approx(BASE + 0.4)
    assert heard.speech_ended_at == pytest.approx(BASE + 0.9)
    # From preroll_s before the start to the moment the end was decided (0.3 s of silence).
    assert len(heard.pcm) == round((0.1 + 0.5 + 0.3) * SAMPLE_RATE * 2)
    assert heard.sample_rate == SAMPLE_RATE
    assert source.taken == round((0.4 + 0.5 + 0.3) / FRAME_S)  # stops reading at the end


async def test_silence_is_no_input_after_the_first_input_timeout() -> None:
    source = Source(frames_of((QUIET, 2.0)))
    heard = await hear(aiter(source), prompt_playing=None, params=PARAMS)
    assert (heard.kind, heard.pcm, heard.speech_started_at) == (HeardKind.NO_INPUT, b"", None)
    assert source.taken == round(0.5 / FRAME_S)


async def test_speech_going_on_and_on_is_too_long() -> None:
    heard = await hear(aiter(Source(frames_of((QUIET, 0.2), (LOUD, 3.0)))), prompt_playing=None,
                       params=PARAMS)  # fmt: skip
    assert heard.kind is HeardKind.TOO_LONG and heard.speech_ended_at is None
    assert heard.speech_started_at == pytest.approx(BASE + 0.2)
    assert len(heard.pcm) == round((0.1 + 2.0) * SAMPLE_RATE * 2)


def a_prompt(ari: FakeAri) -> PlayingPrompt:
    finished = asyncio.get_running_loop().create_future()
    return PlayingPrompt(cast(AriRest, ari), "p", finished)


async def test_speaking_during_a_prompt_stops_it() -> None:
    ari = FakeAri()
    prompt = a_prompt(ari)
    source = Source(frames_of((QUIET, 0.4), (LOUD, 0.4), (QUIET, 0.4)))
    heard = await hear(aiter(source), prompt_playing=prompt, params=PARAMS)
    assert heard.kind is HeardKind.SPEECH and heard.barged_in
    assert ari.stopped == ["p"]


async def test_without_barge_in_the_prompt_plays_out_and_the_timeout_starts_after_it() -> None:
    ari = FakeAri()
    prompt = a_prompt(ari)
    no_barge_in = ListenParams(first_input_timeout_s=0.5, end_silence_s=0.3, barge_in=False)
    source = Source(frames_of((QUIET, 0.2), (LOUD, 0.4), (QUIET, 2.0)))
    source.finish_prompt_at(prompt, round(1.0 / FRAME_S))  # the prompt ends at 1.0 s
    heard = await hear(aiter(source), prompt_playing=prompt, params=no_barge_in)
    assert heard.kind is HeardKind.NO_INPUT and not heard.barged_in
    assert ari.stopped == []
    assert source.taken == round((1.0 + 0.5) / FRAME_S)  # the loud part went unheard


async def test_a_prompt_that_already_ended_counts_as_none() -> None:
    ari = FakeAri()
    prompt = a_prompt(ari)
    prompt.finished.set_result(PlaybackFinished("hotline", "p", "", "done"))
    source = Source(frames_of((QUIET, 2.0)))
    heard = await hear(aiter(source), prompt_playing=prompt, params=PARAMS)
    assert heard.kind is HeardKind.NO_INPUT and source.taken == round(0.5 / FRAME_S)


async def test_audio_that_ends_first_is_an_error() -> None:
    with pytest.raises(CallerAudioError, match="the caller's audio ended"):
        await hear(aiter(Source(frames_of((QUIET, 0.2)))), prompt_playing=None, params=PARAMS)
