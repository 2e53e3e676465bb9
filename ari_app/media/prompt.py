"""Play without waiting: start a prompt, get a handle that can be awaited or stopped.

``AriCallChannel.play`` waits for the prompt to end. Listening during a prompt (barge-in)
needs the prompt running while we read the caller's audio, and a way to stop it the moment
speech starts: `start_playback` returns that handle. `StartPromptMixin` adds
``start_prompt(text)`` (rendered like ``play``) to AriCallChannel.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.events import AriEvent, PlaybackFinished, PlaybackStarted
from ari_app.ari.rest import AriRest
from ari_app.calls.call import Call
from ari_app.media.caller_audio import EventWaiter
from ivr.tts import PromptRenderer

STOP_TIMEOUT_S = 2.0


@dataclass
class PlayingPrompt:
    """A playback under way. `finished` resolves with its PlaybackFinished (state `done`, or
    `failed` when it was stopped, the file is missing or the channel went away); `started`
    with its PlaybackStarted (the moment the caller begins to hear it), or is cancelled when
    it finished without starting."""

    ari: AriRest
    playback_id: str
    finished: asyncio.Future[AriEvent]
    started: asyncio.Future[AriEvent] | None = None
    stopped: bool = False

    def done(self) -> bool:
        return self.finished.done()

    async def stop(self) -> None:
        """Stop it (DELETE /playbacks/{id}) unless it already ended; does not wait for
        PlaybackFinished (await `finished` for that)."""
        if self.finished.done() or self.stopped:
            return
        self.stopped = True
        async with asyncio.timeout(STOP_TIMEOUT_S):
            await gone_ok(self.ari.stop_playback(self.playback_id), "playback")

    async def wait_done(self) -> None:
        """Until the playback ended, however it ended."""
        await asyncio.wait({self.finished})

    async def wait(self, timeout_s: float) -> AriEvent:
        async with asyncio.timeout(timeout_s):
            return await asyncio.shield(self.finished)


async def start_playback(ari: AriRest, channel_id: str, media: Sequence[str], *,
                         events: EventWaiter, bind: Callable[[str], None] = lambda _: None,
                         unbind: Callable[[str], None] = lambda _: None,
                         playback_id: str | None = None) -> PlayingPrompt:
    """Queue `media` on the channel and return as soon as Asterisk accepted it."""
    playback_id = playback_id or str(uuid.uuid4())
    bind(playback_id)
    finished = events.expect(
        lambda e: isinstance(e, PlaybackFinished) and e.playback_id == playback_id)
    started = events.expect(
        lambda e: isinstance(e, PlaybackStarted) and e.playback_id == playback_id)

    def ended(_: asyncio.Future[AriEvent]) -> None:
        started.cancel()
        unbind(playback_id)

    finished.add_done_callback(ended)
    try:
        await ari.play(channel_id, media, playback_id)
    except BaseException:
        finished.cancel()
        raise
    return PlayingPrompt(ari, playback_id, finished, started)


class PromptSounds:
    """Prompt texts as Asterisk media: rendered (cached) into the folder Asterisk reads as
    `asterisk_dir`, named `sound:<asterisk_dir>/<file>`."""

    def __init__(self, renderer: PromptRenderer, asterisk_dir: str) -> None:
        self._renderer = renderer
        self._asterisk_dir = asterisk_dir.rstrip("/")

    async def media(self, text: str, voice: str | None) -> str:
        wav = await self._renderer.render(text, voice=voice)
        return f"sound:{self._asterisk_dir}/{wav.stem}"


class StartPromptMixin:
    """For AriCallChannel (which sets `_call`, `_prompts` and `_voice`)."""

    _call: Call
    _prompts: PromptSounds
    _voice: str | None

    async def start_prompt(self, text: str) -> PlayingPrompt:
        media = await self._prompts.media(text, self._voice)
        return await start_playback(self._call.ari, self._call.channel_id, [media],
                                    events=self._call.mailbox, bind=self._call.bind,
                                    unbind=self._call.unbind)  # fmt: skip
