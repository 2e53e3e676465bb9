"""The two ends of the editors' loop in the running service.

`QuestionKeeper` wraps whatever knowledge source is configured (embedded or HTTP): searches go
to it unchanged, and every unanswered question, and every answer the caller said did not help,
is first kept in the database (for the editors, in every mode) and then reported to the source
as before. Keeping it never holds up or fails the call: a database problem is logged and the
report still goes on.

`FaqEditor` turns an editor's change into the embedded source's new index: the change is
checked against the book as it stands, the index is rebuilt on the source's thread, and only
once the change is saved (with the questions it closes) does the new index answer calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import structlog

from kernel.db.errors import DatabaseError, DatabaseUnavailable
from knowledge_client.editors.faq_edits import FaqEdit, FieldProblem, apply_edits, edit_problems
from knowledge_client.editors.questions import CallerQuestion, QuestionKind
from knowledge_client.editors.store import Handling, QuestionStore
from knowledge_client.faq import FaqBook
from knowledge_client.model import Feedback, Query, SearchResult, Unanswered
from knowledge_client.port import KnowledgeSource

log = structlog.get_logger(__name__)

KEEP_CEILING_S = 0.5  # the funnel gives a report 1 s; the source's own report needs the rest


class QuestionKeeper:
    """A KnowledgeSource that keeps the editors' questions on the way to `source`."""

    def __init__(self, source: KnowledgeSource, store: QuestionStore,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.source = source
        self._store = store
        self._now = now

    async def search(self, query: Query, *, limit: int = 3) -> SearchResult:
        return await self.source.search(query, limit=limit)

    async def feedback(self, fb: Feedback) -> None:
        if fb.helpful is False and fb.question:
            await self._keep(CallerQuestion(
                fb.call_id, QuestionKind.NOT_HELPED, fb.question, fb.transcript, None,
                fb.outcome.value, self._now(), fb.item_id, fb.answer_spoken))
        await self.source.feedback(fb)

    async def report_unanswered(self, u: Unanswered) -> None:
        await self._keep(CallerQuestion(u.call_id, QuestionKind.UNANSWERED, u.text,
                                        u.transcript, u.intent, u.outcome.value, u.at))
        await self.source.report_unanswered(u)

    async def _keep(self, question: CallerQuestion) -> None:
        try:
            async with asyncio.timeout(KEEP_CEILING_S):
                await self._store.add(question)
        except (DatabaseError, DatabaseUnavailable, ValueError, TimeoutError) as exc:
            log.warning("knowledge.question_not_kept", call_id=question.call_id,
                        kind=question.kind.value, error=str(exc))


class Reindexable(Protocol):
    """The embedded source as the editor needs it (`EmbeddedKnowledge`)."""

    @property
    def book(self) -> FaqBook: ...

    async def reindex(self, edit: Callable[[FaqBook], FaqBook],
                      commit: Callable[[], Awaitable[None]] | None = None) -> FaqBook: ...


class EditRefused(Exception):
    def __init__(self, status: int, problems: Sequence[FieldProblem]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))
        self.status = status
        self.problems = tuple(problems)


@dataclass
class FaqEditor:
    """Applies the editors' changes to the embedded source, one change at a time."""

    source: Reindexable
    store: QuestionStore

    def __post_init__(self) -> None:
        self._lock = asyncio.Lock()  # one rebuild at a time: each starts from every saved edit

    @property
    def book(self) -> FaqBook:
        return self.source.book

    async def load(self) -> int:
        """Apply the saved changes (at startup); how many there are."""
        edits = await self.store.edits()
        if edits:
            await self.source.reindex(lambda base: apply_edits(base, edits))
        return len(edits)

    async def apply(self, handling: Handling) -> None:
        """Check the handling's edit against the book, rebuild the index with it, save it with
        the questions it closes, and only then answer from it. EditRefused: nothing changed."""
        edit = handling.edit
        async with self._lock:
            if edit is None:
                await self.store.handle(handling)
                return
            problems, status = edit_problems(self.source.book, edit)
            if problems:
                raise EditRefused(status, problems)
            saved: list[FaqEdit] = [*await self.store.edits(), edit]
            await self.source.reindex(lambda base: apply_edits(base, saved),
                                      commit=lambda: self.store.handle(handling))
