"""Recording a conversation on its bridge, then storing the file with its metadata.

Recording never endangers the call: every failure is logged and journaled, and the call goes on.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from ari_app.ari.errors import AriError
from ari_app.ari.events import AriEvent, RecordingFailed, RecordingFinished, RecordingStarted
from ari_app.context import CallContext
from ari_app.db_retry import save_with_retries
from ari_app.quiet import gone_ok
from ivr.journey import JourneyType
from recordings.files import RecordingFileError, move_into_store, wait_for_file
from recordings.model import RecordingMeta
from recordings.naming import recording_name, store_relative_path

log = structlog.get_logger(__name__)

START_TIMEOUT_S = 5.0
FINISH_TIMEOUT_S = 10.0


@dataclass
class ActiveRecording:
    recording_id: str
    name: str
    queue_id: str
    agent_id: str
    started_at: datetime
    finished: asyncio.Future[AriEvent]


async def start_recording(call: CallContext, bridge_id: str, *, queue_id: str,
                          agent_id: str) -> ActiveRecording | None:
    call.recording_seq += 1
    name = recording_name(call.call_id, call.recording_seq)
    call.bind(name)
    started = call.mailbox.expect(
        lambda e: isinstance(e, RecordingStarted | RecordingFailed) and e.name == name)
    settings = call.parts.recordings
    try:
        await call.parts.ari.record_bridge(bridge_id, name, fmt=settings.format,
                                           if_exists="overwrite")
        async with asyncio.timeout(START_TIMEOUT_S):
            event = await started
    except (AriError, TimeoutError) as exc:
        _failed(call, name, f"could not start: {exc or 'no RecordingStarted'}")
        return None
    finally:
        started.cancel()
    if isinstance(event, RecordingFailed):
        _failed(call, name, f"Asterisk reported failure: {event.cause}")
        return None
    # Registered now: the bridge may be torn down (which ends the recording) before stop.
    finished = call.mailbox.expect(
        lambda e: isinstance(e, RecordingFinished | RecordingFailed) and e.name == name)
    recording = ActiveRecording(str(uuid.uuid4()), name, queue_id, agent_id,
                                datetime.now(UTC), finished)
    call.journal.record(JourneyType.RECORDING, state="started",
                        recording_id=recording.recording_id)
    return recording


async def stop_and_store(call: CallContext, recording: ActiveRecording) -> None:
    """Stop (if still running), wait for the file, move it into the store, keep the metadata."""
    try:
        if not recording.finished.done():
            await gone_ok(call.parts.ari.stop_recording(recording.name), "recording")
        async with asyncio.timeout(FINISH_TIMEOUT_S):
            await recording.finished
    except TimeoutError:
        log.warning("recording.no_finished_event", name=recording.name)
    finally:
        recording.finished.cancel()
        call.unbind(recording.name)
    await _store(call, recording)


async def _store(call: CallContext, recording: ActiveRecording) -> None:
    settings = call.parts.recordings
    source = settings.spool_dir / f"{recording.name}.{settings.format}"
    target = settings.store_dir / store_relative_path(
        recording.started_at, recording.recording_id, settings.format)
    try:
        if not await wait_for_file(source, FINISH_TIMEOUT_S):
            raise RecordingFileError(f"{source}: recording file not found in the spool")
        stored = await move_into_store(source, target)
    except (RecordingFileError, OSError) as exc:
        _failed(call, recording.name, str(exc))
        return
    meta = RecordingMeta(
        recording_id=recording.recording_id, call_id=call.call_id, queue_id=recording.queue_id,
        agent_id=recording.agent_id, started_at=recording.started_at,
        duration_s=round(stored.duration_s, 3), format=settings.format,
        size_bytes=stored.size_bytes, sha256=stored.sha256, path=str(stored.path),
    )
    await _save_meta(call, meta)
    call.journal.record(JourneyType.RECORDING, state="stored", recording_id=meta.recording_id,
                        duration_s=meta.duration_s, size_bytes=meta.size_bytes,
                        sha256=meta.sha256, format=meta.format)


async def _save_meta(call: CallContext, meta: RecordingMeta) -> None:
    # If this fails for good, the file is still safe in the store under its recording id.
    await save_with_retries(lambda: call.parts.db.recordings.add(meta), "recording_meta",
                            recording_id=meta.recording_id, path=meta.path)


def _failed(call: CallContext, name: str, reason: str) -> None:
    log.error("recording.failed", name=name, reason=reason)
    call.journal.record(JourneyType.RECORDING, state="failed", reason=reason)
