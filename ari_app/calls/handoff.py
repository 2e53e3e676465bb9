"""What the answering agent is told about the caller, so nobody has to repeat themselves.

Derived purely from the call's journey: the IVR path, what the caller said and what we
understood, self-service answers and whether they helped, earlier agents' notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from ari_app.calls.record import CallRecord
from ivr.journey import JourneyEvent, JourneyType


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
    def details(kind: JourneyType) -> tuple[dict[str, object], ...]:
        return tuple(dict(e.details) for e in events if e.type is kind)

    menus = tuple(f"{d.get('node')}={d.get('choice')}" for d in details(JourneyType.MENU))
    agents = tuple(str(d["agent"]) for d in details(JourneyType.AGENT_ANSWER) if "agent" in d)
    return Handoff(
        call_id=record.call_id, caller_number=record.caller_number, vip=vip,
        queue_id=record.queue_id, menu_path=menus, utterances=details(JourneyType.SPEECH),
        intents=details(JourneyType.INTENT), answers=details(JourneyType.KNOWLEDGE),
        notes=details(JourneyType.TRANSFER),
        no_input=sum(1 for e in events if e.type is JourneyType.NO_INPUT),
        no_match=sum(1 for e in events if e.type is JourneyType.NO_MATCH),
        previous_agents=agents,
    )
