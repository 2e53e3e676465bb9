"""recordings.lifecycle.Recorder over ARI: Asterisk records the conversation's bridge.

Muting is ARI's `POST/DELETE /recordings/live/{name}/mute`: the recording keeps reading the
bridge and writes silence in place of it (main/app.c, AST_CONTROL_RECORD_MUTE), so the file
keeps its length (measured on 22.10.1: file = talk time, zero samples where muted); pausing
would drop the stretch and shift everything after it. Asterisk's mute is not idempotent:
res/stasis_recording.c keeps the flag in a signed one-bit field (`int muted:1`), so a second
mute finds -1 != 1 and toggles the recording back to unmuted, after which an unmute mutes it.
Unmute is idempotent (0 == 0). So a recording known to be muted is not asked again, and one
this run did not start (resumed after a restart, state unknown) is unmuted before its mute.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import structlog

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.errors import AriConflict, AriError, AriNotFound
from ari_app.ari.events import AriEvent, RecordingFailed, RecordingFinished, RecordingStarted
from ari_app.calls.call import Call
from recordings.lifecycle import RecorderError, RecordingEnded

log = structlog.get_logger(__name__)

START_TIMEOUT_S = 5.0


class BridgeRecorder:
    def __init__(self, call: Call, bridge_id: str) -> None:
        self._call = call
        self._bridge_id = bridge_id
        self._finished: dict[str, asyncio.Future[AriEvent]] = {}
        self._muted: dict[str, bool | None] = {}  # by name; None: unknown (resumed)

    async def start(self, name: str, fmt: str) -> None:
        call = self._call
        call.bind(name)
        started = call.mailbox.expect(
            lambda e: isinstance(e, RecordingStarted | RecordingFailed) and e.name == name)
        try:
            await call.ari.record_bridge(self._bridge_id, name, fmt=fmt,
                                               if_exists="overwrite")
            async with asyncio.timeout(START_TIMEOUT_S):
                event = await started
        except (AriError, TimeoutError) as exc:
            call.unbind(name)
            raise RecorderError(str(exc) or "no RecordingStarted") from exc
        finally:
            started.cancel()
        if isinstance(event, RecordingFailed):
            call.unbind(name)
            raise RecorderError(f"Asterisk reported failure: {event.cause}")
        self._muted[name] = False
        # Registered now: the bridge may be torn down (which ends the recording) before stop.
        self._finished[name] = call.mailbox.expect(
            lambda e: isinstance(e, RecordingFinished | RecordingFailed) and e.name == name)

    def resume(self, name: str) -> None:
        """Take over a recording an earlier run of the service started on this bridge."""
        self._call.bind(name)
        self._muted[name] = None
        self._finished[name] = self._call.mailbox.expect(
            lambda e: isinstance(e, RecordingFinished | RecordingFailed) and e.name == name)

    async def stop(self, name: str, timeout_s: float) -> None:
        finished = self._finished.pop(name, None)
        if finished is None:
            return
        try:
            if not finished.done() and \
                    not await gone_ok(self._call.ari.stop_recording(name), "recording"):
                # No live recording to stop (it ended with its bridge, or Asterisk is gone):
                # no RecordingFinished will come; the file is already what it will be.
                return
            async with asyncio.timeout(timeout_s):
                await finished
        except TimeoutError:
            log.warning("recording.no_finished_event", name=name)
        finally:
            finished.cancel()
            self._muted.pop(name, None)
            self._call.unbind(name)

    async def mute(self, name: str) -> None:
        """Idempotent here, not in Asterisk (see the module's doc)."""
        known = self._muted.get(name, None)
        if known is True:
            return
        if known is None:  # set Asterisk's flag to a known 0 first
            await _control(self._call.ari.unmute_recording(name))
        await _control(self._call.ari.mute_recording(name))
        self._muted[name] = True

    async def unmute(self, name: str) -> None:
        await _control(self._call.ari.unmute_recording(name))
        self._muted[name] = False


async def _control(request: Awaitable[None]) -> None:
    try:
        await request
    except (AriNotFound, AriConflict) as exc:  # 404: it ended; 409: "not in session"
        raise RecordingEnded(str(exc)) from exc
    except AriError as exc:
        raise RecorderError(str(exc)) from exc
