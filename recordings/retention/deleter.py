"""Deleting a recording: its file, its row and what depends on it, together, then audited; and
the retention sweep that deletes what the policy says is due.

The file is first renamed to a hidden trash name in its own folder (atomic, same file system);
then the rows go in one transaction that also writes the audit row; only then is the trash
unlinked. If the transaction fails, the file is renamed back: nothing is half deleted. A trash
file left behind (unlinking failed after the commit) is logged; it is hidden and holds a
recording that no longer exists anywhere else.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import datetime
from pathlib import Path

import structlog

from recordings.retention.model import Deletion, FileOutsideStore, NoSuchRecording, OnHold
from recordings.retention.policy import SWEEP_ACTOR, RetentionPolicy, cutoffs, due
from recordings.retention.store import RetentionStore

log = structlog.get_logger(__name__)

SWEEP_BATCH = 200


def _to_trash(path: Path, root: Path | None) -> tuple[Path, Path, bool]:
    """(the file, its trash name, whether it was there and is now renamed)."""
    resolved = path.resolve()
    if root is None or not resolved.is_relative_to(root.resolve()):
        raise FileOutsideStore(str(path))
    trash = resolved.with_name(f".{resolved.name}.deleting-{uuid.uuid4().hex[:12]}")
    try:
        os.rename(resolved, trash)
    except FileNotFoundError:
        return resolved, trash, False
    return resolved, trash, True


class RecordingDeleter:
    def __init__(self, store: RetentionStore, store_dir: Path | None) -> None:
        self._store = store
        self._root = store_dir  # files are deleted only inside it (None: never)

    async def delete(self, recording_id: str, actor: str, reason: str,
                     at: datetime) -> Deletion:  # fmt: skip
        """NoSuchRecording, OnHold, FileOutsideStore (nothing changed), or the database's
        errors (nothing changed either: the file is back)."""
        meta = await self._store.recording(recording_id)
        if meta is None:
            raise NoSuchRecording(recording_id)
        if (hold := await self._store.active_hold(recording_id)) is not None:
            raise OnHold(hold)  # before the file is touched: a listener keeps hearing it
        path, trash, found = await asyncio.to_thread(_to_trash, Path(meta.path), self._root)
        deletion = Deletion(at, actor, reason, meta.recording_id, meta.call_id, meta.queue_id,
                            meta.agent_id, meta.started_at, path.name, meta.sha256,
                            meta.size_bytes, found)  # fmt: skip
        try:
            await self._store.delete_rows(deletion)
        except BaseException:
            if found:  # a rename, not blocking I/O worth a thread; it must run even if cancelled
                os.rename(trash, path)
            raise
        if found:
            try:
                await asyncio.to_thread(trash.unlink)
            except OSError as exc:
                log.error("recording.trash_left", recording_id=recording_id, error=str(exc))
        log.info("recording.deleted", recording_id=recording_id, actor=actor,
                 file_found=found)  # fmt: skip
        return deletion

    async def sweep(self, policy: RetentionPolicy, now: datetime) -> int:
        """Delete every recording due at `now` (held ones never), each audited with the
        rule's reason and actor `retention`; how many were deleted."""
        deleted = 0
        while True:
            candidates = await self._store.candidates(cutoffs(policy, now), SWEEP_BATCH)
            done = 0
            for candidate in due(candidates, policy, now):
                try:
                    await self.delete(candidate.recording_id, SWEEP_ACTOR,
                                      policy.why(candidate.queue_id), now)
                except (NoSuchRecording, OnHold):
                    continue  # deleted by hand, or held, since it was read
                except FileOutsideStore:
                    log.error("recordings.path_outside_store", recording_id=candidate.recording_id)
                    continue
                done += 1
            deleted += done
            if done == 0 or len(candidates) < SWEEP_BATCH:
                return deleted
