"""The caller's audio through the real development Asterisk: a simulated call whose caller
(;1, in one Stasis app of ours) speaks espeak-ng sentences to the hotline half (;2, in another
app of ours), where CallerAudio listens, while our own prompts play to the caller."""

from __future__ import annotations

import asyncio
import contextlib
import math
import shutil
import uuid
import wave
from array import array
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ari_app.ari.errors import AriError
from ari_app.ari.events import AriEvent, Connected, PlaybackFinished, PlaybackStarted, StasisStart
from ari_app.ari.rest import AriRest
from ari_app.ari.stream import AriEventStream
from ari_app.calls.call import Call as EngineCall
from ari_app.calls.mailbox import CallMailbox
from ari_app.channel_vars import APP_NAME_VAR, ROLE_INBOUND, ROLE_SIM_CALLER, SIM_CALLERS_CONTEXT
from ari_app.devtools.simulator_speech import say, sim_renderer
from ari_app.media import (
    AudioFrame,
    CallerAudio,
    CallerAudioError,
    Heard,
    ListenParams,
    PlayingPrompt,
    hear,
    listen,
    start_playback,
)
from ivr.ports import HeardKind
from ivr.tts import PromptRenderer
from ivr.vad import frame_dbfs
from tests.adapters.conftest import AsteriskTarget

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")

CALLER_SAYS = "I would like to check the status of my claim."
PROMPT = ("Welcome to Acme Insurance. Please tell me in a few words what you are calling "
          "about today, or press zero for an agent.")  # fmt: skip
SPEECH_DBFS = -50.0  # what counts as speech when measuring the sentence itself


@dataclass
class Call:
    rest: AriRest
    app: str
    caller: str
    inbound: str
    mailbox: CallMailbox
    renderer: PromptRenderer
    sounds_dir: str
    events: list[tuple[float, AriEvent]] = field(default_factory=list)

    def audio(self, **options: Any) -> CallerAudio:
        return CallerAudio(self.rest, app=self.app, channel_id=self.inbound,
                           id_prefix=self.app, events=self.mailbox, **options)  # fmt: skip

    async def media(self, text: str) -> tuple[str, Path]:
        wav = await self.renderer.render(text)
        return f"sound:{self.sounds_dir}/{wav.stem}", wav

    async def prompt(self, text: str) -> PlayingPrompt:
        media, _ = await self.media(text)
        return await start_playback(self.rest, self.inbound, [media], events=self.mailbox)

    def first(self, kind: type[AriEvent], channel_id: str) -> float:
        return next(t for t, e in self.events if isinstance(e, kind)
                    and getattr(e, "target_uri", "") == f"channel:{channel_id}")  # fmt: skip

    async def first_arrived(self, kind: type[AriEvent], channel_id: str,
                            timeout_s: float = 5.0) -> float:
        """`first`, once the event has come in: `say` learns a playback ended by polling
        REST, which can answer before the event stream delivers PlaybackFinished."""
        async with asyncio.timeout(timeout_s):
            while True:
                with contextlib.suppress(StopIteration):
                    return self.first(kind, channel_id)
                await asyncio.sleep(0.02)

    async def leftovers(self) -> tuple[list[str], list[str]]:
        channels = [c.id for c in await self.rest.list_channels()
                    if c.id.startswith(self.app) and c.id not in (self.caller, self.inbound)]
        bridges = [b.id for b in await self.rest.list_bridges() if b.id.startswith(self.app)]
        return channels, bridges

    async def leftovers_once_audio_flows(self) -> tuple[list[str], list[str]]:
        """Asterisk frees a hung-up snoop only when the spied channel next carries a frame.
        A SIP caller sends one every 20 ms; our idle Local channel needs a sound (as the
        service's next prompt would be)."""
        await self.rest.play(self.inbound, ["sound:silence/1"], f"{self.app}-{uuid.uuid4()}")
        for _ in range(100):  # 2 s
            found = await self.leftovers()
            if found == ([], []):
                break
            await asyncio.sleep(0.02)
        return found


@pytest.fixture
async def call(asterisk_ari: AsteriskTarget) -> AsyncIterator[Call]:
    """A call answered by our hotline app, with its caller end in a second app of ours."""
    target = asterisk_ari
    app, caller_app = f"ears-{uuid.uuid4().hex[:10]}", f"mouth-{uuid.uuid4().hex[:10]}"
    stream = AriEventStream(target.ws_url, target.user, target.password, [app, caller_app])
    connected = asyncio.Event()
    # The boundary tolerances below were measured with espeak's own voice: this file tests
    # the media path's timing, not recognition, so it keeps that voice.
    renderer, sounds_dir = sim_renderer(target.rootfs, voice="en-us")
    async with AriRest(target.ari_url, target.user, target.password) as rest:
        call = Call(rest, app, f"{app}-caller", "", CallMailbox(""), renderer, sounds_dir)
        loop = asyncio.get_running_loop()

        async def pump() -> None:
            async with contextlib.aclosing(stream.events()) as items:
                async for item in items:
                    if isinstance(item, Connected):
                        connected.set()
                    else:
                        call.events.append((loop.time(), item))
                        call.mailbox.deliver(item)

        task = asyncio.create_task(pump())
        try:
            async with asyncio.timeout(10):
                await connected.wait()
                inbound = call.mailbox.expect(lambda e: isinstance(e, StasisStart)
                                              and e.args[:1] == (ROLE_INBOUND,))  # fmt: skip
                await rest.originate(
                    f"Local/hotline@{SIM_CALLERS_CONTEXT}", channel_id=call.caller,
                    app=caller_app, app_args=[ROLE_SIM_CALLER], variables={APP_NAME_VAR: app})
                started = await inbound
                assert isinstance(started, StasisStart)
                call.inbound = started.channel.id
                answered = call.mailbox.expect(
                    lambda e: isinstance(e, StasisStart) and e.channel.id == call.caller)
                await rest.answer(call.inbound)
                await answered
            yield call
        finally:
            for channel in await rest.list_channels():
                if channel.id.startswith(app):
                    with contextlib.suppress(AriError):
                        await rest.hangup(channel.id)
            for bridge in await rest.list_bridges():
                if bridge.id.startswith(app):
                    with contextlib.suppress(AriError):
                        await rest.destroy_bridge(bridge.id)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def recorded(frames: AsyncIterator[AudioFrame], into: list[AudioFrame]
                   ) -> AsyncIterator[AudioFrame]:
    async for frame in frames:
        into.append(frame)
        yield frame


def speech_bounds(wav: Path) -> tuple[float, float]:
    """(onset, end) of the sentence in the file, from its own 20 ms frame levels."""
    with wave.open(str(wav)) as audio:
        rate, pcm = audio.getframerate(), audio.readframes(audio.getnframes())
    step = rate // 50 * 2
    loud = [i for i in range(0, len(pcm), step) if frame_dbfs(pcm[i : i + step]) > SPEECH_DBFS]
    return loud[0] / 2 / rate, (loud[-1] + step) / 2 / rate


async def caller_says(call: Call, text: str) -> tuple[float, float]:
    """The caller speaks `text`; returns how long the sentence's speech lasts in its file
    and how long `say` took after the caller's PlaybackFinished arrived."""
    _, wav = await call.media(text)
    onset, end = speech_bounds(wav)
    await say(call.rest, call.caller, text, call.renderer, call.sounds_dir)
    returned = asyncio.get_running_loop().time()
    await call.first_arrived(PlaybackStarted, call.caller)
    finished = await call.first_arrived(PlaybackFinished, call.caller)
    return end - onset, returned - finished


def loud_span(frames: list[AudioFrame], *, after: int = 0) -> tuple[float, float]:
    """(first, last) loud moment of the captured frames from index `after`, on the loop clock
    as `hear` maps media time (earliest-arrival anchor). Both sides of the comparison are
    media time, so a stalled event loop on a busy machine cannot move them apart."""
    anchor = min(f.received_at - f.offset_s - f.duration_s for f in frames)
    loud = [f for f in frames[after:] if frame_dbfs(f.pcm) > SPEECH_DBFS]
    return anchor + loud[0].offset_s, anchor + loud[-1].offset_s + loud[-1].duration_s


async def test_hears_the_callers_sentence_with_its_boundaries(call: Call) -> None:
    frames: list[AudioFrame] = []
    params = ListenParams(end_silence_s=0.7, first_input_timeout_s=8)
    async with call.audio() as audio:
        listening = asyncio.create_task(hear(recorded(audio, frames), prompt_playing=None,
                                             params=params))  # fmt: skip
        await asyncio.sleep(0.5)
        spoken, say_lag = await caller_says(call, CALLER_SAYS)
        heard = await asyncio.wait_for(listening, 5)
    assert heard.kind is HeardKind.SPEECH and not heard.barged_in
    assert heard.speech_started_at is not None and heard.speech_ended_at is not None
    assert len(frames) > 100 and {len(f.pcm) for f in frames} == {640}
    began, ended = loud_span(frames)
    # The whole sentence came through, neither clipped nor stretched.
    assert ended - began == pytest.approx(spoken, abs=0.08)
    assert heard.speech_started_at == pytest.approx(began, abs=0.1)
    assert heard.speech_ended_at == pytest.approx(ended, abs=0.1)
    # The utterance audio: pre-roll + speech + the trailing silence it took to decide.
    assert len(heard.pcm) / 32000 == pytest.approx(0.3 + spoken + 0.7, abs=0.1)
    # How fast the decision came is a figure, not a test (the machines are shared).
    decision = heard.detected_at - heard.speech_ended_at - params.end_silence_s
    print(f"end of speech decided {decision * 1000:.0f} ms after the last voiced frame plus "
          f"the {params.end_silence_s} s silence; say() returned {say_lag * 1000:.0f} ms after "
          f"the caller's PlaybackFinished arrived")


async def test_our_prompt_is_not_in_the_callers_audio(call: Call) -> None:
    frames: list[AudioFrame] = []
    async with call.audio() as audio:
        prompt = await call.prompt(PROMPT)
        # Not told about the prompt, so it neither stops it nor waits for its end.
        listening = asyncio.create_task(hear(recorded(audio, frames), prompt_playing=None,
                                             params=ListenParams()))  # fmt: skip
        await asyncio.sleep(1.5)  # only our prompt is sounding
        quiet_until = len(frames)
        spoken, _ = await caller_says(call, CALLER_SAYS)
        heard = await asyncio.wait_for(listening, 8)
        assert not prompt.done()  # the caller spoke over our prompt, which goes on
    levels = [frame_dbfs(f.pcm) for f in frames[5:quiet_until]]
    print(f"loudest captured frame while only our prompt played: {max(levels):.1f} dBFS")
    assert max(levels) < -70
    # Heard is the caller's sentence alone, which starts 1.5 s into our (longer) prompt.
    began, ended = loud_span(frames, after=quiet_until)
    assert ended - began == pytest.approx(spoken, abs=0.08)
    assert heard.kind is HeardKind.SPEECH
    assert heard.speech_started_at == pytest.approx(began, abs=0.1)
    assert heard.speech_ended_at == pytest.approx(ended, abs=0.1)


async def test_speech_during_a_prompt_stops_it(call: Call) -> None:
    async with call.audio() as audio:
        prompt = await call.prompt(PROMPT)
        listening = asyncio.create_task(hear(audio, prompt_playing=prompt,
                                             params=ListenParams()))  # fmt: skip
        await asyncio.sleep(1.0)
        talk = asyncio.create_task(caller_says(call, CALLER_SAYS))
        stop_event = await prompt.wait(timeout_s=3)
        stopped = asyncio.get_running_loop().time()
        heard = await asyncio.wait_for(listening, 8)
        await talk
    assert isinstance(stop_event, PlaybackFinished)
    _, wav = await call.media(PROMPT)
    with wave.open(str(wav)) as audio_file:
        prompt_s = audio_file.getnframes() / audio_file.getframerate()
    assert stopped - call.first(PlaybackStarted, call.inbound) < prompt_s - 2
    assert heard.barged_in and heard.kind is HeardKind.SPEECH
    assert heard.speech_started_at is not None
    barge_in_s = stopped - heard.speech_started_at
    print(f"speech start -> PlaybackFinished: {barge_in_s * 1000:.0f} ms "
          f"(detection needs {ListenParams().vad.start_s * 1000:.0f} ms of speech)")
    assert barge_in_s > 0  # stopped by the caller's speech, not before it


async def test_silence_is_no_input_after_the_prompt(call: Call) -> None:
    loop = asyncio.get_running_loop()
    async with call.audio() as audio:
        prompt = await call.prompt("Please say something.")
        heard: Heard = await hear(audio, prompt_playing=prompt,
                                  params=ListenParams(first_input_timeout_s=1.5))
        detected = loop.time()
    finished = next(t for t, e in call.events if isinstance(e, PlaybackFinished))
    assert heard.kind is HeardKind.NO_INPUT and heard.pcm == b""
    assert heard.speech_started_at is None and not heard.barged_in
    # Never early; how late is the loop's business on a shared machine (printed).
    print(f"no input decided {(detected - finished - 1.5) * 1000:.0f} ms after the timeout")
    assert detected - finished > 1.5 - 0.1


async def test_nothing_is_left_after_exit_or_cancellation(call: Call) -> None:
    audio = call.audio()
    async with audio as frames:
        await anext(frames)
        channels, bridges = await call.leftovers()
        assert sorted(channels) == sorted([audio.media_id, audio.snoop_id])
        assert bridges == [audio.bridge_id]
    assert audio.closed
    assert await call.leftovers_once_audio_flows() == ([], [])

    cancelled = call.audio()
    task = asyncio.create_task(_open(cancelled))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled.closed
    assert await call.leftovers_once_audio_flows() == ([], [])

    # Cancelled in the middle of set-up: what was created meanwhile goes too.
    for delay in (0.0, 0.005, 0.01, 0.02):
        early = call.audio()
        task = asyncio.create_task(_open(early))
        await asyncio.sleep(delay)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert early.closed
        assert await call.leftovers_once_audio_flows() == ([], []), f"cancelled at {delay} s"


async def test_the_caller_hanging_up_ends_the_stream(call: Call) -> None:
    loop = asyncio.get_running_loop()
    async with call.audio() as audio:
        listening = asyncio.create_task(hear(audio, prompt_playing=None, params=ListenParams()))
        await asyncio.sleep(0.3)
        await call.rest.hangup(call.caller)
        hung_up = loop.time()
        with pytest.raises(CallerAudioError, match="gone"):
            await asyncio.wait_for(listening, 3)
        print(f"hangup -> CallerAudioError: {(loop.time() - hung_up) * 1000:.0f} ms")
    assert await call.leftovers() == ([], [])


async def test_failed_set_up_says_why_and_removes_what_it_made(call: Call) -> None:
    audio = CallerAudio(call.rest, app=call.app, channel_id=f"{call.app}-no-such-channel",
                        id_prefix=call.app, events=call.mailbox)  # fmt: skip
    with pytest.raises(CallerAudioError, match="set-up failed: .*404"):
        async with audio:
            pass
    assert audio.closed  # the media channel and websocket were made before the snoop failed
    assert await call.leftovers() == ([], [])


async def _open(audio: CallerAudio) -> None:
    async with audio as frames:
        await anext(frames)
        await asyncio.sleep(10)


async def test_listen_for_a_call_context(call: Call) -> None:
    """`listen` opens and closes the audio for an engine Call, routing its ids to the call."""
    bound: list[str] = []
    class Routes:
        def bind(self, subject_id: str, call_id: str) -> None:
            bound.append(subject_id)

        def unbind(self, subject_id: str) -> None:
            bound.remove(subject_id)

    context = EngineCall(call_id=call.app, channel_id=call.inbound, caller_number="5550100",
                         ari=call.rest, app=call.app, mailbox=call.mailbox,
                         journal=None,  # type: ignore[arg-type]  # listen journals nothing
                         routes=Routes())
    listening = asyncio.create_task(listen(context, prompt_playing=None,
                                           params=ListenParams(first_input_timeout_s=6)))
    await asyncio.sleep(0.5)
    assert len(bound) == 3 and all(subject.startswith(call.app) for subject in bound)
    await caller_says(call, "Billing.")
    heard = await asyncio.wait_for(listening, 5)
    assert heard.kind is HeardKind.SPEECH
    assert 0.3 < (heard.speech_ended_at or 0) - (heard.speech_started_at or 0) < 1.0
    assert bound == []
    assert await call.leftovers_once_audio_flows() == ([], [])


class ScriptedPrompt:
    """Stands in for PlayingPrompt in `hear` without Asterisk: done from `ends_at` media time."""

    def __init__(self, ends_at: float) -> None:
        self.ends_at, self.now, self.stops = ends_at, 0.0, 0

    def done(self) -> bool:
        return self.stops > 0 or self.now >= self.ends_at

    async def stop(self) -> None:
        self.stops += 1


async def synthetic(prompt: ScriptedPrompt, speech: tuple[float, float],
                    seconds: float = 6.0) -> AsyncIterator[AudioFrame]:
    """20 ms frames: a -20 dBFS 300 Hz tone during `speech`, -60 dBFS hiss elsewhere; each
    arrives 10-30 ms late on a clock starting at 100."""
    for index in range(int(seconds * 50)):
        at = index * 0.02
        prompt.now = at
        level = -20 if speech[0] <= at < speech[1] else -60
        amplitude = 32767 * 10 ** ((level + 3.0103) / 20)
        pcm = array("h", (round(amplitude * math.sin(2 * math.pi * 300 * (i / 16000)))
                          for i in range(320))).tobytes()  # fmt: skip
        yield AudioFrame(pcm, at, 100 + at + 0.02 + 0.01 * (1 + index % 3))
        await asyncio.sleep(0)


async def test_hear_barge_in_stops_the_prompt_and_keeps_the_preroll() -> None:
    prompt = ScriptedPrompt(ends_at=3.0)
    heard = await hear(synthetic(prompt, speech=(0.5, 1.5)), prompt_playing=prompt,  # type: ignore[arg-type]
                       params=ListenParams(end_silence_s=0.5))  # fmt: skip
    assert prompt.stops == 1 and heard.barged_in and heard.kind is HeardKind.SPEECH
    assert heard.speech_started_at == pytest.approx(100.5 + 0.01, abs=1e-6)
    assert heard.speech_ended_at == pytest.approx(101.5 + 0.01, abs=1e-6)
    assert len(heard.pcm) / 32000 == pytest.approx(0.3 + 1.0 + 0.5)


async def test_hear_without_barge_in_ignores_speech_under_the_prompt() -> None:
    prompt = ScriptedPrompt(ends_at=2.0)
    heard = await hear(synthetic(prompt, speech=(0.5, 1.5)), prompt_playing=prompt,  # type: ignore[arg-type]
                       params=ListenParams(barge_in=False, first_input_timeout_s=1.0))  # fmt: skip
    assert prompt.stops == 0 and not heard.barged_in
    assert heard.kind is HeardKind.NO_INPUT  # counted from the prompt's end at 2.0 s
