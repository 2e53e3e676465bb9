"""A conversation's recording from start to stored file: started through a `Recorder` port
(the call engine implements it over Asterisk), muted while card data is spoken (PCI: silence
is written, the timeline keeps its length), then moved from the spool into the store,
measured, hashed and recorded in the database with its muted intervals.

Recording never endangers the call: every failure is logged and journaled, and the call goes on.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import structlog

from ivr.journey import JourneyEvent, JourneyType
from ivr.ports import Journal
from kernel.backoff import Backoff
from kernel.db.retry import save_with_retries
from recordings.files import RecordingFileError, move_into_store, wait_for_file
from recordings.model import MutedInterval, RecordingMeta
from recordings.naming import recording_name, store_relative_path

log = structlog.get_logger(__name__)

FINISH_TIMEOUT_S = 10.0


DEFAULT_MUTE_REASON = "card data"


class RecorderError(Exception):
    """Asterisk could not start the recording, or mute or unmute it (refused, failed or did
    not say in time)."""


class RecordingEnded(RecorderError):
    """The recording to mute or unmute is not running (any more)."""


class Recorder(Protocol):
    """How Asterisk records one conversation into its spool as `<name>.<format>`.

    `mute`/`unmute` (PCI): while muted, silence is written instead of what is said, so the
    file keeps its length and muted stretches sit where they happened; both must be
    idempotent (muting a muted recording changes nothing: Asterisk 22's own mute is not, see
    `ari_app/calls/bridge_recorder.py`) and raise RecordingEnded when the recording no longer
    runs, RecorderError when Asterisk refuses or does not answer.
    """

    async def start(self, name: str, fmt: str) -> None:
        """Return once recording runs; raise RecorderError when it cannot."""
        ...

    async def stop(self, name: str, timeout_s: float) -> None:
        """Stop it (if still running) and return once Asterisk finished the file, or after
        `timeout_s`; never raises."""
        ...

    async def mute(self, name: str) -> None:
        """Write silence from now on, until `unmute`."""
        ...

    async def unmute(self, name: str) -> None:
        """Write what is said again."""
        ...


class MetaStore(Protocol):
    async def add(self, meta: RecordingMeta) -> None: ...


@dataclass(frozen=True, slots=True)
class RecordingPaths:
    spool_dir: Path  # where Asterisk writes (its /var/spool/asterisk/recording)
    store_dir: Path  # where recordings are kept
    format: str = "wav"


class MuteLog:
    """The muted stretches of one live recording, in seconds from its start."""

    def __init__(self) -> None:
        self._open: MutedInterval | None = None  # muted now: since `start_s`
        self._closed: list[MutedInterval] = []

    @property
    def muted(self) -> bool:
        return self._open is not None

    def mute(self, at_s: float, by: str, reason: str) -> bool:
        """False when it already was muted (the first stretch goes on)."""
        if self._open is not None:
            return False
        self._open = MutedInterval(at_s, math.inf, by, reason)
        return True

    def unmute(self, at_s: float) -> bool:
        """False when it was not muted."""
        if self._open is None:
            return False
        self._closed.append(replace(self._open, end_s=max(at_s, self._open.start_s)))
        self._open = None
        return True

    def intervals(self) -> tuple[MutedInterval, ...]:
        """Every stretch so far; one still open ends at infinity (`store_recording` closes
        it at the file's end)."""
        return (*self._closed, *([self._open] if self._open else []))


@dataclass(frozen=True, slots=True)
class ActiveRecording:
    recording_id: str
    name: str
    queue_id: str
    agent_id: str
    started_at: datetime
    recorder: Recorder
    mutes: MuteLog = field(default_factory=MuteLog, compare=False, repr=False)


class MuteState(StrEnum):
    MUTED = "muted"  # the running recording is muted now (it may have been already)
    UNMUTED = "unmuted"
    NOT_RECORDING = "not_recording"  # no recording runs now: nothing to mute


@dataclass(frozen=True, slots=True)
class StoredRecording:
    meta: RecordingMeta
    indexed: bool  # False: the database never took the row, the file is in the store anyway


async def store_recording(source: Path, paths: RecordingPaths, store: MetaStore, *,
                          recording_id: str, call_id: str, queue_id: str, agent_id: str,
                          started_at: datetime,
                          mutes: Sequence[MutedInterval] = ()) -> StoredRecording:
    """Move a finished spool file into the store (measured, hashed) and keep its metadata,
    with its muted intervals held to the file's length (one still open ends at its end).

    RecordingFileError or OSError when the file cannot be moved (it stays in the spool);
    DatabaseConflict when the store refuses the row (the file is in the store by then).
    """
    target = paths.store_dir / store_relative_path(started_at, recording_id, paths.format)
    stored = await move_into_store(source, target)
    duration_s = round(stored.duration_s, 3)
    meta = RecordingMeta(
        recording_id=recording_id, call_id=call_id, queue_id=queue_id, agent_id=agent_id,
        started_at=started_at, duration_s=duration_s, format=paths.format,
        size_bytes=stored.size_bytes, sha256=stored.sha256, path=str(stored.path),
        mutes=tuple(_within(m, duration_s) for m in mutes),
    )
    # If this fails for good, the file is still safe in the store under its recording id.
    indexed = await save_with_retries(lambda: store.add(meta), "recording_meta",
                                      recording_id=meta.recording_id, path=meta.path)
    return StoredRecording(meta, indexed)


def _within(interval: MutedInterval, duration_s: float) -> MutedInterval:
    start = round(min(max(interval.start_s, 0.0), duration_s), 3)
    return replace(interval, start_s=start,
                   end_s=round(min(max(interval.end_s, start), duration_s), 3))


def _utc_now() -> datetime:
    return datetime.now(UTC)


START_ATTEMPTS = 3
START_RETRY_S = 0.25  # the first retry's ceiling (full jitter), doubling


class CallRecordings:
    """One call's recordings: each conversation gets the next sequence number; the one running
    now (`live`) can be muted and unmuted, one change at a time."""

    def __init__(self, call_id: str, paths: RecordingPaths, store: MetaStore,
                 journal: Journal, *, seq: int = 0,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        """`seq`: recordings the call already started (in an earlier run of the service)."""
        self._call_id = call_id
        self._paths = paths
        self._store = store
        self._journal = journal
        self._seq = seq
        self._clock = clock
        self.live: ActiveRecording | None = None
        self._muting = asyncio.Lock()  # a keypad toggle and API requests, one after another

    @property
    def seq(self) -> int:
        """How many recordings this call started so far."""
        return self._seq

    async def start(self, recorder: Recorder, *, queue_id: str,
                    agent_id: str) -> ActiveRecording | None:
        """Start the conversation's recording; a start that fails (Asterisk busy or slow to
        answer) is tried again under a new name, up to START_ATTEMPTS times, each attempt and
        the final failure journaled: a recording is never skipped without a trace."""
        backoff = Backoff(initial=START_RETRY_S, cap=4 * START_RETRY_S)
        for attempt in range(1, START_ATTEMPTS + 1):
            self._seq += 1
            name = recording_name(self._call_id, self._seq)
            try:
                await recorder.start(name, self._paths.format)
                break
            except RecorderError as exc:  # the recorder ended whatever of it may have begun
                if attempt == START_ATTEMPTS:
                    self._failed(name, f"could not start ({attempt} attempts): {exc}")
                    return None
                log.warning("recording.start_retry", name=name, attempt=attempt, error=str(exc))
                self._journal.record(JourneyType.RECORDING, state="start_retry",
                                     attempt=attempt, reason=str(exc))
                await asyncio.sleep(backoff.next_delay())
        recording = ActiveRecording(str(uuid.uuid4()), name, queue_id, agent_id,
                                    self._clock(), recorder)
        self.live = recording
        self._journal.record(JourneyType.RECORDING, state="started",
                             recording_id=recording.recording_id)
        return recording

    def resume(self, recording: ActiveRecording, journey: Iterable[JourneyEvent] = ()) -> None:
        """A recording an earlier run of the service started is the live one again; its
        muted stretches so far are read back from the call's journey (as far as it was
        written before that run ended)."""
        for event in journey:
            details = event.details
            if event.type is not JourneyType.RECORDING or \
                    details.get("recording_id") != recording.recording_id:
                continue
            at_s = details.get("at_s")
            if not isinstance(at_s, int | float):
                continue
            if details.get("state") == MuteState.MUTED:
                recording.mutes.mute(float(at_s), str(details.get("by", "")),
                                     str(details.get("reason", "")))
            elif details.get("state") == MuteState.UNMUTED:
                recording.mutes.unmute(float(at_s))
        self.live = recording

    def release(self, recording: ActiveRecording) -> None:
        """The conversation ends: its recording can no longer be muted from now on."""
        if self.live is recording:
            self.live = None

    async def mute(self, by: str, reason: str = DEFAULT_MUTE_REASON) -> MuteState:
        """Mute the live recording; RecorderError when Asterisk refuses or does not answer."""
        async with self._muting:
            return await self._set_muted(True, by, reason)

    async def unmute(self, by: str) -> MuteState:
        async with self._muting:
            return await self._set_muted(False, by, "")

    async def toggle_mute(self, by: str, reason: str = DEFAULT_MUTE_REASON) -> MuteState:
        """Mute if not muted, else unmute (the agent's keypad code)."""
        async with self._muting:
            muted = self.live is not None and self.live.mutes.muted
            return await self._set_muted(not muted, by, reason)

    async def _set_muted(self, muted: bool, by: str, reason: str) -> MuteState:
        recording = self.live
        if recording is None:
            return MuteState.NOT_RECORDING
        if muted and recording.mutes.muted:
            return MuteState.MUTED  # muted already: never ask again (Asterisk would toggle)
        # An unmute is asked every time: after a restart Asterisk may hold a mute this run
        # never heard of, and asking it to unmute what is not muted changes nothing.
        control = recording.recorder.mute if muted else recording.recorder.unmute
        try:
            await control(recording.name)
        except RecordingEnded:
            return MuteState.NOT_RECORDING
        at_s = (self._clock() - recording.started_at).total_seconds()
        mutes = recording.mutes
        changed = mutes.mute(at_s, by, reason) if muted else mutes.unmute(at_s)
        state = MuteState.MUTED if muted else MuteState.UNMUTED
        if changed:
            log.info("recording.muted" if muted else "recording.unmuted", name=recording.name,
                     by=by, at_s=round(at_s, 3))
            details = {"reason": reason} if muted else {}
            self._journal.record(JourneyType.RECORDING, state=str(state),
                                 recording_id=recording.recording_id, at_s=round(at_s, 3),
                                 by=by, **details)
        return state

    async def stop_and_store(self, recording: ActiveRecording) -> None:
        """Stop (if still running), wait for the file, move it into the store, keep the
        metadata. Run it as after-hangup work: it must finish even when the caller is gone."""
        async with self._muting:  # a mute under way finishes first, and none starts after
            self.release(recording)
        await recording.recorder.stop(recording.name, FINISH_TIMEOUT_S)
        source = self._paths.spool_dir / f"{recording.name}.{self._paths.format}"
        try:
            if not await wait_for_file(source, FINISH_TIMEOUT_S):
                raise RecordingFileError(f"{source}: recording file not found in the spool")
            stored = await store_recording(
                source, self._paths, self._store, recording_id=recording.recording_id,
                call_id=self._call_id, queue_id=recording.queue_id,
                agent_id=recording.agent_id, started_at=recording.started_at,
                mutes=recording.mutes.intervals())
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
