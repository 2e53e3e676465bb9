"""What the service stored about the drill's calls, read straight from its database.

Whole rows are read through the project's table definitions (any column the engine adds, such
as a reason, comes along), so the drill checks what is in the database, not what a store API
chooses to return. Only the columns the database has are read and nothing is migrated, so the
drill can also read the database of an older service (`--service-root`). Recording files are
checked against their stored size and sha256.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Table, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ari_app.db.metadata import METADATA

IN_PROGRESS = "in_progress"
CALLS: Table = METADATA.tables["calls"]
EVENTS: Table = METADATA.tables["call_events"]
RECORDINGS: Table = METADATA.tables["recordings"]
SURVEYS: Table = METADATA.tables["survey_answers"]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    type: str
    at: datetime
    details: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StoredCall:
    row: Mapping[str, Any]  # every column of the calls row
    events: tuple[StoredEvent, ...]
    recordings: tuple[Mapping[str, Any], ...]
    survey: Mapping[str, Any] | None

    @property
    def call_id(self) -> str:
        return str(self.row["call_id"])

    @property
    def outcome(self) -> str:
        return str(self.row["outcome"])

    @property
    def reason(self) -> str | None:
        """Why the call ended: a `reason` column if the schema has one, else the hangup cause."""
        value = self.row.get("reason") or self.row.get("hangup_cause")
        return None if value is None else str(value)

    def first(self, kind: str, after: datetime | None = None) -> StoredEvent | None:
        return next((e for e in self.events
                     if e.type == kind and (after is None or e.at >= after)), None)


@dataclass(frozen=True, slots=True)
class RecordingCheck:
    recording_id: str
    path: str
    problem: str | None  # None: the file is there, its size and sha256 match

    @property
    def ok(self) -> bool:
        return self.problem is None


class DrillDatabase:
    """The service's database, opened beside the running service (readers do not block it)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, url: str) -> DrillDatabase:
        return cls(create_async_engine(url))

    async def close(self) -> None:
        await self._engine.dispose()

    async def calls(self, correlations: Collection[str],
                    call_ids: Collection[str]) -> list[StoredCall]:
        """Every stored call with one of these correlation ids or call ids, with its journal,
        recordings and survey answer."""
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(*await _columns(conn, CALLS)).where(
                _ours(correlations, call_ids)))).mappings().all()
            found = [dict(row) for row in rows]
            ids = [row["call_id"] for row in found]
            events = (await conn.execute(
                select(*await _columns(conn, EVENTS)).where(EVENTS.c.call_id.in_(ids))
                .order_by(EVENTS.c.call_id, EVENTS.c.seq))).mappings()
            recordings = (await conn.execute(select(*await _columns(conn, RECORDINGS)).where(
                RECORDINGS.c.call_id.in_(ids)))).mappings().all()
            surveys = (await conn.execute(select(*await _columns(conn, SURVEYS)).where(
                SURVEYS.c.call_id.in_(ids)))).mappings().all()
            journal: dict[str, list[StoredEvent]] = {}
            for event in events:
                journal.setdefault(event["call_id"], []).append(
                    StoredEvent(event["type"], event["at"], dict(event["details"] or {})))
        return [StoredCall(row, tuple(journal.get(row["call_id"], ())),
                           tuple(dict(r) for r in recordings if r["call_id"] == row["call_id"]),
                           next((dict(s) for s in surveys if s["call_id"] == row["call_id"]),
                                None))
                for row in found]

    async def in_progress(self, correlations: Collection[str],
                          call_ids: Collection[str]) -> list[str]:
        """Call ids of ours still marked in progress."""
        async with self._engine.connect() as conn:
            result = await conn.execute(select(CALLS.c.call_id).where(
                _ours(correlations, call_ids), CALLS.c.outcome == IN_PROGRESS))
            return [str(call_id) for call_id in result.scalars()]


async def _columns(conn: AsyncConnection, table: Table) -> list[Column[Any]]:
    """The table's columns that this database has (an older schema may lack some)."""
    names = await conn.run_sync(
        lambda sync: {column["name"] for column in inspect(sync).get_columns(table.name)})
    return [column for column in table.columns if column.name in names]


def _ours(correlations: Collection[str], call_ids: Collection[str]) -> Any:
    return or_(CALLS.c.correlation_id.in_(list(correlations)),
               CALLS.c.call_id.in_(list(call_ids)))


def check_recording_file(row: Mapping[str, Any]) -> RecordingCheck:
    """Blocking (run it in a thread): the stored file exists, with the stored size and hash."""
    path = Path(str(row["path"]))
    check = RecordingCheck(str(row["recording_id"]), str(path), None)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _with_problem(check, f"file missing: {exc.strerror or exc}")
    if len(data) != row["size_bytes"]:
        return _with_problem(check, f"size {len(data)} != stored {row['size_bytes']}")
    if hashlib.sha256(data).hexdigest() != row["sha256"]:
        return _with_problem(check, "sha256 differs from the stored one")
    return check


def _with_problem(check: RecordingCheck, problem: str) -> RecordingCheck:
    return RecordingCheck(check.recording_id, check.path, problem)


async def check_recordings(call: StoredCall) -> list[RecordingCheck]:
    return [await asyncio.to_thread(check_recording_file, row) for row in call.recordings]
