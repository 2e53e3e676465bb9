"""The knowledge editors' loop: questions self-service could not answer (or answered, and the
caller said no) are kept in the database whatever the knowledge source, listed grouped and
counted, and an editor's variant or new answer is answered from the next lookup on, also after
a restart. Bad requests are 4xx naming the field, and leave nothing half done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ari_app.db.database import Database
from ivr.flow import SelfServiceNode
from ivr.loader import HOTLINE_FLOW, load_flow
from ivr.outcomes import ToQueue
from ivr.self_service import SelfServiceCall, run_self_service
from kernel.http.auth import Role
from knowledge_client.editors.loop import FaqEditor, QuestionKeeper
from knowledge_client.editors.questions import (
    CallerQuestion,
    QuestionKind,
    QuestionState,
    StoredQuestion,
    group_questions,
)
from knowledge_client.editors.store import QuestionStore
from knowledge_client.embedded import EmbeddedKnowledge
from knowledge_client.model import Outcome, Query, Unanswered
from knowledge_client.ranking import Answer, choose
from tests.fakes import FakeJournal, FakeKnowledge, FakeListener, FakeSpeechChannel, Say, item
from tests.unit.test_api_inputs import whole_app
from tests.unit.test_calls_api import auth

HAIL = "what about hail on my roof"  # the bundled FAQ has no answer: no item shares a word
AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
EDITOR = Role.EDITOR
Client = TestClient[web.Request, web.Application]


def asked(text: str, call_id: str = "c1", minutes: int = 0) -> CallerQuestion:
    return CallerQuestion(call_id, QuestionKind.UNANSWERED, text, (text,), None,
                          Outcome.TRANSFERRED.value, AT + timedelta(minutes=minutes))


def test_alike_questions_are_grouped_and_counted_largest_group_first() -> None:
    questions = [StoredQuestion(i, asked(text, minutes=i)) for i, text in enumerate([
        "is hail damage on my roof covered", "parking ticket abroad",
        "hail damage to my roof", "my roof has hail damage"], start=1)]
    groups = group_questions(questions)
    assert [(len(g.questions), g.text) for g in groups] == [
        (3, "is hail damage on my roof covered"), (1, "parking ticket abroad")]
    assert [q.question_id for q in groups[0].questions] == [1, 3, 4]


@dataclass
class Editors:
    client: Client
    db: Database
    kb: EmbeddedKnowledge
    store: QuestionStore

    async def send(self, method: str, path: str, body: Any = None,
                   role: Role = EDITOR) -> tuple[int, Any]:  # fmt: skip
        async with self.client.request(method, path, json=body, headers=auth(role)) as resp:
            return resp.status, await resp.json()

    async def answered(self, text: str) -> str | None:
        decision = choose(await self.kb.search(Query(text)))
        return decision.item.item_id if isinstance(decision, Answer) else None


@pytest.fixture
async def editors(database: Database) -> AsyncIterator[Editors]:
    async with EmbeddedKnowledge() as kb:
        store = QuestionStore(database.units)
        app = whole_app(database, faq_editor=FaqEditor(kb, store))
        async with TestClient(TestServer(app)) as client:
            yield Editors(client, database, kb, store)


def fields(body: dict[str, Any]) -> list[str]:
    return [p["field"] for p in body.get("problems", [])]


async def test_a_question_added_as_a_variant_is_answered_from_the_next_lookup_on(
    editors: Editors, database: Database,
) -> None:
    keeper = QuestionKeeper(editors.kb, editors.store, now=lambda: AT)
    await keeper.report_unanswered(Unanswered("c1", HAIL, ("hello", HAIL), "policy_info",
                                              Outcome.TRANSFERRED, AT))  # fmt: skip
    assert await editors.answered(HAIL) is None
    status, listed = await editors.send("GET", "/v1/knowledge/questions")
    assert status == 200
    [group] = listed["groups"]
    [question] = group["questions"]
    assert (group["count"], question["text"], question["transcript"], question["call"]) == (
        1, HAIL, ["hello", HAIL], "/v1/calls/c1")

    status, closed = await editors.send(
        "POST", f"/v1/knowledge/questions/{question['question_id']}/variant",
        {"item_id": "policy-coverage"})
    assert (status, closed["state"], closed["faq_item_id"]) == (200, "variant_added",
                                                                "policy-coverage")
    assert await editors.answered(HAIL) == "policy-coverage"
    assert (await editors.send("GET", "/v1/knowledge/questions"))[1]["groups"] == []

    # A restart: the bundled file as shipped, the editors' change read back from the database.
    async with EmbeddedKnowledge() as restarted:
        assert not isinstance(choose(await restarted.search(Query(HAIL))), Answer)
        assert await FaqEditor(restarted, QuestionStore(database.units)).load() == 1
        decision = choose(await restarted.search(Query(HAIL)))
        assert isinstance(decision, Answer) and decision.item.item_id == "policy-coverage"


async def test_a_new_answer_is_answered_and_listed_in_the_faq(editors: Editors) -> None:
    qid = await editors.store.add(asked(HAIL))
    status, _ = await editors.send("POST", f"/v1/knowledge/questions/{qid}/answer", {
        "item_id": "hail-roof", "intent": "policy_info",
        "answer_spoken": "Hail damage to your roof is covered by the home policy.",
        "answer_text": "Hail is a covered peril under the home policy; the deductible applies."})
    assert status == 200
    assert await editors.answered(HAIL) == "hail-roof"
    _, faq = await editors.send("GET", "/v1/knowledge/faq")
    added = next(i for i in faq["items"] if i["item_id"] == "hail-roof")
    assert (added["question"], added["intent"]) == (HAIL, "policy_info")
    _, edits = await editors.send("GET", "/v1/knowledge/faq/edits")
    assert [(e["kind"], e["item_id"], e["by"]) for e in edits] == [("answer", "hail-roof",
                                                                     "editor")]


async def test_bad_changes_name_the_field_and_change_nothing(editors: Editors) -> None:
    qid = await editors.store.add(asked(HAIL))
    base = f"/v1/knowledge/questions/{qid}"
    cases = [
        ("variant", {"item_id": "no-such-item"}, 404, ["body.item_id"]),
        ("answer", {"item_id": "policy-coverage", "intent": "x", "answer_spoken": "Yes.",
                    "answer_text": "Yes."}, 409, ["body.item_id"]),
        ("answer", {"item_id": "hail", "intent": "x", "answer_spoken": "Call 555 0100.",
                    "answer_text": "t"}, 400, ["body.answer_spoken"]),
        ("variant", {"item_id": "policy-coverage", "also": [9999]}, 404, ["body.also"]),
        ("variant", {"item_id": "policy-coverage", "colour": "red"}, 400, ["body.colour"]),
    ]  # fmt: skip
    for action, body, status, named in cases:
        got, reply = await editors.send("POST", f"{base}/{action}", body)
        assert (got, fields(reply)) == (status, named), (action, body, reply)
    assert (await editors.send("POST", "/v1/knowledge/questions/777/handled"))[0] == 404
    assert await editors.answered(HAIL) is None  # no index was swapped
    assert await editors.store.edits() == []  # nothing saved
    assert (await editors.store.get(qid)).state.value == "open"  # type: ignore[union-attr]

    assert (await editors.send("POST", f"{base}/handled", {"note": "spam"}))[0] == 200
    status, reply = await editors.send("POST", f"{base}/handled")
    assert (status, fields(reply)) == (409, ["path.question_id"])


async def test_a_group_is_closed_at_once_and_only_editors_and_admins_may(
    editors: Editors,
) -> None:
    first = await editors.store.add(asked("hail damage to my roof"))
    second = await editors.store.add(asked("my roof has hail damage", minutes=1))
    for role in (Role.QA, Role.SUPERVISOR, Role.AGENT, Role.AUDITOR):
        assert (await editors.send("GET", "/v1/knowledge/questions", role=role))[0] == 403
    status, _ = await editors.send("POST", f"/v1/knowledge/questions/{first}/handled",
                                   {"also": [second]}, role=Role.ADMIN)
    assert status == 200
    _, handled = await editors.send("GET", "/v1/knowledge/questions?state=handled")
    assert [(g["count"], g["question_ids"]) for g in handled["groups"]] == [(2, [first, second])]
    status, reply = await editors.send("GET", "/v1/knowledge/questions?state=closed")
    assert (status, fields(reply)) == (400, ["query.state"])


async def test_without_an_embedded_faq_questions_are_kept_and_changes_refused(
    database: Database,
) -> None:
    store = QuestionStore(database.units)
    remote = FakeKnowledge()  # the HTTP source, say: reports still reach it
    keeper = QuestionKeeper(remote, store, now=lambda: AT)
    await keeper.report_unanswered(Unanswered("c9", HAIL, (HAIL,), None, Outcome.ABANDONED, AT))
    assert [u.text for u in remote.unanswered] == [HAIL]
    [kept] = await store.listed(list(QuestionState), 10)
    async with TestClient(TestServer(whole_app(database))) as client, client.post(
            f"/v1/knowledge/questions/{kept.question_id}/variant", json={"item_id": "x"},
            headers=auth(EDITOR)) as resp:
        assert resp.status == 409


FLOW = load_flow(HOTLINE_FLOW, known_queues=("claims", "billing", "general"))
NODE = FLOW.nodes["ask_question"]


async def test_an_answer_the_caller_said_no_to_is_kept_with_the_answer_offered(
    database: Database,
) -> None:
    assert isinstance(NODE, SelfServiceNode)
    driver = item("add-driver", "How do I add a driver to my policy?", 0.9)
    store = QuestionStore(database.units)
    keeper = QuestionKeeper(FakeKnowledge({"how do I add my son": [driver]}), store,
                            now=lambda: AT)
    outcome = await run_self_service(
        NODE, FakeSpeechChannel([Say("how do I add my son"), Say("no")]), FakeListener(),
        FakeJournal(), keeper, SelfServiceCall(queue_id="general", call_id="c7"))
    assert isinstance(outcome, ToQueue)
    [kept] = await store.listed(list(QuestionState), 10)
    q = kept.question
    assert (q.kind, q.text, q.offered_item_id, q.offered_answer, q.transcript) == (
        QuestionKind.NOT_HELPED, "how do I add my son", "add-driver", driver.answer_spoken,
        ("how do I add my son", "no"))
