"""The journey milestones that are read back (by the handoff, routing's queue context, the
agent's screen): typed values, written with `note` and read with `read`.

A milestone is journaled as its JourneyType plus its fields as details; `read` is the one
place those details are turned back into typed values, for live and stored journeys alike.
Prompts, inputs, routing notices and the like stay plain `record(type, **details)` lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from ivr.journey import JourneyEvent, JourneyType
from ivr.ports import Journal


@dataclass(frozen=True, slots=True)
class CallStarted:
    type: ClassVar[JourneyType] = JourneyType.CALL_START
    caller: str
    correlation_id: str | None = None


@dataclass(frozen=True, slots=True)
class MenuChoiceMade:
    type: ClassVar[JourneyType] = JourneyType.MENU
    node: str
    choice: str | None  # the key pressed, or the intent heard
    target: str


@dataclass(frozen=True, slots=True)
class SpeechHeard:
    type: ClassVar[JourneyType] = JourneyType.SPEECH
    node: str
    text: str
    confidence: float
    barged_in: bool = False
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class IntentRecognized:
    type: ClassVar[JourneyType] = JourneyType.INTENT
    node: str
    intent: str | None
    confidence: float
    action: str


@dataclass(frozen=True, slots=True)
class KnowledgeStep:
    """A self-service answer looked up, played, or judged by the caller."""

    type: ClassVar[JourneyType] = JourneyType.KNOWLEDGE
    node: str
    item_id: str | None
    question: str | None
    state: str  # unavailable | no_answer | played | helped | not_helped


@dataclass(frozen=True, slots=True)
class QueueJoined:
    type: ClassVar[JourneyType] = JourneyType.QUEUE_JOIN
    queue: str


@dataclass(frozen=True, slots=True)
class AgentOffered:
    type: ClassVar[JourneyType] = JourneyType.AGENT_OFFER
    queue: str
    agent: str
    config_version: int | None
    why: str


@dataclass(frozen=True, slots=True)
class AgentAnswered:
    type: ClassVar[JourneyType] = JourneyType.AGENT_ANSWER
    queue: str
    agent: str
    handoff: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class CallTransferred:
    """An agent sent the caller on (API or keypad), with notes for the next agent."""

    type: ClassVar[JourneyType] = JourneyType.TRANSFER
    agent: str
    queue: str | None
    min_tier: int | None
    notes: str
    by: str


Milestone = (CallStarted | MenuChoiceMade | SpeechHeard | IntentRecognized | KnowledgeStep
             | QueueJoined | AgentOffered | AgentAnswered | CallTransferred)

_BY_TYPE: dict[JourneyType, type[Any]] = {
    cls.type: cls for cls in (CallStarted, MenuChoiceMade, SpeechHeard, IntentRecognized,
                              KnowledgeStep, QueueJoined, AgentOffered, AgentAnswered,
                              CallTransferred)
}


def note(journal: Journal, milestone: Milestone) -> None:
    journal.record(milestone.type, **asdict(milestone))


def read(event: JourneyEvent) -> Milestone | None:
    """The typed milestone an event carries; None for plain journey lines (and for a stored
    line missing a field, which older rows may be)."""
    cls = _BY_TYPE.get(event.type)
    if cls is None:
        return None
    names = {f.name for f in fields(cls)}
    try:
        milestone: Milestone = cls(**{k: v for k, v in event.details.items() if k in names})
    except TypeError:
        return None
    return milestone


def milestones(events: list[JourneyEvent] | tuple[JourneyEvent, ...]) -> list[Milestone]:
    return [m for m in map(read, events) if m is not None]
