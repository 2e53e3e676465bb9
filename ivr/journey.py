"""A call's journey: the milestones a caller passes through, as journaled and streamed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class JourneyType(StrEnum):
    CALL_START = "call_start"
    PROMPT = "prompt"
    INPUT = "input"
    MENU = "menu"
    NO_INPUT = "no_input"
    NO_MATCH = "no_match"
    QUEUE_JOIN = "queue_join"
    QUEUE_LEAVE = "queue_leave"
    AGENT_OFFER = "agent_offer"
    AGENT_NO_ANSWER = "agent_no_answer"
    AGENT_ANSWER = "agent_answer"
    AGENT_HANGUP = "agent_hangup"
    RECORDING = "recording"
    SURVEY = "survey"
    ERROR = "error"
    HANGUP = "hangup"


@dataclass(frozen=True, slots=True)
class JourneyEvent:
    call_id: str
    type: JourneyType
    t: float  # seconds since the call started
    at: datetime  # wall clock, timezone-aware UTC
    details: Mapping[str, object] = field(default_factory=dict)

    def as_line(self) -> dict[str, object]:
        """The JSON-line form printed by the caller simulator and served by the API."""
        return {"type": str(self.type), "t": round(self.t, 3), "call_id": self.call_id,
                **self.details}
