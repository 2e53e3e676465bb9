"""The IVR's view of a caller (ivr.ports.CallChannel), implemented over ARI."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

import structlog

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.events import AriEvent
from ari_app.calls.call import Call
from ari_app.media.caller_audio import AudioFrame, CallerAudio, CallerAudioError
from ari_app.media.listen import Heard, hear
from ari_app.media.listen import ListenParams as MediaParams
from ari_app.media.listen import listen as listen_to_caller
from ari_app.media.prompt import PlayingPrompt, PromptSounds, StartPromptMixin
from ivr.journey import JourneyType
from ivr.ports import HeardAudio, HeardKind, ListenParams, PromptHandle
from kernel.aio import first_of

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _Turn:
    """When the caller's last utterance ended (last voiced frame) and when we decided so,
    on the loop clock: the next prompt's PlaybackStarted closes the turn."""

    speech_ended_at: float
    decided_at: float


class AriCallChannel(StartPromptMixin):
    def __init__(self, call: Call, prompts: PromptSounds, *, voice: str | None = None) -> None:
        self._call = call
        self._prompts = prompts
        self._voice = voice
        self._turn: _Turn | None = None
        self._frames: AsyncGenerator[AudioFrame, None] | None = None

    async def start_prompt(self, text: str) -> PlayingPrompt:
        turn, self._turn = self._turn, None
        prompt = await super().start_prompt(text)
        journal = self._call.journal
        journal.save_checkpoint(journal.checkpoint.to(playback_id=prompt.playback_id))
        if turn is not None and prompt.started is not None:
            prompt.started.add_done_callback(lambda started: self._close_turn(turn, started))
        return prompt

    def _close_turn(self, turn: _Turn, started: asyncio.Future[AriEvent]) -> None:
        """Journal the caller-perceived latency of the turn (research/ivr.md §6.2)."""
        if started.cancelled():
            return
        now = asyncio.get_running_loop().time()
        self._call.journal.record(
            JourneyType.TURN, from_speech_end_ms=round((now - turn.speech_ended_at) * 1000),
            from_decision_ms=round((now - turn.decided_at) * 1000))

    async def play(self, text: str, *, interruptible: bool = True) -> str | None:
        digits = self._call.mailbox.digits
        if interruptible and digits.peek() is not None:
            return digits.peek()  # type-ahead: the caller already answered, skip the prompt
        prompt = await self.start_prompt(text)
        try:
            if interruptible:
                await first_of(prompt.finished, digits.wait_any())
            else:
                await asyncio.wait({prompt.finished})
            if prompt.done():
                return None
            await prompt.stop()
            return digits.peek()
        finally:
            if not prompt.done():
                await gone_ok(self._call.ari.stop_playback(prompt.playback_id), "playback")
                prompt.finished.cancel()

    @contextlib.asynccontextmanager
    async def hearing(self) -> AsyncIterator[None]:
        """The caller's audio, open for the block. When it cannot be opened the block runs
        anyway: `listen` tries once more and degrades to 'no input' (keys still work)."""
        audio = CallerAudio.for_call(self._call)
        try:
            self._frames = await audio.__aenter__()
        except CallerAudioError as exc:
            if self._call.mailbox.has_ended(self._call.channel_id):
                raise asyncio.CancelledError from exc
            log.warning("speech.audio_unavailable", error=str(exc))
        try:
            yield
        finally:
            self._frames = None
            await audio.__aexit__(None, None, None)

    async def listen(self, *, prompt: PromptHandle | None, params: ListenParams) -> HeardAudio:
        """One utterance of the caller's; a broken audio path degrades to 'no input' (the
        keypad still works) instead of failing the call."""
        playing = prompt if isinstance(prompt, PlayingPrompt) else None
        media = MediaParams(first_input_timeout_s=params.first_input_timeout_s,
                            end_silence_s=params.end_silence_s,
                            max_speech_s=params.max_speech_s, barge_in=params.barge_in)
        try:
            heard: Heard
            if self._frames is not None:
                heard = await hear(self._frames, prompt_playing=playing, params=media)
            else:
                heard = await listen_to_caller(self._call, prompt_playing=playing, params=media)
        except CallerAudioError as exc:
            if self._call.mailbox.has_ended(self._call.channel_id):
                raise asyncio.CancelledError from exc  # the hangup cancels us anyway
            log.warning("speech.audio_unavailable", error=str(exc))
            return HeardAudio(HeardKind.NO_INPUT, b"", 16000)
        if heard.kind is HeardKind.SPEECH and heard.speech_ended_at is not None:
            self._turn = _Turn(heard.speech_ended_at, heard.detected_at)
        return HeardAudio(heard.kind, heard.pcm, heard.sample_rate, heard.barged_in)

    async def collect_digits(self, *, max_digits: int, first_timeout: float,
                             inter_digit_timeout: float, finish_key: str | None = "#") -> str:
        collected = ""
        timeout = first_timeout
        while len(collected) < max_digits:
            digit = await self._call.mailbox.digits.get_within(timeout)
            if digit is None or digit == finish_key:
                break
            collected += digit
            timeout = inter_digit_timeout
        return collected

    def discard_digits(self) -> None:
        self._call.mailbox.digits.clear()
