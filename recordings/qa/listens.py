"""The listen audit: every audio response, with the bytes served and the seconds they hold.

Seconds are read from the bytes in proportion to the file: `(byte - header) / (size - header)`
of the recording's duration, the header being the WAV header (44 bytes) for a WAV file and
nothing otherwise. For the uncompressed WAV the service stores, that is exact to a sample.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from sqlalchemy import select

from kernel.db.unit import Units, key
from kernel.http.auth import principal
from recordings.model import RecordingMeta
from recordings.qa.model import Listen
from recordings.qa.tables import RecordingListenModel

WAV_HEADER = 44


def seconds_of(meta: RecordingMeta, size: int, first: int, last: int) -> tuple[float, float]:
    """The stretch of the recording bytes first..last (inclusive) of a `size`-byte file hold."""
    header = WAV_HEADER if meta.format == "wav" and size > WAV_HEADER else 0
    audio = max(size - header, 1)

    def at(byte: int) -> float:
        return round(min(max(byte - header, 0), audio) / audio * meta.duration_s, 3)

    return at(first), at(last + 1)


class ListenLog:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def record(self, listen: Listen) -> None:
        async with self._units.begin("recording_listens",
                                     key("recording_id", listen.recording_id)) as s:
            s.add(RecordingListenModel(**asdict(listen)))

    async def recent(self, limit: int, *, recording_id: str | None = None,
                     actor: str | None = None) -> list[tuple[int, Listen]]:  # fmt: skip
        """Newest first, each with its row id; narrowed to one recording or actor."""
        L = RecordingListenModel
        query = select(L)
        if recording_id is not None:
            query = query.where(L.recording_id == recording_id)
        if actor is not None:
            query = query.where(L.actor == actor)
        async with self._units.begin("recording_listens", f"newest {limit}") as s:
            rows = await s.scalars(query.order_by(L.id.desc()).limit(limit))
            return [(r.id, Listen(r.at, r.actor, r.role, r.recording_id, r.status,
                                  r.byte_start, r.byte_end, r.size_bytes, r.start_s, r.end_s,
                                  r.remote)) for r in rows]


def served_bytes(rng: slice | None, size: int) -> tuple[int, int | None, int | None]:
    """(status, first byte, last byte) of what aiohttp's FileResponse serves for a parsed
    Range (`request.http_range`; None when it was malformed): 200 the whole file, 206 a
    part, 416 nothing (a range starting past the end, or one that could not be read)."""
    if rng is None:
        return 416, None, None
    start, end = rng.start, rng.stop
    if start is None:
        return 200, 0 if size else None, size - 1 if size else None
    if start < 0 and end is None:  # the last -start bytes
        start = max(start + size, 0)
        last = size - 1
    else:
        last = min(end if end is not None else size, size) - 1
    if start >= size:
        return 416, None, None
    return 206, start, last


class ListenAuditor:
    """recordings.api.ListenAudit over the listen log: the range the request asks for, as
    aiohttp's FileResponse will serve it, recorded before the response starts."""

    def __init__(self, log: ListenLog) -> None:
        self._log = log

    async def served(self, request: web.Request, meta: RecordingMeta, path: Path) -> None:
        st = await asyncio.to_thread(path.stat)
        try:
            rng: slice | None = request.http_range
        except ValueError:
            rng = None
        if_range = request.if_range
        if if_range is not None and st.st_mtime > if_range.timestamp():
            rng = slice(None, None)  # changed since: the whole file, as FileResponse does
        status, first, last = served_bytes(rng, st.st_size)
        start_s, end_s = (None, None) if first is None or last is None \
            else seconds_of(meta, st.st_size, first, last)
        who = principal(request)
        await self._log.record(Listen(datetime.now(UTC), who.actor, who.role.value,
                                      meta.recording_id, status, first, last, st.st_size,
                                      start_s, end_s, request.remote))  # fmt: skip
