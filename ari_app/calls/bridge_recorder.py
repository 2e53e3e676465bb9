"""recordings.lifecycle.Recorder over ARI: Asterisk records the conversation's bridge.

Stopping and muting a live recording: `ari_app.calls.live_recording`.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.errors import AriError
from ari_app.ari.events import AriEvent, RecordingFailed, RecordingStarted
from ari_app.calls.call import Call
from ari_app.calls.live_recording import control, ended, mute_once, stop_and_wait
from recordings.lifecycle import RecorderError

log = structlog.get_logger(__name__)

START_TIMEOUT_S = 5.0
ABANDON_TIMEOUT_S = 1.0  # ending a start that failed: best effort, briefly


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
            # Unanswered or slow, it may have begun after all: end it, so a retry under a
            # new name does not leave two recordings of one conversation.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(ABANDON_TIMEOUT_S):
                    await gone_ok(call.ari.stop_recording(name), "recording")
            call.unbind(name)
            raise RecorderError(str(exc) or "no RecordingStarted") from exc
        finally:
            started.cancel()
        if isinstance(event, RecordingFailed):
            call.unbind(name)
            raise RecorderError(f"Asterisk reported failure: {event.cause}")
        self._muted[name] = False
        # Registered now: the bridge may be torn down (which ends the recording) before stop.
        self._finished[name] = ended(call, name)

    def resume(self, name: str) -> None:
        """Take over a recording an earlier run of the service started on this bridge."""
        self._call.bind(name)
        self._muted[name] = None
        self._finished[name] = ended(self._call, name)

    async def stop(self, name: str, timeout_s: float) -> None:
        finished = self._finished.pop(name, None)
        if finished is None:
            return
        try:
            async with asyncio.timeout(timeout_s):
                await stop_and_wait(self._call, name, finished)
        except TimeoutError:
            log.warning("recording.no_finished_event", name=name)
        finally:
            finished.cancel()
            self._muted.pop(name, None)
            self._call.unbind(name)

    async def mute(self, name: str) -> None:
        """Idempotent here, not in Asterisk (`live_recording.mute_once`)."""
        ari = self._call.ari
        await mute_once(self._muted.get(name), lambda: control(ari.unmute_recording(name)),
                        lambda: control(ari.mute_recording(name)))
        self._muted[name] = True

    async def unmute(self, name: str) -> None:
        await control(self._call.ari.unmute_recording(name))
        self._muted[name] = False
