"""Stores for recordings and survey answers: domain values in, domain values out."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select

from kernel.db.unit import Units, key
from recordings.model import MutedInterval, RecordingMeta, SurveyAnswer
from recordings.tables import RecordingModel, SurveyAnswerModel

_IN_CHUNK = 500


class RecordingStore:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def add(self, meta: RecordingMeta) -> None:
        """Record a finished recording; DatabaseConflict for a taken id or an unknown call."""
        async with self._units.begin("recordings", key("recording_id", meta.recording_id)) as s:
            s.add(
                RecordingModel(
                    recording_id=meta.recording_id,
                    call_id=meta.call_id,
                    queue_id=meta.queue_id,
                    agent_id=meta.agent_id,
                    started_at=meta.started_at,
                    duration_s=meta.duration_s,
                    format=meta.format,
                    size_bytes=meta.size_bytes,
                    sha256=meta.sha256,
                    path=meta.path,
                    mutes=[asdict(m) for m in meta.mutes] or None,
                )
            )

    async def get(self, recording_id: str) -> RecordingMeta | None:
        async with self._units.begin("recordings", key("recording_id", recording_id)) as s:
            row = await s.get(RecordingModel, recording_id)
            return None if row is None else _meta(row)

    async def for_call(self, call_id: str) -> list[RecordingMeta]:
        """The call's recordings in the order they started."""
        async with self._units.begin("recordings", key("call_id", call_id)) as s:
            rows = await s.scalars(
                select(RecordingModel)
                .where(RecordingModel.call_id == call_id)
                .order_by(RecordingModel.started_at, RecordingModel.recording_id)
            )
            return [_meta(row) for row in rows]

    async def started_since(self, since: datetime) -> list[RecordingMeta]:
        """Recordings started at or after `since`, oldest first (what a reconcile verifies)."""
        async with self._units.begin("recordings", f"started_at>={since.isoformat()}") as s:
            rows = await s.scalars(
                select(RecordingModel)
                .where(RecordingModel.started_at >= since)
                .order_by(RecordingModel.started_at, RecordingModel.recording_id)
            )
            return [_meta(row) for row in rows]

    async def recorded_calls(self, call_ids: Collection[str]) -> set[str]:
        """Those of `call_ids` that have at least one recording."""
        wanted = sorted(set(call_ids))
        found: set[str] = set()
        # Chunked: SQLite and asyncpg both cap the parameters of one statement.
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            async with self._units.begin("recordings", f"call_id in {len(chunk)} ids") as s:
                rows = await s.scalars(
                    select(RecordingModel.call_id).where(RecordingModel.call_id.in_(chunk))
                )
                found.update(rows)
        return found


class SurveyStore:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def add(self, answer: SurveyAnswer) -> None:
        """Keep the call's one answer; DatabaseConflict for a second answer, an unknown call
        or a score outside 1..5 (the table's CHECK constraint decides)."""
        async with self._units.begin("survey_answers", key("call_id", answer.call_id)) as s:
            s.add(
                SurveyAnswerModel(
                    call_id=answer.call_id,
                    queue_id=answer.queue_id,
                    agent_id=answer.agent_id,
                    score=answer.score,
                    answered_at=answer.answered_at,
                )
            )

    async def for_call(self, call_id: str) -> SurveyAnswer | None:
        async with self._units.begin("survey_answers", key("call_id", call_id)) as s:
            row = await s.get(SurveyAnswerModel, call_id)
            if row is None:
                return None
            return SurveyAnswer(
                call_id=row.call_id,
                queue_id=row.queue_id,
                agent_id=row.agent_id,
                score=row.score,
                answered_at=row.answered_at,
            )


def _meta(row: RecordingModel) -> RecordingMeta:
    return RecordingMeta(
        recording_id=row.recording_id,
        call_id=row.call_id,
        queue_id=row.queue_id,
        agent_id=row.agent_id,
        started_at=row.started_at,
        duration_s=row.duration_s,
        format=row.format,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        path=row.path,
        mutes=_mutes(row.mutes or ()),
    )


def _mutes(rows: Sequence[dict[str, Any]]) -> tuple[MutedInterval, ...]:
    return tuple(MutedInterval(float(m["start_s"]), float(m["end_s"]), str(m["by"]),
                               str(m["reason"])) for m in rows)
