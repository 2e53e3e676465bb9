"""The knowledge editors' routes: the questions callers asked in vain, grouped; closing them, or
turning them into a new FAQ answer or a variant of one.

    GET  /v1/knowledge/questions                          groups of questions (?state, ?limit)
    POST /v1/knowledge/questions/{question_id}/handled    close without changing the FAQ
    POST /v1/knowledge/questions/{question_id}/variant    add as a variant of an FAQ item
    POST /v1/knowledge/questions/{question_id}/answer     add as a new FAQ item
    GET  /v1/knowledge/faq                                the FAQ as the IVR answers from it now
    GET  /v1/knowledge/faq/edits                          the editors' changes, oldest first

`also` in a body closes more questions (e.g. the rest of a group) in the same transaction.
Who may call them is the service's one access table (`ari_app/web/auth.py`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from kernel.http import request as read
from kernel.http.auth import principal
from kernel.http.errors import ApiError, Problem, invalid, not_found
from kernel.http.reply import json_reply
from kernel.http.request import Line, Text
from knowledge_client.editors.faq_edits import EditKind, FaqEdit
from knowledge_client.editors.loop import EditRefused, FaqEditor
from knowledge_client.editors.questions import (
    QuestionState,
    StoredQuestion,
    group_questions,
    plain_terms,
)
from knowledge_client.editors.store import AlreadyHandled, Handling, QuestionStore, UnknownQuestion

ROUTES = web.RouteTableDef()
MAX_LISTED = 1000
MAX_ALSO = 500
ITEM_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
STATES = {"open": (QuestionState.OPEN,),
          "handled": tuple(s for s in QuestionState if s is not QuestionState.OPEN),
          "all": tuple(QuestionState)}  # fmt: skip


class CallRecordings(Protocol):
    async def recording_ids(self, call_ids: Collection[str]) -> Mapping[str, list[str]]:
        """Each call's recording ids, oldest first (calls without any left out)."""
        ...


@dataclass(frozen=True, slots=True)
class EditorApiDeps:
    questions: QuestionStore
    editor: FaqEditor | None  # None: no embedded FAQ to change (knowledge.source http or none)
    recordings: CallRecordings | None = None


EDITORS = web.AppKey("knowledge_editors_api", EditorApiDeps)


def add_editor_routes(app: web.Application, deps: EditorApiDeps) -> None:
    app[EDITORS] = deps
    app.add_routes(ROUTES)


class _Closing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Text | None = Field(default=None, max_length=2000)
    also: list[int] = Field(default=[], max_length=MAX_ALSO,
                            description="more question ids to close with it (e.g. its group)")


class HandledBody(_Closing):
    pass


class VariantBody(_Closing):
    item_id: str = Field(pattern=ITEM_ID, description="the FAQ item it is another way to ask")
    text: Line | None = Field(default=None, min_length=1, max_length=500,
                              description="the variant; default: the question as asked")


class AnswerBody(_Closing):
    item_id: str = Field(pattern=ITEM_ID, description="the new item's id (not taken)")
    intent: Line = Field(min_length=1, max_length=128)
    question: Line | None = Field(default=None, min_length=1, max_length=500,
                                  description="default: the question as asked")
    answer_spoken: Line = Field(min_length=1, max_length=400,
                                description="heard by callers: at most 30 words, no digits")
    answer_text: Text = Field(min_length=1, max_length=4000, description="the agent's screen")
    variants: list[Line] = Field(default=[], max_length=50)


@ROUTES.get("/v1/knowledge/questions")
async def list_questions(request: web.Request) -> web.Response:
    deps = request.app[EDITORS]
    state = request.query.get("state", "open")
    if state not in STATES:
        raise invalid([Problem("query.state", f"one of {', '.join(STATES)}")])
    limit = read.query_int(request, "limit", 200, MAX_LISTED)
    found = await deps.questions.listed(STATES[state], limit)
    links = await deps.recordings.recording_ids({q.question.call_id for q in found}) \
        if deps.recordings is not None and found else {}
    terms = deps.editor.book.normalizer().terms if deps.editor is not None else plain_terms
    groups = [{"text": g.text, "count": len(g.questions), "latest_at": g.latest_at,
               "question_ids": [q.question_id for q in g.questions],
               "questions": [question_json(q, links) for q in g.questions]}
              for g in group_questions(found, terms)]  # fmt: skip
    return json_reply({"state": state, "total": len(found), "groups": groups})


@ROUTES.post("/v1/knowledge/questions/{question_id}/handled")
async def mark_handled(request: web.Request) -> web.Response:
    question = await _open_question(request)
    body = await read.optional_body(request, HandledBody)
    return await _close(request, question, body, QuestionState.HANDLED, None)


@ROUTES.post("/v1/knowledge/questions/{question_id}/variant")
async def add_variant(request: web.Request) -> web.Response:
    question = await _open_question(request)
    body = await read.body(request, VariantBody)
    edit = FaqEdit(EditKind.VARIANT, body.item_id, body.text or question.question.text,
                   principal(request).actor, _now())
    return await _close(request, question, body, QuestionState.VARIANT_ADDED, edit)


@ROUTES.post("/v1/knowledge/questions/{question_id}/answer")
async def add_answer(request: web.Request) -> web.Response:
    question = await _open_question(request)
    body = await read.body(request, AnswerBody)
    edit = FaqEdit(EditKind.ANSWER, body.item_id, body.question or question.question.text,
                   principal(request).actor, _now(), body.intent, body.answer_spoken,
                   body.answer_text, tuple(body.variants))
    return await _close(request, question, body, QuestionState.ANSWER_ADDED, edit)


@ROUTES.get("/v1/knowledge/faq")
async def faq_items(request: web.Request) -> web.Response:
    editor = request.app[EDITORS].editor
    entries = editor.book.entries if editor is not None else ()
    return json_reply({"editable": editor is not None, "items": [
        {"item_id": e.item_id, "intent": e.intent, "question": e.question,
         "variants": list(e.variants), "answer_spoken": e.answer_spoken} for e in entries]})


@ROUTES.get("/v1/knowledge/faq/edits")
async def faq_edits(request: web.Request) -> web.Response:
    edits = await request.app[EDITORS].questions.edits()
    return json_reply([{**asdict(e), "kind": e.kind.value} for e in edits])


def question_json(stored: StoredQuestion,
                  links: Mapping[str, list[str]]) -> dict[str, Any]:  # fmt: skip
    q = stored.question
    return {"question_id": stored.question_id, "state": stored.state.value,
            **{**asdict(q), "kind": q.kind.value, "transcript": list(q.transcript)},
            "call": f"/v1/calls/{q.call_id}",
            "recordings": [f"/v1/recordings/{r}" for r in links.get(q.call_id, [])],
            "handled_by": stored.handled_by, "handled_at": stored.handled_at,
            "note": stored.note, "faq_item_id": stored.faq_item_id}  # fmt: skip


async def _open_question(request: web.Request) -> StoredQuestion:
    question_id = read.path_int(request, "question_id", "a question id")
    found = await request.app[EDITORS].questions.get(question_id)
    if found is None:
        raise not_found(f"question {question_id}", "path.question_id")
    return found


async def _close(request: web.Request, question: StoredQuestion, body: _Closing,
                 state: QuestionState, edit: FaqEdit | None) -> web.Response:  # fmt: skip
    deps = request.app[EDITORS]
    if any(not 1 <= other <= read.MAX_INT for other in body.also):
        raise invalid([Problem("body.also", f"question ids are from 1 to {read.MAX_INT}")])
    handling = Handling((question.question_id, *body.also), state, principal(request).actor,
                        _now(), body.note, edit)
    try:
        if edit is None:
            await deps.questions.handle(handling)
        elif deps.editor is None:
            raise ApiError(409, "conflict", "no embedded FAQ to change: the knowledge source "
                           "is not embedded; change answers in the knowledge service")
        else:
            await deps.editor.apply(handling)
    except EditRefused as exc:
        problems = [Problem(f, m) for f, m in exc.problems]
        if exc.status == 400:
            raise invalid(problems) from None
        raise ApiError(exc.status, "not_found" if exc.status == 404 else "conflict",
                       problems[0].message, problems) from None
    except UnknownQuestion as exc:
        field = "path.question_id" if exc.question_id == question.question_id else "body.also"
        raise not_found(f"question {exc.question_id}", field) from None
    except AlreadyHandled as exc:
        field = "path.question_id" if exc.question_id == question.question_id else "body.also"
        raise ApiError(409, "conflict", str(exc), [Problem(field, str(exc))]) from None
    closed = await deps.questions.get(question.question_id)
    assert closed is not None
    return json_reply(question_json(closed, {}))


def _now() -> datetime:
    return datetime.now(UTC)
