"""Caller questions and FAQ changes in the database: domain values in, domain values out.

Closing questions and saving the FAQ change they became is one transaction: both or neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from kernel.db.unit import Units, key
from knowledge_client.editors.faq_edits import EditKind, FaqEdit
from knowledge_client.editors.questions import (
    CallerQuestion,
    QuestionKind,
    QuestionState,
    StoredQuestion,
)
from knowledge_client.editors.tables import CallerQuestionModel, FaqEditModel


class UnknownQuestion(LookupError):
    def __init__(self, question_id: int) -> None:
        super().__init__(f"no question {question_id}")
        self.question_id = question_id


class AlreadyHandled(Exception):
    def __init__(self, question_id: int, state: QuestionState) -> None:
        super().__init__(f"question {question_id} is already {state.value}")
        self.question_id = question_id
        self.state = state


@dataclass(frozen=True, slots=True)
class Handling:
    """What an editor did with one or more questions."""

    question_ids: tuple[int, ...]  # the first is the one the request named
    state: QuestionState
    by: str
    at: datetime
    note: str | None = None
    edit: FaqEdit | None = None


class QuestionStore:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def add(self, q: CallerQuestion) -> int:
        async with self._units.begin("caller_questions", key("call_id", q.call_id)) as s:
            row = CallerQuestionModel(
                call_id=q.call_id, kind=q.kind.value, text=q.text, transcript=list(q.transcript),
                intent=q.intent, outcome=q.outcome, offered_item_id=q.offered_item_id,
                offered_answer=q.offered_answer, at=q.at, state=QuestionState.OPEN.value)
            s.add(row)
            await s.flush()
            return row.id

    async def listed(self, states: Sequence[QuestionState], limit: int) -> list[StoredQuestion]:
        """The newest `limit` questions in `states`."""
        query = (select(CallerQuestionModel)
                 .where(CallerQuestionModel.state.in_([s.value for s in states]))
                 .order_by(CallerQuestionModel.at.desc(), CallerQuestionModel.id.desc())
                 .limit(limit))  # fmt: skip
        async with self._units.begin("caller_questions", f"newest {limit}") as s:
            return [_stored(row) for row in await s.scalars(query)]

    async def get(self, question_id: int) -> StoredQuestion | None:
        async with self._units.begin("caller_questions", key("id", str(question_id))) as s:
            row = await s.get(CallerQuestionModel, question_id)
            return None if row is None else _stored(row)

    async def handle(self, handling: Handling) -> None:
        """Close the questions (and save the FAQ change) at once; UnknownQuestion or
        AlreadyHandled, and nothing changed, when one of them is missing or closed."""
        ids = list(dict.fromkeys(handling.question_ids))
        async with self._units.begin("caller_questions", key("id", *map(str, ids))) as s:
            rows = {row.id: row for row in await s.scalars(
                select(CallerQuestionModel).where(CallerQuestionModel.id.in_(ids))
                .with_for_update())}  # fmt: skip
            for question_id in ids:
                row = rows.get(question_id)
                if row is None:
                    raise UnknownQuestion(question_id)
                if row.state != QuestionState.OPEN.value:
                    raise AlreadyHandled(question_id, QuestionState(row.state))
            edit = handling.edit
            for row in rows.values():
                row.state = handling.state.value
                row.handled_by, row.handled_at = handling.by, handling.at
                row.note = handling.note
                row.faq_item_id = edit.item_id if edit is not None else None
            if edit is not None:
                s.add(FaqEditModel(
                    kind=edit.kind.value, item_id=edit.item_id, text=edit.text,
                    intent=edit.intent, answer_spoken=edit.answer_spoken,
                    answer_text=edit.answer_text, variants=list(edit.variants), by=edit.by,
                    at=edit.at, question_id=ids[0]))  # fmt: skip

    async def edits(self) -> list[FaqEdit]:
        """Every FAQ change, in the order it was made."""
        async with self._units.begin("faq_edits", "all") as s:
            rows = await s.scalars(select(FaqEditModel).order_by(FaqEditModel.id))
            return [FaqEdit(EditKind(r.kind), r.item_id, r.text, r.by, r.at, r.intent,
                            r.answer_spoken, r.answer_text, tuple(r.variants))
                    for r in rows]  # fmt: skip


def _stored(row: CallerQuestionModel) -> StoredQuestion:
    question = CallerQuestion(
        call_id=row.call_id, kind=QuestionKind(row.kind), text=row.text,
        transcript=tuple(row.transcript), intent=row.intent, outcome=row.outcome, at=row.at,
        offered_item_id=row.offered_item_id, offered_answer=row.offered_answer)
    return StoredQuestion(row.id, question,
                          QuestionState(row.state), row.handled_by, row.handled_at, row.note,
                          row.faq_item_id)
