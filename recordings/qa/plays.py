"""The played-seconds audit: the stretches a person's player reports it played. The listen audit
(`listens.py`) records the bytes served, before they leave; a player buffers ahead, so only the
player knows what was heard. Both are kept; neither replaces the other."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import select

from kernel.db.unit import Units, key
from recordings.qa.model import Play
from recordings.qa.tables import RecordingPlayModel


class PlayLog:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def record(self, plays: Sequence[Play]) -> None:
        """All of one report in one transaction: a report is kept whole or not at all."""
        if not plays:
            return
        async with self._units.begin("recording_plays",
                                     key("recording_id", plays[0].recording_id)) as s:
            s.add_all([RecordingPlayModel(**asdict(play)) for play in plays])

    async def recent(self, limit: int, *, recording_id: str | None = None,
                     actor: str | None = None) -> list[tuple[int, Play]]:  # fmt: skip
        P = RecordingPlayModel
        query = select(P)
        if recording_id is not None:
            query = query.where(P.recording_id == recording_id)
        if actor is not None:
            query = query.where(P.actor == actor)
        async with self._units.begin("recording_plays", f"newest {limit}") as s:
            rows = await s.scalars(query.order_by(P.id.desc()).limit(limit))
            return [(r.id, Play(r.at, r.actor, r.role, r.recording_id, r.start_s, r.end_s,
                                r.remote)) for r in rows]
