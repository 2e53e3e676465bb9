"""Who read which recording, when, from where, and whether they were let: the recordings room's
`ReadAudit` port on the `recording_access` table, and what auditors read back."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select

from ari_app.access.tables import RecordingAccessModel
from kernel.db.unit import Units, key
from recordings.api import ReadOutcome, RecordingRead


class RecordingReadLog:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def record(self, read: RecordingRead) -> None:
        async with self._units.begin("recording_access",
                                     key("recording_id", read.recording_id)) as s:
            s.add(RecordingAccessModel(**{**asdict(read), "outcome": read.outcome.value}))

    async def recent(self, limit: int, *, recording_id: str | None = None,
                     actor: str | None = None) -> list[tuple[int, RecordingRead]]:  # fmt: skip
        """The newest reads first, each with its row id; narrowed to one recording or actor."""
        query = select(RecordingAccessModel)
        if recording_id is not None:
            query = query.where(RecordingAccessModel.recording_id == recording_id)
        if actor is not None:
            query = query.where(RecordingAccessModel.actor == actor)
        query = query.order_by(RecordingAccessModel.id.desc()).limit(limit)
        async with self._units.begin("recording_access", f"newest {limit}") as s:
            return [(row.id, _read(row)) for row in await s.scalars(query)]


def _read(row: RecordingAccessModel) -> RecordingRead:
    return RecordingRead(at=row.at, actor=row.actor, role=row.role,
                         recording_id=row.recording_id, call_id=row.call_id, what=row.what,
                         outcome=ReadOutcome(row.outcome), remote=row.remote)  # fmt: skip
