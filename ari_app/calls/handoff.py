"""What the answering agent is told about the caller, so nobody has to repeat themselves, and
what routing is told when the caller joins a queue: both built here from the typed milestones.

Derived purely from the call's journey: the IVR path, what the caller said and what we
understood, self-service answers and whether they helped, earlier agents' notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ari_app.calls.record import CallRecord
from ivr.journey import JourneyEvent, JourneyType
from ivr.milestones import (
    AgentAnswered,
    CallTransferred,
    IntentRecognized,
    KnowledgeStep,
    MenuChoiceMade,
    SpeechHeard,
    milestones,
)
from routing.model import HandoffContext


@dataclass(frozen=True, slots=True)
class Handoff:
    call_id: str
    caller_number: str
    vip: bool
    queue_id: str | None
    menu_path: tuple[str, ...] = ()  # "main_menu=1", …
    utterances: tuple[dict[str, object], ...] = ()  # text, intent, confidence
    intents: tuple[dict[str, object], ...] = ()
    answers: tuple[dict[str, object], ...] = ()  # self-service answers played, helped or not
    notes: tuple[dict[str, object], ...] = ()  # from agents who transferred the caller
    no_input: int = 0
    no_match: int = 0
    previous_agents: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def build_handoff(record: CallRecord, events: Sequence[JourneyEvent], *, vip: bool) -> Handoff:
    done = milestones(tuple(events))

    def all_of(kind: type[Any]) -> tuple[dict[str, object], ...]:
        return tuple(asdict(m) for m in done if isinstance(m, kind))

    return Handoff(
        call_id=record.call_id, caller_number=record.caller_number, vip=vip,
        queue_id=record.queue_id,
        menu_path=tuple(f"{m.node}={m.choice}" for m in done if isinstance(m, MenuChoiceMade)),
        utterances=all_of(SpeechHeard), intents=all_of(IntentRecognized),
        answers=all_of(KnowledgeStep), notes=all_of(CallTransferred),
        no_input=sum(1 for e in events if e.type is JourneyType.NO_INPUT),
        no_match=sum(1 for e in events if e.type is JourneyType.NO_MATCH),
        previous_agents=tuple(m.agent for m in done if isinstance(m, AgentAnswered)),
    )


def queue_context(events: Sequence[JourneyEvent]) -> HandoffContext:
    """What routing may match on when the caller joins a queue: the menus chosen and the
    last intent understood."""
    done = milestones(tuple(events))
    intents = [m.intent for m in done if isinstance(m, IntentRecognized)]
    return HandoffContext(
        intent=str(intents[-1]) if intents else None,
        journey=tuple(f"menu:{m.target}" for m in done if isinstance(m, MenuChoiceMade)))
