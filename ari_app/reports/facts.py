"""A stored call's journey read as routing's KPI facts (`routing.kpis.facts`); no I/O.

Queue visits from the milestones: `queue_join` opens one; `agent_answer` answers it (wait =
answer − entry); an agent's `transfer` ends its talk and the routing notice `transferred`
opens a visit in the target queue; a routing `overflow` ends the visit as a flow-out and opens
one in the next queue; a routing `exit` or a `queue_leave` ends it as a flow-out; the caller's
`hangup` while waiting ends it as abandoned. Talk ends at `agent_hangup`, `transfer` or the
caller's `hangup`. Wrap-up is the queue's wrap-up timer, or shorter when the agent's disposition
ended it early; hold is 0: the hotline has no hold. A call still in progress counts with what
is known so far. Each agent's disposition closes the last visit that agent answered; one whose
code is flagged `complaint` makes the call a complaint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from ari_app.calls.desk.model import Disposition
from ari_app.calls.record import CallOutcome, CallRecord
from ivr.journey import JourneyEvent, JourneyType
from routing.config import RoutingConfig
from routing.kpis.facts import CallFacts, QueueVisit, VisitOutcome

COMPLAINT_INTENTS = frozenset({"complaint"})
WITHHELD = frozenset({"", "anonymous", "unknown", "restricted", "unavailable"})


@dataclass
class _Open:
    visit: QueueVisit
    t_entered: float
    t_answered: float | None = None
    talk_ended: bool = False
    talk_ended_at: datetime | None = None  # when the agent's wrap-up began


@dataclass
class _Visits:
    config: RoutingConfig
    done: list[_Open] = field(default_factory=list)
    open: _Open | None = None

    def enter(self, queue_id: str, at: datetime, t: float) -> None:
        self.close(VisitOutcome.FLOW_OUT, t)  # a visit still waiting flowed out
        self.open = _Open(QueueVisit(queue_id, at, VisitOutcome.WAITING, 0.0), t)

    def answer(self, agent_id: str, t: float) -> None:
        if self.open is None or self.open.t_answered is not None:
            return
        agent = self.config.agent(agent_id)
        self.open.visit = replace(self.open.visit, outcome=VisitOutcome.ANSWERED,
                                  wait_s=t - self.open.t_entered, agent_id=agent_id,
                                  tier=agent.tier if agent else None)  # fmt: skip
        self.open.t_answered = t

    def end_talk(self, t: float, at: datetime, *, transferred: bool = False) -> None:
        o = self.open
        if o is None or o.t_answered is None or o.talk_ended:
            return
        queue = self.config.queue(o.visit.queue_id)
        o.visit = replace(o.visit, talk_s=t - o.t_answered, transferred=transferred,
                          wrapup_s=queue.wrapup_s if queue else 0.0)
        o.talk_ended, o.talk_ended_at = True, at

    def close(self, unanswered: VisitOutcome, t: float) -> None:
        """End the open visit: as `unanswered` when nobody answered it."""
        o, self.open = self.open, None
        if o is None:
            return
        if o.t_answered is None:
            o.visit = replace(o.visit, outcome=unanswered, wait_s=t - o.t_entered)
        self.done.append(o)

    def last(self, t: float) -> list[_Open]:
        o = self.open
        if o is not None:  # in progress: answered so far, or waiting
            if o.t_answered is not None and not o.talk_ended:
                o.visit = replace(o.visit, talk_s=t - o.t_answered)
            self.done.append(o)
            self.open = None
        return self.done


def visits(events: Sequence[JourneyEvent], config: RoutingConfig) -> tuple[QueueVisit, ...]:
    """The queue visits of one call's journey, in order."""
    return tuple(o.visit for o in _visits(events, config))


def _visits(events: Sequence[JourneyEvent], config: RoutingConfig) -> list[_Open]:
    v = _Visits(config)
    for e in events:
        d = e.details
        if e.type is JourneyType.QUEUE_JOIN:
            v.enter(str(d.get("queue")), e.at, e.t)
        elif e.type is JourneyType.AGENT_ANSWER:
            v.answer(str(d.get("agent")), e.t)
        elif e.type is JourneyType.AGENT_HANGUP:
            v.end_talk(e.t, e.at)
        elif e.type is JourneyType.TRANSFER:
            v.end_talk(e.t, e.at, transferred=True)
        elif e.type is JourneyType.ROUTING and d.get("kind") in ("transferred", "overflow"):
            v.close(VisitOutcome.FLOW_OUT, e.t)
            v.enter(str(d.get("queue")), e.at, e.t)
        elif (e.type is JourneyType.ROUTING and d.get("kind") == "exit"
              or e.type is JourneyType.QUEUE_LEAVE):  # fmt: skip
            v.close(VisitOutcome.FLOW_OUT, e.t)
        elif e.type is JourneyType.HANGUP:
            v.end_talk(e.t, e.at)
            v.close(VisitOutcome.ABANDONED, e.t)
    return v.last(events[-1].t if events else 0.0)


def call_facts(record: CallRecord, events: Sequence[JourneyEvent], survey_score: int | None,
               config: RoutingConfig,
               dispositions: Sequence[Disposition] = ()) -> CallFacts:  # fmt: skip
    caller = record.caller_number.strip()
    return CallFacts(
        call_id=record.call_id,
        caller=None if caller.lower() in WITHHELD else caller,
        arrived_at=record.started_at,
        visits=closed(_visits(events, config), dispositions),
        reached_self_service=any(e.type in (JourneyType.KNOWLEDGE, JourneyType.SELF_SERVICE)
                                 for e in events),
        contained=record.outcome is CallOutcome.CONTAINED,
        complaint=_complaint(events) or any(d.complaint for d in dispositions),
        survey_score=survey_score,
    )


def closed(opens: Sequence[_Open], dispositions: Iterable[Disposition]
           ) -> tuple[QueueVisit, ...]:  # fmt: skip
    """The visits with each disposition on the last visit its agent answered; its wrap-up
    as long as it lasted when the disposition ended it early."""
    found = [o.visit for o in opens]
    for d in dispositions:
        answered = [i for i, v in enumerate(found)
                    if v.outcome is VisitOutcome.ANSWERED and v.agent_id == d.agent_id]
        if not answered:
            continue
        i = answered[-1]
        visit = replace(found[i], disposition=d.code)
        began = opens[i].talk_ended_at
        if d.wrapup_ended_at is not None and began is not None:
            lasted = max(0.0, (d.wrapup_ended_at - began).total_seconds())
            visit = replace(visit, wrapup_s=min(visit.wrapup_s, lasted))
        found[i] = visit
    return tuple(found)


def _complaint(events: Iterable[JourneyEvent]) -> bool:
    """A complaint intent heard, or chosen at a menu."""
    for e in events:
        if e.type is JourneyType.INTENT and e.details.get("intent") in COMPLAINT_INTENTS:
            return True
        if e.type is JourneyType.MENU and e.details.get("choice") in COMPLAINT_INTENTS:
            return True
    return False
