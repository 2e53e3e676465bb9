"""QA and the knowledge editors' stores on SQLite and PostgreSQL: the recording search's SQL
(JSON lookups in the journey, EXISTS, NULLS LAST, LIKE with escaping), closing questions with
their FAQ change all or nothing, evaluations' state moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from ari_app.db.database import Database, open_database
from knowledge_client.editors.faq_edits import EditKind, FaqEdit
from knowledge_client.editors.questions import CallerQuestion, QuestionKind, QuestionState
from knowledge_client.editors.store import AlreadyHandled, Handling, QuestionStore
from recordings.qa.evaluations import EvaluationStore, WrongState
from recordings.qa.model import Evaluation
from recordings.qa.scorecard import Answer, Criterion, Form, Result
from recordings.qa.search import Scope, SearchQuery
from recordings.qa.search_store import RecordingSearch
from recordings.qa.store import QaStore
from tests.db_fixtures import postgres_skip_reason, temporary_database
from tests.unit.test_qa_api import seed

AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
EVERYTHING = Scope()


@pytest_asyncio.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "postgresql" and (reason := await postgres_skip_reason()):
        pytest.skip(reason)
    async with temporary_database(str(request.param), tmp_path) as url:
        db = await open_database(url)
        try:
            store = tmp_path / "recordings"
            store.mkdir()
            await seed(db, store)
            yield db
        finally:
            await db.close()


async def found(db: Database, scope: Scope = EVERYTHING, **query: object) -> list[str]:
    _, rows = await RecordingSearch(db.units).search(SearchQuery.model_validate(query), scope)
    return [row.meta.recording_id for row in rows]


async def test_the_search_runs_the_same_on_both_databases(database: Database) -> None:
    assert await found(database, intent="claim_status") == ["r1"]
    assert await found(database, transferred=True) == ["r2"]
    assert await found(database, transferred=False, muted=False) == ["r3", "r1"]
    assert await found(database, sort="survey_score", order="asc") == ["r2", "r1", "r3"]
    assert await found(database, caller="+155502") == ["r2"]
    assert await found(database, Scope(agent_id="agent")) == ["r3", "r1"]
    assert await found(database, Scope(queues=frozenset({"billing"})), min_score=2) == ["r2"]
    total, rows = await RecordingSearch(database.units).search(
        SearchQuery.model_validate({"intent": "claim_status"}), EVERYTHING)
    assert (total, rows[0].intents, rows[0].survey_score) == (1, ("claim_status",), 5)
    assert await RecordingSearch(database.units).recording_ids(["c1", "c9"]) == {"c1": ["r1"]}


async def test_closing_questions_with_a_change_is_all_or_nothing(database: Database) -> None:
    store = QuestionStore(database.units)
    ids = [await store.add(CallerQuestion(f"c{i}", QuestionKind.UNANSWERED, "hail on my roof",
                                          (), None, "transferred", AT)) for i in (1, 2)]
    edit = FaqEdit(EditKind.VARIANT, "policy-coverage", "hail on my roof", "ed", AT)
    await store.handle(Handling((ids[1],), QuestionState.HANDLED, "ed", AT))
    with pytest.raises(AlreadyHandled):
        await store.handle(Handling((ids[0], ids[1]), QuestionState.VARIANT_ADDED, "ed", AT,
                                    edit=edit))
    assert await store.edits() == []
    assert (await store.get(ids[0])).state is QuestionState.OPEN  # type: ignore[union-attr]
    await store.handle(Handling((ids[0],), QuestionState.VARIANT_ADDED, "ed", AT, edit=edit))
    assert await store.edits() == [edit]


async def test_an_evaluation_moves_only_from_the_state_before(database: Database) -> None:
    form = await QaStore(database.units).add_form(Form(
        "f", 0, "F", 50, (Criterion("a", "A", 100),), "qa", AT))
    assert form.version == 1
    store = EvaluationStore(database.units)
    saved = await store.add(Evaluation(0, "r1", "c1", "agent", "claims", "f", 1, "qa",
                                       (Answer("a", 1),), Result(100.0, True, False, ()), "",
                                       AT))  # fmt: skip
    with pytest.raises(WrongState):
        await store.dispute(saved.evaluation_id, "no", AT)
    released = await store.release(saved.evaluation_id, "qa", AT)
    assert (released.state.value, released.released_at) == ("released", AT)
    assert (await store.dispute(saved.evaluation_id, "no", AT)).state.value == "disputed"
