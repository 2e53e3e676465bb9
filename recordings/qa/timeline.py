"""What a player shows beside a recording: the call's journey on the recording's clock, and the
waveform's peaks.

The journey is the service's table (`call_events`), named here by table and column only, as
the search does. Each event's `t_s` is seconds from the recording's start (negative: before the
agent answered, e.g. the IVR path and the routing decision), so a page can draw intents,
transfers and mutes where they happened. Peaks are read from the stored WAV in a thread.
"""

from __future__ import annotations

import audioop  # stdlib through 3.12, which pyproject caps us at
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, column, select, table

from kernel.db.schema import UtcDateTime
from kernel.db.unit import Units, key
from recordings.model import RecordingMeta

EVENTS = table("call_events", column("call_id"), column("seq"), column("type"),
               column("at", UtcDateTime()), column("details", JSON))
MAX_POINTS = 4000


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    type: str
    t_s: float  # seconds from the recording's start; negative before it
    details: dict[str, Any]


class Timelines:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def events(self, meta: RecordingMeta) -> list[TimelineEvent]:
        """The call's journey in order, each event placed on the recording's clock."""
        query = (select(EVENTS.c.type, EVENTS.c.at, EVENTS.c.details)
                 .where(EVENTS.c.call_id == meta.call_id).order_by(EVENTS.c.seq))
        async with self._units.begin("call_events", key("call_id", meta.call_id)) as s:
            rows = (await s.execute(query)).all()
        return [TimelineEvent(kind, round((at - meta.started_at).total_seconds(), 3),
                              dict(details or {})) for kind, at, details in rows]  # fmt: skip


class NotWav(ValueError):
    pass


def peaks(path: Path, points: int) -> list[float]:
    """The file's loudest sample in each of `points` equal stretches, 0..1 (blocking: run in
    a thread). NotWav for anything `wave` cannot read."""
    try:
        with wave.open(str(path), "rb") as wav:
            width, frames = wav.getsampwidth(), wav.getnframes()
            frame_bytes = width * wav.getnchannels()
            per = max(frames // points, 1)
            full = float(1 << (8 * width - 1))
            found = []
            while chunk := wav.readframes(per):
                found.append(round(audioop.max(chunk[:len(chunk) // frame_bytes * frame_bytes],
                                               width) / full, 3))
            return found[:points]
    except (wave.Error, EOFError, audioop.error) as exc:
        raise NotWav(str(exc)) from exc
