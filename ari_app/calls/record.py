"""The call record the service keeps for every call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class CallOutcome(StrEnum):
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    ABANDONED_IN_IVR = "abandoned_in_ivr"
    ABANDONED_IN_QUEUE = "abandoned_in_queue"
    ENDED_IN_IVR = "ended_in_ivr"
    CONTAINED = "contained"  # solved by self-service, no agent needed
    QUEUE_EXIT = "queue_exit"  # routing gave up (max wait): told to call again or called back
    FAILED = "failed"
    # The service or Asterisk restarted and the caller's channel was gone: reason in hangup_cause.
    LOST_IN_RESTART = "lost_in_restart"


@dataclass(frozen=True, slots=True)
class CallRecord:
    call_id: str
    channel_id: str
    caller_number: str
    correlation_id: str | None
    started_at: datetime
    ended_at: datetime | None = None
    outcome: CallOutcome = CallOutcome.IN_PROGRESS
    hangup_cause: str | None = None
    queue_id: str | None = None
    agent_id: str | None = None
