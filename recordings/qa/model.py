"""QA records as domain values. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from recordings.qa.scorecard import Answer, Result


@dataclass(frozen=True, slots=True)
class Comment:
    comment_id: int
    recording_id: str
    at_s: float  # seconds from the recording's start (the file keeps muted stretches)
    text: str
    by: str
    created_at: datetime


class EvaluationState(StrEnum):
    SUBMITTED = "submitted"  # QA's only: the agent does not see it
    RELEASED = "released"  # the agent sees it and may dispute it
    DISPUTED = "disputed"  # the agent disputed it; QA answers
    RESOLVED = "resolved"  # QA answered the dispute (upheld or changed by a new evaluation)


@dataclass(frozen=True, slots=True)
class Evaluation:
    evaluation_id: int
    recording_id: str
    call_id: str
    agent_id: str
    queue_id: str
    form_id: str
    form_version: int
    reviewer: str
    answers: tuple[Answer, ...]
    result: Result
    comment: str
    created_at: datetime
    state: EvaluationState = EvaluationState.SUBMITTED
    released_by: str | None = None
    released_at: datetime | None = None
    dispute_reason: str | None = None
    disputed_at: datetime | None = None
    resolution: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TrainingEntry:
    recording_id: str
    reason: str
    added_by: str
    added_at: datetime


@dataclass(frozen=True, slots=True)
class Listen:
    """Audio served to someone: which bytes, and the seconds they hold."""

    at: datetime
    actor: str
    role: str
    recording_id: str
    status: int  # 200 the whole file, 206 a range, 416 a range outside the file
    byte_start: int | None
    byte_end: int | None  # inclusive
    size_bytes: int
    start_s: float | None
    end_s: float | None
    remote: str | None


@dataclass(frozen=True, slots=True)
class Play:
    """A stretch of a recording a person's player played, as the player reports it."""

    at: datetime
    actor: str
    role: str
    recording_id: str
    start_s: float
    end_s: float
    remote: str | None
