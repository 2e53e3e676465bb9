"""The JSON of the knowledge-service contract (docs/knowledge-contract.md), in one place: the
HTTP client writes requests and reads responses with it, the reference server the other way
round, and the outbox stores undelivered reports in it. Pure (pydantic only)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from knowledge_client.model import Feedback, Item, Outcome, Query, SearchResult, Unanswered

API_PREFIX = "/v1"
SEARCH_PATH = f"{API_PREFIX}/search"
FEEDBACK_PATH = f"{API_PREFIX}/feedback"
UNANSWERED_PATH = f"{API_PREFIX}/unanswered"
HEALTH_PATH = f"{API_PREFIX}/health"
Channel = Literal["voice", "web", "chat", "sms"]
M = TypeVar("M", bound=BaseModel)


class WireError(ValueError):
    """A body that does not follow the contract."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SearchRequest(_Body):
    text: str = Field(min_length=1, max_length=2000)  # MAX_TEXT
    language: str = "en"
    channel: Channel = "voice"
    intent: str | None = None
    call_id: str = ""
    limit: int = Field(default=3, ge=1, le=20)  # MAX_LIMIT
    context: dict[str, str] = Field(default_factory=dict)


class WireItem(_Body):
    id: str = Field(min_length=1)
    question: str
    answer_spoken: str
    answer_text: str = ""
    score: float = Field(ge=0.0, le=1.0)
    source: str = ""


class SearchResponse(_Body):
    items: list[WireItem]
    took_ms: float = 0.0


class FeedbackBody(_Body):
    id: str = Field(min_length=1)
    channel: Channel = "voice"
    item_id: str
    call_id: str
    helpful: bool | None
    outcome: Outcome


class UnansweredBody(_Body):
    id: str = Field(min_length=1)
    channel: Channel = "voice"
    call_id: str
    text: str
    transcript: list[str]
    intent: str | None
    outcome: Outcome
    at: datetime


class ErrorDetail(_Body):
    code: str
    message: str


class ErrorBody(_Body):
    error: ErrorDetail


MAX_TEXT = 2000
MAX_LIMIT = 20


def search_request(query: Query, limit: int) -> dict[str, Any]:
    """The request body; an over-long text is cut and the limit clamped to what v1 allows.
    The text must not be blank (the client answers a blank question itself)."""
    return SearchRequest(text=query.text.strip()[:MAX_TEXT], language=query.language,
                         intent=query.intent, call_id=query.call_id,
                         limit=min(max(limit, 1), MAX_LIMIT),
                         context=dict(query.context)).model_dump(mode="json")


def parse_search_response(raw: bytes) -> SearchResult:
    body = _parse(SearchResponse, raw)
    items = tuple(Item(w.id, w.question, w.answer_spoken, w.answer_text, w.score, w.source)
                  for w in body.items)
    return SearchResult(items, body.took_ms)


def search_response(result: SearchResult) -> dict[str, Any]:
    items = [WireItem(id=i.item_id, question=i.question, answer_spoken=i.answer_spoken,
                      answer_text=i.answer_text, score=i.score, source=i.source)
             for i in result.items]
    return SearchResponse(items=items, took_ms=result.took_ms).model_dump(mode="json")


def feedback_body(fb: Feedback) -> dict[str, Any]:
    fields: dict[str, Any] = {"item_id": fb.item_id, "call_id": fb.call_id,
                              "helpful": fb.helpful, "outcome": fb.outcome.value}
    body = FeedbackBody.model_validate({"id": _content_id("feedback", fields), **fields})
    return body.model_dump(mode="json")


def unanswered_body(u: Unanswered) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "call_id": u.call_id, "text": u.text, "transcript": list(u.transcript),
        "intent": u.intent, "outcome": u.outcome.value, "at": u.at.isoformat(),
    }
    body = UnansweredBody.model_validate({"id": _content_id("unanswered", fields), **fields})
    return body.model_dump(mode="json")


def feedback_from(raw: bytes) -> tuple[str, Feedback]:
    """(message id, feedback) from a request body."""
    b = _parse(FeedbackBody, raw)
    return b.id, Feedback(b.item_id, b.call_id, b.helpful, b.outcome)


def unanswered_from(raw: bytes) -> tuple[str, Unanswered]:
    b = _parse(UnansweredBody, raw)
    return b.id, Unanswered(b.call_id, b.text, tuple(b.transcript), b.intent, b.outcome, b.at)


def error_body(code: str, message: str) -> dict[str, Any]:
    return ErrorBody(error=ErrorDetail(code=code, message=message)).model_dump(mode="json")


def error_message(raw: bytes) -> str:
    """The message of an error body, or a short prefix of whatever came instead."""
    try:
        return _parse(ErrorBody, raw).error.message
    except WireError:
        return raw[:120].decode("utf-8", "replace")


def _content_id(kind: str, fields: dict[str, Any]) -> str:
    """Idempotency key: the same report always has the same id, so a re-send after a lost
    response is recognised as a duplicate by the service."""
    canonical = json.dumps({"kind": kind, **fields}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _parse(model: type[M], raw: bytes) -> M:
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise WireError(f"{model.__name__}: {exc.error_count()} problem(s): "
                        f"{exc.errors()[0]['loc']} {exc.errors()[0]['msg']}") from exc
