"""Recording reconcile, at service start and periodically: what a crash or restart left behind.

- Spool files of ended (or unknown) calls that nobody is writing any more are repaired (a WAV
  whose writer died has wrong RIFF/data sizes: Asterisk writes them when it closes the file),
  moved into the store exactly as `CallRecordings.stop_and_store` does, and given their row.
- Files that cannot be recordings are moved to `<store>/quarantine/`, never deleted; files in the
  spool that do not carry our name prefix belong to someone else and are left alone.
- Stored rows whose file is gone or changed, and answered calls with no recording at all, are
  reported; nothing is deleted.

Every finding is logged once (`recording.reconcile.<kind>`), then a summary line.
"""

from __future__ import annotations

import asyncio
import stat
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import structlog

from kernel.db.errors import DatabaseConflict
from recordings.files import (
    FileState,
    RecordingFileError,
    UnreadableRecording,
    WavCheck,
    check_file,
    quarantine,
    repair_wav,
)
from recordings.lifecycle import RecordingPaths, store_recording
from recordings.model import RecordingMeta
from recordings.naming import PREFIX, recording_name, store_relative_path

log = structlog.get_logger(__name__)

QUARANTINE = "quarantine"  # folder inside the store


@dataclass(frozen=True, slots=True)
class CallFacts:
    call_id: str
    ended: bool
    queue_id: str | None
    agent_id: str | None
    started_at: datetime


class CallsPort(Protocol):
    """What the reconcile needs to know about calls (the call engine implements it)."""

    async def facts(self, call_id: str) -> CallFacts | None:
        """The call, or None when no call of that id is known."""
        ...

    async def answered_since(self, since: datetime) -> list[str]:
        """Ids of the answered calls (an agent took them) that ended at or after `since`."""
        ...


class RecordingIndex(Protocol):
    """The recording store's methods the reconcile uses (`recordings.store.RecordingStore`)."""

    async def add(self, meta: RecordingMeta) -> None: ...

    async def started_since(self, since: datetime) -> list[RecordingMeta]: ...

    async def recorded_calls(self, call_ids: list[str]) -> set[str]: ...


@dataclass(frozen=True, slots=True)
class Recovered:
    call_id: str
    name: str  # the spool file's name
    recording_id: str
    path: Path  # in the store
    duration_s: float
    repaired: bool  # the WAV header's sizes had to be rewritten
    indexed: bool  # False: the database never took the row (logged as db.write_lost)


@dataclass(frozen=True, slots=True)
class Quarantined:
    name: str
    path: Path  # where the file is now
    reason: str


@dataclass(frozen=True, slots=True)
class StoredProblem:
    recording_id: str
    call_id: str
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class NoRecording:
    call_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Skipped:
    name: str
    reason: str


@dataclass(slots=True)
class ReconcileReport:
    recovered: list[Recovered] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    missing_file: list[StoredProblem] = field(default_factory=list)
    corrupt: list[StoredProblem] = field(default_factory=list)
    no_recording: list[NoRecording] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # spool files left for a later run

    def summary(self) -> dict[str, int]:
        return {
            "recovered": len(self.recovered),
            "repaired": sum(r.repaired for r in self.recovered),
            "quarantined": len(self.quarantined),
            "missing_file": len(self.missing_file),
            "corrupt": len(self.corrupt),
            "no_recording": len(self.no_recording),
            "skipped": len(self.skipped),
        }


def recording_call_id(name: str) -> str | None:
    """The call id in a recording name made by `recording_name`, or None."""
    head, _, seq = name.rpartition("-")
    call_id = head.removeprefix(f"{PREFIX}-")
    if not (seq.isascii() and seq.isdigit() and call_id and call_id != head):
        return None
    return call_id if recording_name(call_id, int(seq)) == name else None


async def reconcile_recordings(paths: RecordingPaths, index: RecordingIndex, calls: CallsPort,
                               *, is_live: Callable[[str], bool], min_age_s: float = 60,
                               since: datetime) -> ReconcileReport:
    """One reconcile pass. `is_live(name)` says whether the running service is still recording
    under that recording name (the spool file's name without its format). Files younger than
    `min_age_s` by mtime are left for a later pass; rows and answered calls are checked from
    `since` on. Database errors from `index` or `calls` propagate: run it again later."""
    run = _Run(paths, index, calls, is_live, min_age_s)
    await run.verify_rows(since)
    spool_calls = await run.collect_spool()
    await run.find_unrecorded(since, spool_calls)
    log.info("recording.reconcile.done", **run.report.summary())
    return run.report


@dataclass(frozen=True, slots=True)
class _SpoolFile:
    path: Path
    mtime: float


class _Run:
    def __init__(self, paths: RecordingPaths, index: RecordingIndex, calls: CallsPort,
                 is_live: Callable[[str], bool], min_age_s: float) -> None:
        self.paths, self.index, self.calls = paths, index, calls
        self.is_live, self.min_age_s = is_live, min_age_s
        self.report = ReconcileReport()
        self.database_lost = False

    async def verify_rows(self, since: datetime) -> None:
        for meta in await self.index.started_since(since):
            state = await check_file(Path(meta.path), meta.sha256)
            if state is FileState.MISSING:
                self._problem(self.report.missing_file, "recording.reconcile.missing_file", meta,
                              "the recording file is missing from the store")
            elif state is FileState.CHANGED:
                self._problem(self.report.corrupt, "recording.reconcile.corrupt", meta,
                              "the file's sha256 no longer matches its row")

    async def collect_spool(self) -> set[str]:
        """Handle each spool file; the call ids that have a recording file there."""
        seen: set[str] = set()
        now = time.time()
        for spool_file in await asyncio.to_thread(_list_spool, self.paths.spool_dir):
            call_id = recording_call_id(spool_file.path.stem)
            if call_id is not None:
                seen.add(call_id)
            await self._spool_file(spool_file, call_id, now)
        return seen

    async def find_unrecorded(self, since: datetime, spool_calls: set[str]) -> None:
        answered = [c for c in await self.calls.answered_since(since) if c not in spool_calls]
        recorded = await self.index.recorded_calls(answered) if answered else set()
        for call_id in answered:
            if call_id not in recorded:
                finding = NoRecording(call_id, "no recording file was found")
                self.report.no_recording.append(finding)
                log.warning("recording.reconcile.no_recording", call_id=call_id,
                            reason=finding.reason)

    async def _spool_file(self, spool_file: _SpoolFile, call_id: str | None, now: float) -> None:
        path = spool_file.path
        wait = self._not_yet(spool_file, now)
        if wait is not None:
            self._skip(path, wait)
        elif call_id is None:
            await self._quarantine(path, "the name does not parse to a call id")
        elif path.suffix != f".{self.paths.format}":
            await self._quarantine(path, f"not a .{self.paths.format} recording")
        else:
            await self._ended_call_file(spool_file, call_id)

    def _not_yet(self, spool_file: _SpoolFile, now: float) -> str | None:
        """Why the file must be left where it is for now, if it must."""
        name = spool_file.path.stem
        if not name.startswith(f"{PREFIX}-"):
            return "not a hotline recording"
        if self.is_live(name):
            return "still being recorded"
        if now - spool_file.mtime < self.min_age_s:
            return f"written less than {self.min_age_s:g} s ago"
        return None

    async def _ended_call_file(self, spool_file: _SpoolFile, call_id: str) -> None:
        path = spool_file.path
        facts = await self.calls.facts(call_id)
        if facts is not None and not facts.ended:
            self._skip(path, "its call has not ended")
        elif self.database_lost:
            self._skip(path, "the database is unavailable")
        else:
            try:
                check = await self._measure(path)
            except UnreadableRecording as exc:
                await self._quarantine(path, str(exc))
                return
            await self._recover(spool_file, call_id, facts, check)

    async def _measure(self, path: Path) -> WavCheck:
        if self.paths.format == "wav":
            return await repair_wav(path)
        return WavCheck(0.0, repaired=False)  # headerless formats: nothing to repair or read

    async def _recover(self, spool_file: _SpoolFile, call_id: str, facts: CallFacts | None,
                       check: WavCheck) -> None:
        path = spool_file.path
        recording_id = str(uuid.uuid4())
        started_at = datetime.fromtimestamp(spool_file.mtime - check.duration_s, UTC)
        try:
            stored = await store_recording(
                path, self.paths, self.index, recording_id=recording_id, call_id=call_id,
                queue_id=(facts.queue_id or "") if facts else "",
                agent_id=(facts.agent_id or "") if facts else "", started_at=started_at)
        except (RecordingFileError, OSError) as exc:
            log.error("recording.reconcile.move_failed", name=path.name, reason=str(exc))
            self._skip(path, f"could not move it into the store: {exc}")
            return
        except DatabaseConflict as exc:
            # An unknown call: its row cannot exist, so the file does not stay in the store.
            moved = self.paths.store_dir / store_relative_path(
                started_at, recording_id, self.paths.format)
            await self._quarantine(moved, f"the store refused its row: {exc}", name=path.name)
            return
        self.database_lost = not stored.indexed
        meta = stored.meta
        self.report.recovered.append(Recovered(
            call_id, path.name, recording_id, Path(meta.path), meta.duration_s, check.repaired,
            stored.indexed))
        log.warning("recording.reconcile.recovered", call_id=call_id, name=path.name,
                    recording_id=recording_id, duration_s=meta.duration_s,
                    repaired=check.repaired, indexed=stored.indexed)

    async def _quarantine(self, path: Path, reason: str, *, name: str | None = None) -> None:
        """`name`: the file's spool name, when it has already been moved under another."""
        name = name or path.name
        try:
            moved = await quarantine(path, self.paths.store_dir / QUARANTINE, name=name)
        except OSError as exc:
            log.error("recording.reconcile.quarantine_failed", name=name, reason=reason,
                      error=str(exc))
            self._skip(path, f"could not quarantine it ({reason}): {exc}")
            return
        self.report.quarantined.append(Quarantined(name, moved, reason))
        log.warning("recording.reconcile.quarantined", name=name, path=str(moved), reason=reason)

    def _skip(self, path: Path, reason: str) -> None:
        self.report.skipped.append(Skipped(path.name, reason))
        log.debug("recording.reconcile.skipped", name=path.name, reason=reason)

    @staticmethod
    def _problem(found: list[StoredProblem], event: str, meta: RecordingMeta, reason: str) -> None:
        found.append(StoredProblem(meta.recording_id, meta.call_id, meta.path, reason))
        log.warning(event, recording_id=meta.recording_id,
                    call_id=meta.call_id, path=meta.path, reason=reason)


def _list_spool(spool_dir: Path) -> list[_SpoolFile]:
    """The spool's regular files by name; none when the folder does not exist (yet)."""
    try:
        entries = sorted(spool_dir.iterdir())
    except FileNotFoundError:
        return []
    found = []
    for entry in entries:
        try:
            info = entry.lstat()
        except FileNotFoundError:  # finished and moved while we looked
            continue
        if stat.S_ISREG(info.st_mode) and not entry.name.startswith("."):
            found.append(_SpoolFile(entry, info.st_mtime))
    return found
