"""Recording search over the database: recordings joined with their call (caller number,
outcome), the survey answer, and the call's journey (intents, transfers).

The calls and their journeys are the service's tables (`ari_app/calls/tables.py`), which this
room may not import; they are named here by table and column only (SQLAlchemy's lightweight
`table()`), the few columns a search reads.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ColumnElement, Select, and_, column, exists, func, select, table

from kernel.db.unit import Units
from recordings.model import RecordingMeta
from recordings.qa.search import Scope, SearchQuery, SortKey
from recordings.store import _meta
from recordings.tables import RecordingModel, SurveyAnswerModel

CALLS = table("calls", column("call_id"), column("caller_number"), column("outcome"))
EVENTS = table("call_events", column("call_id"), column("seq"), column("type"),
               column("details", JSON))
_CHUNK = 500

R, S = RecordingModel, SurveyAnswerModel


@dataclass(frozen=True, slots=True)
class Found:
    """One search result: the recording and what the search knows of its call."""

    meta: RecordingMeta
    caller_number: str | None
    outcome: str | None
    survey_score: int | None
    transferred: bool
    intents: tuple[str, ...]


def _event(kind: str) -> ColumnElement[bool]:
    return and_(EVENTS.c.call_id == R.call_id, EVENTS.c.type == kind)


def _filters(q: SearchQuery, scope: Scope) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if scope.nothing:
        where.append(R.recording_id.is_(None))
    if scope.agent_id is not None:
        where.append(R.agent_id == scope.agent_id)
    if scope.queues is not None:
        where.append(R.queue_id.in_(sorted(scope.queues)))
    simple: list[tuple[Any, Callable[[Any], ColumnElement[bool]]]] = [
        (q.agent_id, lambda v: R.agent_id == v), (q.queue_id, lambda v: R.queue_id == v),
        (q.from_, lambda v: R.started_at >= v), (q.to, lambda v: R.started_at < v),
        (q.min_duration_s, lambda v: R.duration_s >= v),
        (q.max_duration_s, lambda v: R.duration_s <= v),
        (q.caller, lambda v: CALLS.c.caller_number.startswith(v, autoescape=True)),
        (q.min_score, lambda v: S.score >= v), (q.max_score, lambda v: S.score <= v),
        (q.outcome, lambda v: CALLS.c.outcome == v),
    ]  # fmt: skip
    where += [condition(value) for value, condition in simple if value is not None]
    if q.intent is not None:
        where.append(exists().where(_event("intent"),
                                    EVENTS.c.details["intent"].as_string() == q.intent))
    if q.transferred is not None:
        transferred = exists().where(_event("transfer"))
        where.append(transferred if q.transferred else ~transferred)
    if q.muted is not None:
        where.append(R.mutes.is_not(None) if q.muted else R.mutes.is_(None))
    return where


def _joined(what: Select[Any]) -> Select[Any]:
    return (what.select_from(R).join(CALLS, CALLS.c.call_id == R.call_id)
            .outerjoin(S, S.call_id == R.call_id))  # fmt: skip


_SORTS = {SortKey.STARTED_AT: R.started_at, SortKey.DURATION: R.duration_s,
          SortKey.SCORE: S.score, SortKey.AGENT: R.agent_id, SortKey.QUEUE: R.queue_id}


class RecordingSearch:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def search(self, q: SearchQuery, scope: Scope) -> tuple[int, list[Found]]:
        """How many match, and the page `q` asks for, in its order."""
        where = _filters(q, scope)
        key = _SORTS[q.sort]
        ordered = key.asc() if q.order == "asc" else key.desc()
        tie = R.recording_id.asc() if q.order == "asc" else R.recording_id.desc()
        page = (_joined(select(R, CALLS.c.caller_number, CALLS.c.outcome, S.score,
                               exists().where(_event("transfer")).label("transferred")))
                .where(*where).order_by(ordered.nulls_last(), tie)
                .limit(q.limit).offset(q.offset))  # fmt: skip
        async with self._units.begin("recordings", "search") as s:
            total = int(await s.scalar(_joined(select(func.count())).where(*where)) or 0)
            rows = (await s.execute(page)).all()
            intents = await self._intents(s, {row[0].call_id for row in rows})
        return total, [Found(_meta(rec), caller, outcome, score, bool(moved),
                             intents.get(rec.call_id, ()))
                       for rec, caller, outcome, score, moved in rows]  # fmt: skip

    @staticmethod
    async def _intents(session: Any, call_ids: Collection[str]) -> dict[str, tuple[str, ...]]:
        if not call_ids:
            return {}
        rows = await session.execute(
            select(EVENTS.c.call_id, EVENTS.c.details["intent"].as_string())
            .where(EVENTS.c.call_id.in_(sorted(call_ids)), EVENTS.c.type == "intent")
            .order_by(EVENTS.c.call_id, EVENTS.c.seq))
        found: dict[str, list[str]] = {}
        for call_id, intent in rows:
            if intent and intent not in found.setdefault(call_id, []):
                found[call_id].append(intent)
        return {call_id: tuple(names) for call_id, names in found.items()}

    async def recording_ids(self, call_ids: Collection[str]) -> Mapping[str, list[str]]:
        """Each call's recording ids, oldest first (for the knowledge editors' questions)."""
        wanted = sorted(set(call_ids))
        found: dict[str, list[str]] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            async with self._units.begin("recordings", f"call_id in {len(chunk)} ids") as s:
                rows = await s.execute(select(R.call_id, R.recording_id)
                                       .where(R.call_id.in_(chunk))
                                       .order_by(R.started_at, R.recording_id))
                for call_id, recording_id in rows:
                    found.setdefault(call_id, []).append(recording_id)
        return found
