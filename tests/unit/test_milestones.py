"""Typed milestones: written with `note`, read back the same from live and stored journeys;
the handoff and routing's queue context are built from them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ari_app.calls.handoff import build_handoff, queue_context
from ari_app.calls.record import CallRecord
from ivr.journey import JourneyEvent, JourneyType
from ivr.milestones import (
    AgentAnswered,
    AgentOffered,
    CallStarted,
    CallTransferred,
    IntentRecognized,
    KnowledgeStep,
    MenuChoiceMade,
    Milestone,
    QueueJoined,
    SpeechHeard,
    note,
    read,
)
from tests.fakes import FakeJournal

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
EXAMPLES: list[Milestone] = [
    CallStarted(caller="+15550100", correlation_id="corr-1"),
    MenuChoiceMade(node="main_menu", choice="1", target="claims_queue"),
    SpeechHeard(node="ask", text="my car was hit", confidence=0.91, barged_in=True, seconds=1.2),
    IntentRecognized(node="ask", intent="claims", confidence=0.88, action="act"),
    KnowledgeStep(node="faq", item_id="hours", question="when are you open", state="helped"),
    QueueJoined(queue="claims"),
    AgentOffered(queue="claims", agent="alice", config_version=3, why="longest idle"),
    AgentAnswered(queue="claims", agent="alice", handoff={"vip": False}),
    CallTransferred(agent="alice", queue="billing", min_tier=2, notes="wants a refund",
                    by="keypad"),
]


def events_of(journal: FakeJournal) -> list[JourneyEvent]:
    return [JourneyEvent("c-1", type, float(i), NOW, details)
            for i, (type, details) in enumerate(journal.entries)]


@pytest.mark.parametrize("milestone", EXAMPLES, ids=lambda m: type(m).__name__)
def test_a_milestone_reads_back_as_it_was_noted(milestone: Milestone) -> None:
    journal = FakeJournal()
    note(journal, milestone)
    assert journal.types() == [milestone.type]
    assert read(events_of(journal)[0]) == milestone


def test_plain_lines_and_incomplete_stored_rows_are_no_milestones() -> None:
    assert read(JourneyEvent("c-1", JourneyType.PROMPT, 0.0, NOW, {"text": "hi"})) is None
    assert read(JourneyEvent("c-1", JourneyType.MENU, 0.0, NOW, {"node": "m"})) is None


def test_handoff_and_queue_context_come_from_the_milestones() -> None:
    journal = FakeJournal()
    for milestone in EXAMPLES:
        note(journal, milestone)
    journal.record(JourneyType.NO_INPUT, node="main_menu")
    journal.record(JourneyType.NO_MATCH, node="main_menu")
    journal.record(JourneyType.NO_MATCH, node="main_menu")
    events = events_of(journal)
    record = CallRecord("c-1", "ch-1", "+15550100", None, NOW, queue_id="claims")
    handoff = build_handoff(record, events, vip=True)
    assert handoff.menu_path == ("main_menu=1",)
    assert handoff.utterances[0]["text"] == "my car was hit"
    assert [i["intent"] for i in handoff.intents] == ["claims"]
    assert [a["state"] for a in handoff.answers] == ["helped"]
    assert [n["notes"] for n in handoff.notes] == ["wants a refund"]
    assert handoff.previous_agents == ("alice",)
    assert (handoff.no_input, handoff.no_match, handoff.vip) == (1, 2, True)
    context = queue_context(events)
    assert context.intent == "claims"
    assert context.journey == ("menu:claims_queue",)
