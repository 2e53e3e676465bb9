"""Which calls a principal may see: the agents and queues a call belongs to, read from its
record and journey, and the filter that scopes the live journey events of `/v1/events`.

A call is an agent's when they answered it (the record's `agent_id` is the latest agent who
did), and, while it is live, when it rings for them now (the latest offer); it is in every
queue it joined. `Principal.sees` turns that into yes or no for each role.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ari_app.calls.record import CallRecord
from ari_app.calls.registry import LiveCalls
from ivr.journey import JourneyEvent, JourneyType
from kernel.http.auth import Principal

_QUEUE_EVENTS = (JourneyType.QUEUE_JOIN, JourneyType.AGENT_OFFER, JourneyType.AGENT_ANSWER)


@dataclass(slots=True)
class CallParties:
    """The agents and queues of one call, as far as its journey has gone."""

    agents: set[str] = field(default_factory=set)
    queues: set[str] = field(default_factory=set)
    ringing: str | None = None  # the agent the latest offer went to

    def add_record(self, record: CallRecord) -> None:
        if record.agent_id:
            self.agents.add(record.agent_id)
        if record.queue_id:
            self.queues.add(record.queue_id)

    def add_event(self, event: JourneyEvent) -> None:
        agent, queue = event.details.get("agent"), event.details.get("queue")
        if event.type in _QUEUE_EVENTS and isinstance(queue, str):
            self.queues.add(queue)
        if event.type is JourneyType.AGENT_OFFER and isinstance(agent, str):
            self.ringing = agent
        elif event.type is JourneyType.AGENT_ANSWER and isinstance(agent, str):
            self.agents.add(agent)
            self.ringing = None

    def seen_by(self, who: Principal, *, live: bool) -> bool:
        agents = self.agents | ({self.ringing} if live and self.ringing else set())
        return who.sees(agents=agents, queues=self.queues)


def parties(record: CallRecord, events: Iterable[JourneyEvent] = ()) -> CallParties:
    found = CallParties()
    found.add_record(record)
    for event in events:
        found.add_event(event)
    return found


def may_see_call(who: Principal, record: CallRecord, events: Iterable[JourneyEvent] = (), *,
                 live: bool = False) -> bool:  # fmt: skip
    return who.unscoped or parties(record, events).seen_by(who, live=live)


class EventScope:
    """The live events a principal may receive: each call's events once the call is theirs
    (it joined their queue, rang for them or they answered it), and on until it ends."""

    def __init__(self, who: Principal, live: LiveCalls) -> None:
        self._who = who
        self._live = live
        self._calls: dict[str, CallParties] = {}

    def allows(self, event: JourneyEvent) -> bool:
        if self._who.unscoped:
            return True
        call = self._calls.get(event.call_id)
        if call is None:
            call = self._calls[event.call_id] = CallParties()
            if (journey := self._live.journey(event.call_id)) is not None:
                for earlier in journey.events:  # joined late: what the call went through
                    call.add_event(earlier)
        if (journey := self._live.journey(event.call_id)) is not None:
            call.add_record(journey.record)
        call.add_event(event)
        allowed = call.seen_by(self._who, live=True)
        if event.type is JourneyType.HANGUP:
            del self._calls[event.call_id]
        return allowed
