"""Recording and survey values shared by the recorder, the store and QA."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class MutedInterval:
    """A stretch of a recording written as silence (PCI: card data was being spoken); the
    file keeps its length, so `start_s`/`end_s` are seconds from the recording's start."""

    start_s: float
    end_s: float
    by: str  # who muted: a principal's actor, or "keypad:<agent_id>"
    reason: str


@dataclass(frozen=True, slots=True)
class RecordingMeta:
    recording_id: str
    call_id: str
    queue_id: str
    agent_id: str
    started_at: datetime
    duration_s: float
    format: str
    size_bytes: int
    sha256: str
    path: str  # where the file lives in the recording store
    mutes: tuple[MutedInterval, ...] = ()  # in the order they began


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    call_id: str
    queue_id: str | None
    agent_id: str | None
    score: int | None  # 1..5, None when unanswered
    answered_at: datetime
