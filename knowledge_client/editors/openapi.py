"""The knowledge editors' routes (`api.py`) as the service's OpenAPI document describes them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, RootModel

from kernel.http.openapi import Param, Route
from knowledge_client.editors.api import (
    MAX_LISTED,
    STATES,
    AnswerBody,
    HandledBody,
    VariantBody,
)

_QID = Param("question_id", "path", "the question's id",
             {"type": "integer", "minimum": 1, "maximum": 2**31 - 1})


class QuestionOut(BaseModel):
    question_id: int
    state: str = Field(description="open, handled, variant_added or answer_added")
    call_id: str
    kind: str = Field(description="unanswered (no answer, or the source was down) or "
                                  "not_helped (an answer was played; the caller said no)")
    text: str = Field(description="what was looked up")
    transcript: list[str] = Field(description="everything the caller said in self-service")
    intent: str | None = Field(description="the IVR's guess")
    outcome: str = Field(description="how self-service ended: transferred, abandoned")
    at: datetime
    offered_item_id: str | None = Field(description="the answer played (not_helped)")
    offered_answer: str | None
    call: str = Field(description="the call's link: /v1/calls/{call_id}")
    recordings: list[str] = Field(description="links to the call's recordings")
    handled_by: str | None
    handled_at: datetime | None
    note: str | None
    faq_item_id: str | None = Field(description="the FAQ item it became, or a variant of")


class QuestionGroupOut(BaseModel):
    text: str = Field(description="the group's first question")
    count: int
    latest_at: datetime
    question_ids: list[int]
    questions: list[QuestionOut]


class QuestionsOut(BaseModel):
    state: str
    total: int
    groups: list[QuestionGroupOut] = Field(description="alike questions together, the "
                                           "largest groups first")


class FaqItemOut(BaseModel):
    item_id: str
    intent: str
    question: str
    variants: list[str]
    answer_spoken: str


class FaqOut(BaseModel):
    editable: bool = Field(description="false when the knowledge source is not embedded")
    items: list[FaqItemOut]


class FaqEditOut(BaseModel):
    kind: str = Field(description="variant or answer")
    item_id: str
    text: str = Field(description="the variant, or the new item's question")
    by: str
    at: datetime
    intent: str
    answer_spoken: str
    answer_text: str
    variants: list[str]


class FaqEditsOut(RootModel[list[FaqEditOut]]):
    """The editors' changes, oldest first (applied over the bundled FAQ in this order)."""


def routes() -> list[Route]:
    listing = (Param("state", "query", "open (default), handled or all",
                     {"type": "string", "enum": list(STATES)}),
               Param("limit", "query", f"the newest so many (1-{MAX_LISTED}, default 200)",
                     {"type": "integer", "minimum": 1, "maximum": MAX_LISTED}))
    return [
        Route("GET", "/v1/knowledge/questions", "Questions self-service could not answer, "
              "grouped by similarity", "knowledge", QuestionsOut, params=listing,
              errors=(503,)),
        Route("POST", "/v1/knowledge/questions/{question_id}/handled", "Close a question "
              "without changing the FAQ", "knowledge", QuestionOut, body=HandledBody,
              body_required=False, params=(_QID,), errors=(404, 409, 503)),
        Route("POST", "/v1/knowledge/questions/{question_id}/variant", "Add a question as a "
              "variant of an FAQ item (answered from the next call on)", "knowledge",
              QuestionOut, body=VariantBody, params=(_QID,), errors=(404, 409, 503)),
        Route("POST", "/v1/knowledge/questions/{question_id}/answer", "Add a question as a new "
              "FAQ item (answered from the next call on)", "knowledge", QuestionOut,
              body=AnswerBody, params=(_QID,), errors=(404, 409, 503)),
        Route("GET", "/v1/knowledge/faq", "The FAQ as self-service answers from it now",
              "knowledge", FaqOut, errors=(503,)),
        Route("GET", "/v1/knowledge/faq/edits", "The editors' changes to the FAQ",
              "knowledge", FaqEditsOut, errors=(503,)),
    ]  # fmt: skip
