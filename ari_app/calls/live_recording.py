"""What both Recorders over ARI (bridge_recorder, snoop_recorder) do with a live recording:
wait for its end, stop it, and mute or unmute it with ARI's errors in the port's terms.

Muting is ARI's `POST/DELETE /recordings/live/{name}/mute`: the recording keeps reading and
writes silence in place of the audio (main/app.c, AST_CONTROL_RECORD_MUTE), so the file keeps
its length (measured on 22.10.1: file = talk time, zero samples where muted); pausing would
drop the stretch and shift everything after it. Asterisk's mute is not idempotent:
res/stasis_recording.c keeps the flag in a signed one-bit field (`int muted:1`), so a second
mute finds -1 != 1 and toggles the recording back to unmuted, after which an unmute mutes it
(measured on bridge and channel recordings alike). Unmute is idempotent (0 == 0). So a
recording known to be muted is not asked again, and one this run did not start (resumed
after a restart, state unknown) is unmuted before its mute: `mute_once`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.errors import AriConflict, AriError, AriNotFound
from ari_app.ari.events import AriEvent, RecordingFailed, RecordingFinished
from ari_app.calls.call import Call
from recordings.lifecycle import RecorderError, RecordingEnded


def ended(call: Call, name: str) -> asyncio.Future[AriEvent]:
    """The recording's end, as Asterisk reports it (finished or failed)."""
    return call.mailbox.expect(
        lambda e: isinstance(e, RecordingFinished | RecordingFailed) and e.name == name)


async def stop_and_wait(call: Call, name: str, finished: asyncio.Future[AriEvent]) -> None:
    """Stop the recording (unless it ended) and wait for its end. Nothing left to stop (it
    ended with its bridge or channel, or Asterisk is gone): no event will come, return."""
    if not finished.done() and not await gone_ok(call.ari.stop_recording(name), "recording"):
        return
    await finished


async def control(request: Awaitable[None]) -> None:
    """A mute or unmute request, its ARI errors as the Recorder port names them."""
    try:
        await request
    except (AriNotFound, AriConflict) as exc:  # 404: it ended; 409: "not in session"
        raise RecordingEnded(str(exc)) from exc
    except AriError as exc:
        raise RecorderError(str(exc)) from exc


async def mute_once(known: bool | None, unmute: Callable[[], Awaitable[None]],
                    mute: Callable[[], Awaitable[None]]) -> None:
    """Mute a recording whose mute state is `known` (None: not known) without toggling it
    (see the module's doc): nothing when muted, an unmute first when not known."""
    if known is True:
        return
    if known is None:
        await unmute()
    await mute()
