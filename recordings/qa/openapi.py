"""The QA routes as the service's OpenAPI document describes them (`api_*.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, RootModel

from kernel.http.openapi import Param, Route
from recordings.openapi import RecordingOut
from recordings.qa.api_evaluations import DisputeBody, EvaluationBody, ResolveBody
from recordings.qa.api_forms import FormBody
from recordings.qa.api_plays import PlaysBody
from recordings.qa.api_reviews import CommentBody, TrainingBody
from recordings.qa.search import MAX_PAGE, SearchQuery

_REC = Param("recording_id", "path", "the recording's id", {"type": "string", "minLength": 1})
_EVAL = Param("evaluation_id", "path", "the evaluation's id",
              {"type": "integer", "minimum": 1, "maximum": 2**31 - 1})
_FORM = Param("form_id", "path", "the form's id", {"type": "string", "minLength": 1})
_LIMIT = Param("limit", "query", "how many, newest first (1-1000, default 100)",
               {"type": "integer", "minimum": 1, "maximum": 1000})


class FoundOut(RecordingOut):
    caller_number: str | None
    outcome: str | None = Field(description="the call's outcome")
    survey_score: int | None
    transferred: bool
    intents: list[str] = Field(description="intents the IVR recognised, in order")
    muted: bool


class SearchOut(BaseModel):
    total: int = Field(description="how many match, over every page")
    limit: int
    offset: int
    sort: str
    order: str
    items: list[FoundOut]


class CommentOut(BaseModel):
    comment_id: int
    recording_id: str
    at_s: float = Field(description="seconds from the recording's start")
    text: str
    by: str
    created_at: datetime


class CommentsOut(RootModel[list[CommentOut]]):
    """In timeline order."""


class CriterionOut(BaseModel):
    criterion_id: str
    text: str
    weight: float
    max_points: int
    allow_na: bool
    auto_fail: bool


class FormOut(BaseModel):
    form_id: str
    version: int
    name: str
    passing_score: float
    criteria: list[CriterionOut]
    created_by: str
    created_at: datetime
    versions: list[int] = Field(default=[], description="GET /v1/qa/forms/{form_id} only")


class FormsOut(RootModel[list[FormOut]]):
    """The newest version of each form."""


class AnswerOut(BaseModel):
    criterion_id: str
    points: int | None = Field(description="null: N/A")
    note: str


class EvaluationOut(BaseModel):
    evaluation_id: int
    recording_id: str
    call_id: str
    agent_id: str
    queue_id: str
    form_id: str
    form_version: int = Field(description="the form version it was scored with, for ever")
    reviewer: str
    answers: list[AnswerOut]
    score: float | None = Field(description="0-100; null when every weighted item was N/A")
    passed: bool | None
    auto_failed: bool
    comment: str
    created_at: datetime
    state: str = Field(description="submitted, released, disputed, resolved")
    released_by: str | None
    released_at: datetime | None
    dispute_reason: str | None
    disputed_at: datetime | None
    resolution: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    failed_items: list[str] = Field(default=[], description="on creation: the auto-fail items "
                                                            "that failed")


class EvaluationsOut(RootModel[list[EvaluationOut]]):
    """Evaluations (an agent's: only released ones of their own calls)."""


class SpreadOut(BaseModel):
    count: int
    mean: float | None
    low: float | None
    high: float | None
    spread: float | None = Field(description="high - low, in points of 100")
    stdev: float | None


class ReviewerScoreOut(BaseModel):
    score: float | None
    auto_failed: bool


class CalibrationFormOut(BaseModel):
    form_id: str
    form_version: int
    reviewers: dict[str, ReviewerScoreOut] = Field(description="each reviewer's newest score")
    score: SpreadOut
    within_target: bool
    target: float
    auto_fail_agreed: bool
    criteria: dict[str, SpreadOut] = Field(description="each criterion's share earned, 0-100")


class CalibrationOut(BaseModel):
    recording_id: str
    forms: list[CalibrationFormOut]


class TrainingOut(BaseModel):
    recording_id: str
    reason: str
    added_by: str
    added_at: datetime


class TrainingListOut(RootModel[list[TrainingOut]]):
    """The training library, newest first."""


class ListenOut(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str
    recording_id: str
    status: int = Field(description="200 the whole file, 206 a range, 416 outside the file")
    byte_start: int | None
    byte_end: int | None = Field(description="inclusive")
    size_bytes: int
    start_s: float | None = Field(description="the seconds of the recording the bytes hold")
    end_s: float | None
    remote: str | None


class ListensOut(RootModel[list[ListenOut]]):
    """Audio served, newest first."""


class PlayOut(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str
    recording_id: str
    start_s: float = Field(description="the stretch the player reports it played, in seconds")
    end_s: float
    remote: str | None


class PlaysOut(RootModel[list[PlayOut]]):
    """Seconds players report as played, newest first."""


class PlaysRecorded(BaseModel):
    recorded: int = Field(description="how many ranges were kept")


class TimelineEventOut(BaseModel):
    type: str = Field(description="the journey event's type (intent, transfer, recording, …)")
    t_s: float = Field(description="seconds from the recording's start; negative before it")
    details: dict[str, Any]


class TimelineOut(RecordingOut):
    events: list[TimelineEventOut] = Field(description="the call's journey, in order")


class PeaksOut(BaseModel):
    recording_id: str
    duration_s: float
    peaks: list[float] = Field(description="the loudest sample of each equal stretch, 0..1")


def _search_params() -> tuple[Param, ...]:
    schema = SearchQuery.model_json_schema(by_alias=True)["properties"]
    found = []
    for name, spec in schema.items():
        spec = dict(spec)
        spec.pop("default", None)
        spec.pop("title", None)
        if "anyOf" in spec:  # optional: the value's own schema
            spec = {**next(s for s in spec.pop("anyOf") if s.get("type") != "null"), **spec}
        if "$ref" in spec:
            spec = {"type": "string", "enum": ["started_at", "duration_s", "survey_score",
                                               "agent_id", "queue_id"]}
        found.append(Param(name, "query", str(spec.pop("description", name)), spec))
    return tuple(found)


def routes() -> list[Route]:
    rec, ev, form = (_REC,), (_EVAL,), (_FORM,)
    return [
        Route("GET", "/v1/recordings", f"Find recordings (sorted, paged; at most {MAX_PAGE} "
              "a page)", "qa", SearchOut, params=_search_params(), errors=(503,)),
        Route("GET", "/v1/recordings/{recording_id}/timeline", "The call's journey on the "
              "recording's clock, and its muted intervals", "qa", TimelineOut, params=rec,
              errors=(404, 503)),
        Route("GET", "/v1/recordings/{recording_id}/peaks", "The recording's waveform", "qa",
              PeaksOut, params=(_REC, Param("points", "query", "how many (1-4000, default "
                                            "800)", {"type": "integer", "minimum": 1,
                                                     "maximum": 4000})),
              errors=(404, 409, 410, 503)),
        Route("GET", "/v1/recordings/{recording_id}/comments", "Comments pinned to times",
              "qa", CommentsOut, params=rec, errors=(404, 503)),
        Route("POST", "/v1/recordings/{recording_id}/comments", "Pin a comment to a time",
              "qa", CommentOut, status=201, body=CommentBody, params=rec, errors=(404, 503)),
        Route("POST", "/v1/recordings/{recording_id}/training", "Add to the training library",
              "qa", TrainingOut, status=201, body=TrainingBody, params=rec, errors=(404, 503)),
        Route("GET", "/v1/qa/training", "The training library", "qa", TrainingListOut,
              params=(_LIMIT,), errors=(503,)),
        Route("GET", "/v1/qa/forms", "Scorecard forms (newest versions)", "qa", FormsOut,
              errors=(503,)),
        Route("POST", "/v1/qa/forms", "Save a scorecard form (a new version of its id)", "qa",
              FormOut, status=201, body=FormBody, errors=(409, 503)),
        Route("GET", "/v1/qa/forms/{form_id}", "A form's newest version and its versions",
              "qa", FormOut, params=form, errors=(404, 503)),
        Route("GET", "/v1/qa/forms/{form_id}/versions/{version}", "One version of a form",
              "qa", FormOut, params=(_FORM, Param("version", "path", "the version", {
                  "type": "integer", "minimum": 1, "maximum": 2**31 - 1})), errors=(404, 503)),
        Route("GET", "/v1/recordings/{recording_id}/evaluations", "A recording's evaluations",
              "qa", EvaluationsOut, params=rec, errors=(404, 503)),
        Route("POST", "/v1/recordings/{recording_id}/evaluations", "Score a recording",
              "qa", EvaluationOut, status=201, body=EvaluationBody, params=rec,
              errors=(404, 503)),
        Route("GET", "/v1/recordings/{recording_id}/calibration", "How far reviewers of the "
              "call are apart", "qa", CalibrationOut, params=rec, errors=(404, 503)),
        Route("GET", "/v1/qa/evaluations", "Evaluations, newest first", "qa", EvaluationsOut,
              params=(_LIMIT, Param("offset", "query", "skip so many", {
                  "type": "integer", "minimum": 0, "maximum": 1_000_000}),
                      Param("agent_id", "query", "only this agent's")), errors=(503,)),
        Route("GET", "/v1/qa/evaluations/{evaluation_id}", "One evaluation", "qa",
              EvaluationOut, params=ev, errors=(404, 503)),
        Route("POST", "/v1/qa/evaluations/{evaluation_id}/release", "Release to the agent",
              "qa", EvaluationOut, params=ev, errors=(404, 409, 503)),
        Route("POST", "/v1/qa/evaluations/{evaluation_id}/dispute", "Dispute (the agent)",
              "qa", EvaluationOut, body=DisputeBody, params=ev, errors=(404, 409, 503)),
        Route("POST", "/v1/qa/evaluations/{evaluation_id}/resolve", "Answer a dispute", "qa",
              EvaluationOut, body=ResolveBody, params=ev, errors=(404, 409, 503)),
        Route("GET", "/v1/audit/listens", "Audio served: who, when, which bytes and seconds",
              "audit", ListensOut, params=(_LIMIT, Param("recording_id", "query",
                                                          "only this recording"),
                                           Param("actor", "query", "only this reader")),
              errors=(503,)),
        Route("POST", "/v1/recordings/{recording_id}/plays", "Report the seconds played",
              "qa", PlaysRecorded, status=201, body=PlaysBody, params=rec, errors=(404, 503)),
        Route("GET", "/v1/audit/plays", "Seconds players reported as played", "audit",
              PlaysOut, params=(_LIMIT, Param("recording_id", "query", "only this recording"),
                                Param("actor", "query", "only this reader")),
              errors=(503,)),
    ]  # fmt: skip
