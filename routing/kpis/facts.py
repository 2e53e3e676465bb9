"""What one call contributes to the KPIs: its queue visits and its call-level facts.

A call can visit several queues (an agent transfers it, the plan overflows it); each visit is
counted in its own queue, with its own wait. Interval attribution, the one rule: **a visit
belongs to the interval in which it entered the queue**; a call's call-level facts (survey,
self-service, complaint, first-call resolution) belong to the interval of its first queue
entry, or of its arrival when it never queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from routing.kpis.formulas import Thresholds

INTERVAL_RULE = ("a call is counted in the interval in which it entered the queue (each queue "
                 "visit in its own); calls that never queued, in the interval they arrived")


class VisitOutcome(StrEnum):
    ANSWERED = "answered"  # an agent answered
    ABANDONED = "abandoned"  # the caller hung up while waiting
    FLOW_OUT = "flow_out"  # the queue gave up: max wait reached, overflow, exit
    WAITING = "waiting"  # still in the queue: counted nowhere until it ends


@dataclass(frozen=True, slots=True)
class QueueVisit:
    queue_id: str
    entered_at: datetime
    outcome: VisitOutcome
    wait_s: float  # entering the queue → answered, abandoned or flowed out
    agent_id: str | None = None  # who answered
    tier: int | None = None  # the answering agent's tier
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrapup_s: float = 0.0
    transferred: bool = False  # the agent sent the caller on
    disposition: str | None = None  # the answering agent's disposition code, if given


@dataclass(frozen=True, slots=True)
class CallFacts:
    call_id: str
    caller: str | None  # the number, for first-call resolution only; None when withheld
    arrived_at: datetime
    visits: tuple[QueueVisit, ...] = ()
    reached_self_service: bool = False
    contained: bool = False  # solved by self-service, no agent needed
    complaint: bool = False  # a complaint intent heard or a complaint disposition given
    survey_score: int | None = None  # 1..5; None when no answer

    @property
    def interval_at(self) -> datetime:
        """When the call counts: its first queue entry, else its arrival."""
        return self.visits[0].entered_at if self.visits else self.arrived_at

    @property
    def answered(self) -> bool:
        return any(v.outcome is VisitOutcome.ANSWERED for v in self.visits)


@dataclass(frozen=True, slots=True)
class KpiSettings:
    """The report's parameters, named in its labels."""

    thresholds: Thresholds = Thresholds()
    fcr_days: float = 7  # N: a repeat call within N days means the first was not resolved

    def __post_init__(self) -> None:
        if self.fcr_days <= 0:
            raise ValueError(f"fcr_days must be positive, got {self.fcr_days}")
