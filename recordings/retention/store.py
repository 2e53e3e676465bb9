"""Holds, candidates for the sweep and the deletion's one transaction, in the database.

Placing a hold and deleting a recording both lock the recording's row first (`FOR UPDATE` on
PostgreSQL; SQLite has one writer at a time), so a hold placed while a deletion runs either
comes first (and the deletion is refused) or finds no recording.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db.unit import Units, key
from recordings.model import RecordingMeta
from recordings.retention.model import Deletion, Hold, NoSuchRecording, NotOnHold, OnHold
from recordings.retention.policy import Candidate, Cutoff
from recordings.retention.tables import RecordingDeletionModel, RecordingHoldModel
from recordings.store import _meta
from recordings.tables import RecordingModel

H, D, R = RecordingHoldModel, RecordingDeletionModel, RecordingModel


def _hold(row: RecordingHoldModel) -> Hold:
    return Hold(row.id, row.recording_id, row.placed_by, row.placed_at, row.reason,
                row.lifted_by, row.lifted_at, row.lift_reason)


def _deletion(row: RecordingDeletionModel) -> Deletion:
    return Deletion(row.at, row.actor, row.reason, row.recording_id, row.call_id, row.queue_id,
                    row.agent_id, row.started_at, row.file_name, row.sha256, row.size_bytes,
                    row.file_found)


async def _locked(s: AsyncSession, recording_id: str) -> RecordingModel:
    row = await s.get(R, recording_id, with_for_update=True)
    if row is None:
        raise NoSuchRecording(recording_id)
    return row


async def _active(s: AsyncSession, recording_id: str) -> RecordingHoldModel | None:
    return await s.scalar(select(H).where(H.recording_id == recording_id,
                                          H.lifted_at.is_(None)))


class RetentionStore:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def place_hold(self, recording_id: str, by: str, reason: str, at: datetime) -> Hold:
        """NoSuchRecording, or OnHold when a hold is already active."""
        async with self._units.begin("recording_holds", key("recording_id", recording_id)) as s:
            await _locked(s, recording_id)
            if (current := await _active(s, recording_id)) is not None:
                raise OnHold(_hold(current))
            row = H(recording_id=recording_id, placed_by=by, placed_at=at, reason=reason)
            s.add(row)
            await s.flush()
            return _hold(row)

    async def lift_hold(self, recording_id: str, by: str, reason: str, at: datetime) -> Hold:
        """NotOnHold when no hold is active."""
        async with self._units.begin("recording_holds", key("recording_id", recording_id)) as s:
            row = await s.scalar(select(H).where(H.recording_id == recording_id,
                                                 H.lifted_at.is_(None)).with_for_update())
            if row is None:
                raise NotOnHold(recording_id)
            row.lifted_by, row.lifted_at, row.lift_reason = by, at, reason
            return _hold(row)

    async def active_hold(self, recording_id: str) -> Hold | None:
        async with self._units.begin("recording_holds", key("recording_id", recording_id)) as s:
            row = await _active(s, recording_id)
            return None if row is None else _hold(row)

    async def holds(self, limit: int, *, recording_id: str | None = None,
                    active: bool | None = None) -> list[Hold]:  # fmt: skip
        """Newest first; narrowed to one recording, or to active (or lifted) holds."""
        query = select(H)
        if recording_id is not None:
            query = query.where(H.recording_id == recording_id)
        if active is not None:
            query = query.where(H.lifted_at.is_(None) if active else H.lifted_at.is_not(None))
        async with self._units.begin("recording_holds", f"newest {limit}") as s:
            return [_hold(r) for r in await s.scalars(query.order_by(H.id.desc()).limit(limit))]

    async def deletions(self, limit: int, *, recording_id: str | None = None,
                        actor: str | None = None) -> list[tuple[int, Deletion]]:  # fmt: skip
        """Newest first, each with its row id."""
        query = select(D)
        if recording_id is not None:
            query = query.where(D.recording_id == recording_id)
        if actor is not None:
            query = query.where(D.actor == actor)
        async with self._units.begin("recording_deletions", f"newest {limit}") as s:
            rows = await s.scalars(query.order_by(D.id.desc()).limit(limit))
            return [(r.id, _deletion(r)) for r in rows]

    async def candidates(self, rules: Sequence[Cutoff], limit: int) -> list[Candidate]:
        """Recordings past one of `rules`, not held, oldest first, at most `limit`."""
        if not rules:
            return []
        held = exists().where(H.recording_id == R.recording_id, H.lifted_at.is_(None))
        query = (select(R.recording_id, R.queue_id, R.started_at)
                 .where(or_(*[_past(rule) for rule in rules]), ~held)
                 .order_by(R.started_at, R.recording_id).limit(limit))  # fmt: skip
        async with self._units.begin("recordings", "retention candidates") as s:
            return [Candidate(rid, queue, started) for rid, queue, started
                    in (await s.execute(query)).all()]  # fmt: skip

    async def recording(self, recording_id: str) -> RecordingMeta | None:
        async with self._units.begin("recordings", key("recording_id", recording_id)) as s:
            row = await s.get(R, recording_id)
            return None if row is None else _meta(row)

    async def delete_rows(self, deletion: Deletion) -> None:
        """The recording's row (its comments, evaluations and training entry go with it: the
        foreign keys cascade) and the deletion's audit row, in one transaction. NoSuchRecording,
        or OnHold: then nothing changed."""
        rid = deletion.recording_id
        async with self._units.begin("recordings", key("recording_id", rid)) as s:
            await _locked(s, rid)
            if (current := await _active(s, rid)) is not None:
                raise OnHold(_hold(current))
            s.add(D(**asdict(deletion)))
            await s.flush()  # the audit row first: if it cannot be written, nothing goes
            await s.execute(delete(R).where(R.recording_id == rid))


def _past(rule: Cutoff) -> ColumnElement[bool]:
    where = [R.started_at <= rule.before]
    if rule.queue_id is not None:
        where.append(R.queue_id == rule.queue_id)
    elif rule.excluded:
        where.append(R.queue_id.not_in(sorted(rule.excluded)))
    return and_(*where)
