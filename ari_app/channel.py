"""The IVR's view of a caller (ivr.ports.CallChannel), implemented over ARI."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

from ari_app.ari.events import PlaybackFinished
from ari_app.context import CallContext
from ari_app.quiet import gone_ok


class AriCallChannel:
    def __init__(self, call: CallContext, *, voice: str | None = None) -> None:
        self._call = call
        self._voice = voice

    async def play(self, text: str, *, interruptible: bool = True) -> str | None:
        digits = self._call.mailbox.digits
        if interruptible and digits.peek() is not None:
            return digits.peek()  # type-ahead: the caller already answered, skip the prompt
        parts = self._call.parts
        wav = await parts.renderer.render(text, voice=self._voice)
        media = f"sound:{parts.prompts.asterisk_dir.rstrip('/')}/{wav.stem}"
        playback_id = str(uuid.uuid4())
        self._call.bind(playback_id)
        finished = self._call.mailbox.expect(
            lambda e: isinstance(e, PlaybackFinished) and e.playback_id == playback_id)
        digit_arrived = asyncio.ensure_future(digits.wait_any()) if interruptible else None
        try:
            await parts.ari.play(self._call.channel_id, [media], playback_id)
            waiting: set[asyncio.Future[Any]] = {finished}
            if digit_arrived is not None:
                waiting.add(digit_arrived)
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if finished.done():
                return None
            await gone_ok(parts.ari.stop_playback(playback_id), "playback")
            return digits.peek()
        finally:
            finished.cancel()
            if digit_arrived is not None:
                digit_arrived.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await digit_arrived
            self._call.unbind(playback_id)

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
