"""The KPI reports' reads: the stored calls, their journeys and survey answers, read only.

A report query spans several rooms' tables (calls, call_events, survey_answers,
call_dispositions), so it reads them through the one MetaData (`kernel.db.schema.Base`) rather
than through each room's store, in one transaction of four queries whatever the number of calls.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, RowMapping, Table, select

import ari_app.calls.desk.tables  # noqa: F401  (registers call_dispositions on the MetaData)
from ari_app.calls.desk.model import Disposition
from ari_app.calls.record import CallOutcome, CallRecord
from ivr.journey import JourneyEvent, JourneyType
from kernel.db.schema import Base
from kernel.db.unit import Units


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


@dataclass(frozen=True, slots=True)
class StoredCall:
    record: CallRecord
    events: tuple[JourneyEvent, ...]
    survey_score: int | None
    dispositions: tuple[Disposition, ...] = ()


class ReportStore:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def calls(self, start: datetime, end: datetime) -> list[StoredCall]:
        """Calls that started in [start, end), with their journeys and survey scores."""
        calls, events, surveys, given = (_table("calls"), _table("call_events"),
                                         _table("survey_answers"),
                                         _table("call_dispositions"))  # fmt: skip
        started = (calls.c.started_at >= start) & (calls.c.started_at < end)
        span = f"started {start.isoformat()}..{end.isoformat()}"
        async with self._units.begin("calls", span) as s:
            rows = (await s.execute(select(calls).where(started))).all()
            journeys: dict[str, list[JourneyEvent]] = defaultdict(list)
            for e in (await s.execute(
                select(events).join(calls, events.c.call_id == calls.c.call_id)
                .where(started).order_by(events.c.call_id, events.c.seq)
            )).mappings():  # Row.t is its tuple, not the column: read by name
                journeys[e["call_id"]].append(JourneyEvent(
                    e["call_id"], JourneyType(e["type"]), e["t"], e["at"], e["details"]))
            answers = await s.execute(select(surveys.c.call_id, surveys.c.score)
                                      .join(calls, surveys.c.call_id == calls.c.call_id)
                                      .where(started))  # fmt: skip
            scores: dict[str, int | None] = {row.call_id: row.score for row in answers}
            closed: dict[str, list[Disposition]] = defaultdict(list)
            for d in (await s.execute(
                select(given).join(calls, given.c.call_id == calls.c.call_id)
                .where(started).order_by(given.c.call_id, given.c.created_at)
            )).mappings():
                closed[d["call_id"]].append(_disposition(d))
        return [StoredCall(_record(r), tuple(journeys[r.call_id]), scores.get(r.call_id),
                           tuple(closed[r.call_id])) for r in rows]  # fmt: skip

    async def arrivals(self, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
        """(caller number, start) of every call that started in [start, end]: the repeat
        calls first-call resolution looks for."""
        calls = _table("calls")
        async with self._units.begin("calls", f"arrivals {start.isoformat()}..") as s:
            result = await s.execute(select(calls.c.caller_number, calls.c.started_at)
                                     .where(calls.c.started_at.between(start, end)))
            return [(caller, at) for caller, at in result]


def _disposition(d: RowMapping) -> Disposition:
    return Disposition(d["call_id"], d["agent_id"], d["code"], d["complaint"], d["resolved"],
                       d["notes"], d["by"], d["role"], d["created_at"], d["updated_at"],
                       d["wrapup_ended_at"])  # fmt: skip


def _record(r: Row[Any]) -> CallRecord:
    return CallRecord(
        call_id=r.call_id, channel_id=r.channel_id, caller_number=r.caller_number,
        correlation_id=r.correlation_id, started_at=r.started_at, ended_at=r.ended_at,
        outcome=CallOutcome(r.outcome), hangup_cause=r.hangup_cause, queue_id=r.queue_id,
        agent_id=r.agent_id,
    )
