"""A conversation's recording from start to stored file: started through a `Recorder` port
(the call engine implements it over Asterisk), then moved from the spool into the store,
measured, hashed and recorded in the database.

Recording never endangers the call: every failure is logged and journaled, and the call goes on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import structlog

from ivr.journey import JourneyType
from ivr.ports import Journal
from kernel.db.retry import save_with_retries
from recordings.files import RecordingFileError, move_into_store, wait_for_file
from recordings.model import RecordingMeta
from recordings.naming import recording_name, store_relative_path

log = structlog.get_logger(__name__)

FINISH_TIMEOUT_S = 10.0


class RecorderError(Exception):
    """Asterisk could not start the recording (refused, failed or did not say in time)."""


class Recorder(Protocol):
    """How Asterisk records one conversation into its spool as `<name>.<format>`."""

    async def start(self, name: str, fmt: str) -> None:
        """Return once recording runs; raise RecorderError when it cannot."""
        ...

    async def stop(self, name: str, timeout_s: float) -> None:
        """Stop it (if still running) and return once Asterisk finished the file, or after
        `timeout_s`; never raises."""
        ...


class MetaStore(Protocol):
    async def add(self, meta: RecordingMeta) -> None: ...


@dataclass(frozen=True, slots=True)
class RecordingPaths:
    spool_dir: Path  # where Asterisk writes (its /var/spool/asterisk/recording)
    store_dir: Path  # where recordings are kept
    format: str = "wav"


@dataclass(frozen=True, slots=True)
class ActiveRecording:
    recording_id: str
    name: str
    queue_id: str
    agent_id: str
    started_at: datetime
    recorder: Recorder


@dataclass(frozen=True, slots=True)
class StoredRecording:
    meta: RecordingMeta
    indexed: bool  # False: the database never took the row, the file is in the store anyway


async def store_recording(source: Path, paths: RecordingPaths, store: MetaStore, *,
                          recording_id: str, call_id: str, queue_id: str, agent_id: str,
                          started_at: datetime) -> StoredRecording:
    """Move a finished spool file into the store (measured, hashed) and keep its metadata.

    RecordingFileError or OSError when the file cannot be moved (it stays in the spool);
    DatabaseConflict when the store refuses the row (the file is in the store by then).
    """
    target = paths.store_dir / store_relative_path(started_at, recording_id, paths.format)
    stored = await move_into_store(source, target)
    meta = RecordingMeta(
        recording_id=recording_id, call_id=call_id, queue_id=queue_id, agent_id=agent_id,
        started_at=started_at, duration_s=round(stored.duration_s, 3), format=paths.format,
        size_bytes=stored.size_bytes, sha256=stored.sha256, path=str(stored.path),
    )
    # If this fails for good, the file is still safe in the store under its recording id.
    indexed = await save_with_retries(lambda: store.add(meta), "recording_meta",
                                      recording_id=meta.recording_id, path=meta.path)
    return StoredRecording(meta, indexed)


class CallRecordings:
    """One call's recordings: each conversation gets the next sequence number."""

    def __init__(self, call_id: str, paths: RecordingPaths, store: MetaStore,
                 journal: Journal, *, seq: int = 0) -> None:
        """`seq`: recordings the call already started (in an earlier run of the service)."""
        self._call_id = call_id
        self._paths = paths
        self._store = store
        self._journal = journal
        self._seq = seq

    @property
    def seq(self) -> int:
        """How many recordings this call started so far."""
        return self._seq

    async def start(self, recorder: Recorder, *, queue_id: str,
                    agent_id: str) -> ActiveRecording | None:
        self._seq += 1
        name = recording_name(self._call_id, self._seq)
        try:
            await recorder.start(name, self._paths.format)
        except RecorderError as exc:
            self._failed(name, f"could not start: {exc}")
            return None
        recording = ActiveRecording(str(uuid.uuid4()), name, queue_id, agent_id,
                                    datetime.now(UTC), recorder)
        self._journal.record(JourneyType.RECORDING, state="started",
                             recording_id=recording.recording_id)
        return recording

    async def stop_and_store(self, recording: ActiveRecording) -> None:
        """Stop (if still running), wait for the file, move it into the store, keep the
        metadata. Run it as after-hangup work: it must finish even when the caller is gone."""
        await recording.recorder.stop(recording.name, FINISH_TIMEOUT_S)
        source = self._paths.spool_dir / f"{recording.name}.{self._paths.format}"
        try:
            if not await wait_for_file(source, FINISH_TIMEOUT_S):
                raise RecordingFileError(f"{source}: recording file not found in the spool")
            stored = await store_recording(
                source, self._paths, self._store, recording_id=recording.recording_id,
                call_id=self._call_id, queue_id=recording.queue_id,
                agent_id=recording.agent_id, started_at=recording.started_at)
        except (RecordingFileError, OSError) as exc:
            self._failed(recording.name, str(exc))
            return
        meta = stored.meta
        self._journal.record(JourneyType.RECORDING, state="stored",
                             recording_id=meta.recording_id, duration_s=meta.duration_s,
                             size_bytes=meta.size_bytes, sha256=meta.sha256, format=meta.format)

    def _failed(self, name: str, reason: str) -> None:
        log.error("recording.failed", name=name, reason=reason)
        self._journal.record(JourneyType.RECORDING, state="failed", reason=reason)
