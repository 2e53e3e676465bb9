"""The store of calls and their journeys: domain values in, domain values out.

Every method is one short transaction of its own; none returns ORM objects. Errors arrive as
DatabaseUnavailable (retry later), DatabaseConflict (a constraint said no) or DatabaseError.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, String, bindparam, func, insert, select, update

from ari_app.calls.record import CallOutcome, CallRecord
from ari_app.calls.tables import CallEventModel, CallModel
from ivr.journey import JourneyEvent, JourneyType
from kernel.db.schema import Base, UtcDateTime
from kernel.db.unit import Units, key, upsert

CALLS = Base.metadata.tables["calls"]
EVENTS = Base.metadata.tables["call_events"]

# What `finish` may change on a call that `start` wrote; who called and when stays put.
# A finished call needs no checkpoint any more.
_FINAL_FIELDS = ("ended_at", "outcome", "hangup_cause", "queue_id", "agent_id", "checkpoint")

# Each event takes the next seq of its call inside the INSERT itself, so writers never
# compute the same number from a stale read (PostgreSQL also locks the call row first).
_APPEND_EVENT = insert(EVENTS).from_select(
    ["call_id", "seq", "type", "t", "at", "details"],
    select(
        bindparam("call_id", type_=String()),
        func.coalesce(func.max(EVENTS.c.seq), 0) + 1,
        bindparam("type", type_=String()),
        bindparam("t", type_=Float()),
        bindparam("at", type_=UtcDateTime()),
        bindparam("details", type_=JSON()),
    ).where(EVENTS.c.call_id == bindparam("call_id", type_=String())),
)

_SAVE_CHECKPOINT = (update(CALLS).where(CALLS.c.call_id == bindparam("id"))
                    .values(checkpoint=bindparam("saved", type_=JSON())))


class CallStore:
    """Call records and their journey events."""

    def __init__(self, units: Units) -> None:
        self._units = units

    async def start(self, record: CallRecord) -> None:
        """Write a new call; DatabaseConflict if the call id is already taken."""
        async with self._units.begin("calls", key("call_id", record.call_id)) as session:
            await session.execute(insert(CALLS).values(_call_values(record)))  # no ORM flush

    async def finish(self, record: CallRecord) -> None:
        """Write the call's final fields, inserting the whole record if `start` never did."""
        async with self._units.begin("calls", key("call_id", record.call_id)) as session:
            stmt = upsert(session, CALLS).values(_call_values(record))
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["call_id"],
                    set_={name: stmt.excluded[name] for name in _FINAL_FIELDS},
                )
            )

    async def append_events(self, events: Sequence[JourneyEvent],
                            checkpoints: Mapping[str, dict[str, Any]] | None = None) -> None:
        """Journal events after those already stored, numbering each call's events in order,
        and, in the same transaction, each call's new checkpoint (by call id).

        DatabaseConflict when a call was never started.
        """
        checkpoints = checkpoints or {}
        if not events and not checkpoints:
            return
        call_ids = sorted({event.call_id for event in events} | set(checkpoints))
        async with self._units.begin("call_events", key("call_id", *call_ids)) as session:
            # Sorted, so two batches touching the same calls cannot deadlock.
            await session.execute(
                select(CallModel.call_id).where(CallModel.call_id.in_(call_ids)).with_for_update()
            )
            if events:
                await session.execute(_APPEND_EVENT, [_event_params(event) for event in events])
            if checkpoints:  # one statement for every call of a group commit
                await session.execute(_SAVE_CHECKPOINT, [{"id": call_id, "saved": saved}
                                                         for call_id, saved in checkpoints.items()])

    async def answered_since(self, since: datetime) -> list[str]:
        """Ids of the answered calls that ended at or after `since`."""
        async with self._units.begin("calls", f"answered since {since.isoformat()}") as session:
            rows = await session.scalars(
                select(CallModel.call_id)
                .where(CallModel.outcome == CallOutcome.ANSWERED.value,
                       CallModel.ended_at >= since)
                .order_by(CallModel.ended_at)
            )
            return list(rows)

    async def unfinished(self) -> list[tuple[CallRecord, dict[str, Any] | None]]:
        """Calls still `in_progress`, oldest first, with their last checkpoint."""
        async with self._units.begin("calls", "unfinished") as session:
            rows = await session.scalars(
                select(CallModel)
                .where(CallModel.outcome == CallOutcome.IN_PROGRESS.value)
                .order_by(CallModel.started_at, CallModel.call_id)
            )
            return [(_call_record(row), row.checkpoint) for row in rows]

    async def get(self, call_id: str) -> CallRecord | None:
        async with self._units.begin("calls", key("call_id", call_id)) as session:
            row = await session.get(CallModel, call_id)
            return None if row is None else _call_record(row)

    async def events(self, call_id: str) -> list[JourneyEvent]:
        """The call's journey in the order it was appended."""
        async with self._units.begin("call_events", key("call_id", call_id)) as session:
            rows = await session.scalars(
                select(CallEventModel)
                .where(CallEventModel.call_id == call_id)
                .order_by(CallEventModel.seq)
            )
            return [_journey_event(row) for row in rows]

    async def recent(self, limit: int = 50) -> list[CallRecord]:
        """The latest calls by start time, newest first."""
        if limit < 1:
            raise ValueError(f"limit must be positive, got {limit}")
        async with self._units.begin("calls", f"recent limit={limit}") as session:
            rows = await session.scalars(
                select(CallModel)
                .order_by(CallModel.started_at.desc(), CallModel.call_id.desc())
                .limit(limit)
            )
            return [_call_record(row) for row in rows]



def _call_values(record: CallRecord) -> dict[str, object]:
    return {
        "call_id": record.call_id,
        "channel_id": record.channel_id,
        "caller_number": record.caller_number,
        "correlation_id": record.correlation_id,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "outcome": record.outcome.value,
        "hangup_cause": record.hangup_cause,
        "queue_id": record.queue_id,
        "agent_id": record.agent_id,
        "checkpoint": None,
    }


def _call_record(row: CallModel) -> CallRecord:
    return CallRecord(
        call_id=row.call_id,
        channel_id=row.channel_id,
        caller_number=row.caller_number,
        correlation_id=row.correlation_id,
        started_at=row.started_at,
        ended_at=row.ended_at,
        outcome=CallOutcome(row.outcome),
        hangup_cause=row.hangup_cause,
        queue_id=row.queue_id,
        agent_id=row.agent_id,
    )


def _event_params(event: JourneyEvent) -> dict[str, object]:
    return {
        "call_id": event.call_id,
        "type": event.type.value,
        "t": event.t,
        "at": event.at,
        "details": dict(event.details),
    }


def _journey_event(row: CallEventModel) -> JourneyEvent:
    return JourneyEvent(
        call_id=row.call_id, type=JourneyType(row.type), t=row.t, at=row.at, details=row.details
    )
