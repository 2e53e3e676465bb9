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
    QUEUE_POSITION = "queue_position"  # an announcement of position and estimated wait
    ROUTING = "routing"  # a routing notice: plan step opened, priority changed, overflow
    TRANSFER = "transfer"  # an agent sent the caller on, with notes
    MONITOR = "monitor"  # a supervisor listened, whispered or barged: started, mode, ended
    SPEECH = "speech"  # what the recognizer heard
    TURN = "turn"  # caller-perceived latency: the caller stopped speaking → our next prompt
    INTENT = "intent"  # what the caller wants, with confidence
    CONFIRM = "confirm"
    KNOWLEDGE = "knowledge"  # a self-service answer looked up / played / judged
    SELF_SERVICE = "self_service"  # the call was solved without an agent
    RECORDING = "recording"
    SURVEY = "survey"
    ERROR = "error"
    ADOPTED = "adopted"  # a restarted service took the call over where the last one left it
    HANDED_OVER = "handed_over"  # the service stopped; the call waits in Asterisk for the next
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
