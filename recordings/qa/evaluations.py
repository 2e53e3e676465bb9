"""Scorecard evaluations in the database: saved whole (answers, score, form version) in one
row, released to the agent, disputed by them, the dispute answered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select

from kernel.db.unit import Units, key
from recordings.qa.model import Evaluation, EvaluationState
from recordings.qa.scorecard import Answer, Result
from recordings.qa.search import Scope
from recordings.qa.tables import QaEvaluationModel

E = QaEvaluationModel


class WrongState(Exception):
    def __init__(self, evaluation_id: int, state: EvaluationState, wanted: str) -> None:
        super().__init__(f"evaluation {evaluation_id} is {state.value}; {wanted}")
        self.state = state


class EvaluationStore:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def add(self, e: Evaluation) -> Evaluation:
        async with self._units.begin("qa_evaluations", key("recording_id", e.recording_id)) as s:
            row = E(recording_id=e.recording_id, call_id=e.call_id, agent_id=e.agent_id,
                    queue_id=e.queue_id, form_id=e.form_id, form_version=e.form_version,
                    reviewer=e.reviewer, answers=[asdict(a) for a in e.answers],
                    score=e.result.score, passed=e.result.passed,
                    auto_failed=e.result.auto_failed, comment=e.comment,
                    created_at=e.created_at, state=e.state.value)  # fmt: skip
            s.add(row)
            await s.flush()
            return _evaluation(row)

    async def get(self, evaluation_id: int) -> Evaluation | None:
        async with self._units.begin("qa_evaluations", key("id", str(evaluation_id))) as s:
            row = await s.get(E, evaluation_id)
            return None if row is None else _evaluation(row)

    async def for_recording(self, recording_id: str) -> list[Evaluation]:
        async with self._units.begin("qa_evaluations", key("recording_id", recording_id)) as s:
            rows = await s.scalars(select(E).where(E.recording_id == recording_id)
                                   .order_by(E.created_at, E.id))
            return [_evaluation(r) for r in rows]

    async def listed(self, scope: Scope, *, released_only: bool, agent_id: str | None,
                     limit: int, offset: int) -> list[Evaluation]:  # fmt: skip
        """Newest first, within `scope`."""
        query = select(E)
        if scope.nothing:
            query = query.where(E.id.is_(None))
        if scope.agent_id is not None:
            query = query.where(E.agent_id == scope.agent_id)
        if scope.queues is not None:
            query = query.where(E.queue_id.in_(sorted(scope.queues)))
        if released_only:
            query = query.where(E.released_at.is_not(None))
        if agent_id is not None:
            query = query.where(E.agent_id == agent_id)
        query = query.order_by(E.created_at.desc(), E.id.desc()).limit(limit).offset(offset)
        async with self._units.begin("qa_evaluations", f"newest {limit}") as s:
            return [_evaluation(r) for r in await s.scalars(query)]

    async def release(self, evaluation_id: int, by: str, at: datetime) -> Evaluation:
        return await self._move(evaluation_id, (EvaluationState.SUBMITTED,),
                                "only a submitted evaluation is released",
                                state=EvaluationState.RELEASED, released_by=by, released_at=at)

    async def dispute(self, evaluation_id: int, reason: str, at: datetime) -> Evaluation:
        return await self._move(evaluation_id, (EvaluationState.RELEASED,),
                                "only a released evaluation, once, may be disputed",
                                state=EvaluationState.DISPUTED, dispute_reason=reason,
                                disputed_at=at)

    async def resolve(self, evaluation_id: int, resolution: str, by: str,
                      at: datetime) -> Evaluation:  # fmt: skip
        return await self._move(evaluation_id, (EvaluationState.DISPUTED,),
                                "only a disputed evaluation is resolved",
                                state=EvaluationState.RESOLVED, resolution=resolution,
                                resolved_by=by, resolved_at=at)

    async def _move(self, evaluation_id: int, allowed: Sequence[EvaluationState], wanted: str,
                    **changes: object) -> Evaluation:  # fmt: skip
        """Change the row if its state allows; LookupError or WrongState, nothing changed."""
        async with self._units.begin("qa_evaluations", key("id", str(evaluation_id))) as s:
            row = await s.get(E, evaluation_id, with_for_update=True)
            if row is None:
                raise LookupError(f"no evaluation {evaluation_id}")
            if EvaluationState(row.state) not in allowed:
                raise WrongState(evaluation_id, EvaluationState(row.state), wanted)
            for name, value in changes.items():
                setattr(row, name, value.value if isinstance(value, EvaluationState) else value)
            return _evaluation(row)


def _evaluation(r: QaEvaluationModel) -> Evaluation:
    answers = tuple(Answer(str(a["criterion_id"]), None if a["points"] is None
                           else int(a["points"]), str(a.get("note", "")))
                    for a in r.answers)  # fmt: skip
    return Evaluation(
        r.id, r.recording_id, r.call_id, r.agent_id, r.queue_id, r.form_id, r.form_version,
        r.reviewer, answers, Result(r.score, r.passed, r.auto_failed, ()), r.comment,
        r.created_at, EvaluationState(r.state), r.released_by, r.released_at,
        r.dispute_reason, r.disputed_at, r.resolution, r.resolved_by, r.resolved_at)
