"""Callers who speak: the simulator plays generated speech (MBROLA voice through espeak-ng)
into the real development Asterisk; the service hears it through snoop + external media and
recognizes it with pocketsphinx, as in production."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ari_app.__main__ import load_all
from ari_app.ari.rest import AriRest
from ari_app.devtools.turn_sample import measure_turns
from knowledge_client import wire
from knowledge_client.embedded import EmbeddedKnowledge
from knowledge_client.reference_server import ReferenceServer
from tests.e2e.conftest import ROOT, HotlineFactory, Line, agent, first, index_of, types

QUICK_AGENT = "Local/1*3@sim-agents"  # rings 1 s, talks 3 s, hangs up
ASK = "wait_for:prompt@main_menu press:4 wait_for:prompt@ask_question"


def said(text: str) -> str:
    return "say:" + text.replace(" ", "_")


def of_type(journey: list[Line], event_type: str) -> list[Line]:
    return [line for line in journey if line["type"] == event_type]


async def test_a_spoken_intent_routes_to_its_queue(hotline: HotlineFactory) -> None:
    # Whether the service acts at once or first asks "You want roadside assistance, right?"
    # depends on the recognizer's acoustic confidence, which varies run to run: both are the
    # design; the caller answers "yes" if asked, and the route is what must hold.
    async with hotline([agent("alice", QUICK_AGENT)], speech_engine="pocketsphinx") as line:
        journey = await line.call(
            f"wait_for:prompt@main_menu {said('I need roadside assistance')} confirm:yes "
            "wait_for:agent_answer", timeout_s=60)
    # What the recognizer wrote down is acoustics (once "i need road flooded", still the right
    # intent from its other hypotheses); the intent and the route are the design.
    assert first(journey, "speech", node="main_menu")["text"]
    assert first(journey, "intent", node="main_menu")["intent"] == "roadside"
    assert first(journey, "menu", node="main_menu")["target"] == "agent"
    assert first(journey, "queue_join")["queue"] == "general"
    turn = first(journey, "turn")
    assert 0 < int(str(turn["from_decision_ms"])) < int(str(turn["from_speech_end_ms"]))


async def test_agent_said_at_the_main_menu_reaches_a_human(hotline: HotlineFactory) -> None:
    async with hotline([agent("alice", QUICK_AGENT)], speech_engine="pocketsphinx") as line:
        journey = await line.call(
            f"wait_for:prompt@main_menu {said('operator')} wait_for:agent_answer")
    assert first(journey, "intent", node="main_menu")["intent"] == "agent"
    assert first(journey, "queue_join")["queue"] == "general"
    assert first(journey, "agent_answer")["agent"] == "alice"


async def test_agent_said_instead_of_a_question_reaches_a_human(
        hotline: HotlineFactory) -> None:
    async with hotline([agent("alice", QUICK_AGENT)], speech_engine="pocketsphinx") as line:
        journey = await line.call(
            f"{ASK} {said('operator')} wait_for:agent_answer")
    assert "operator" in str(first(journey, "speech", node="ask_question")["text"])
    assert "knowledge" not in types(journey)  # no lookup: straight to a human
    assert first(journey, "queue_join")["queue"] == "general"


async def test_a_spoken_question_is_answered_and_yes_ends_in_self_service_with_survey(
        hotline: HotlineFactory, tmp_path: Path) -> None:
    async with hotline([agent("alice", QUICK_AGENT)], speech_engine="pocketsphinx") as line:
        journey = await line.call(
            f"{ASK} {said('how do I cancel my policy')} wait_for:knowledge "
            f"wait_for:prompt@ask_question wait_for:prompt@ask_question {said('yes please')} "
            "wait_for:prompt@survey press:4")
        await line.settle()
    played = first(journey, "knowledge", state="played")
    assert played["item_id"] == "policy-cancel", played
    assert first(journey, "knowledge", state="helped")["item_id"] == "policy-cancel"
    assert first(journey, "self_service")["item_id"] == "policy-cancel"
    assert "queue_join" not in types(journey) and "agent_offer" not in types(journey)
    assert first(journey, "survey")["score"] == 4
    assert first(journey, "hangup")["outcome"] == "contained"
    # The answer was spoken (a prompt between lookup and "did that help?").
    answer = index_of(journey, "knowledge", state="played")
    assert journey[answer + 1]["type"] == "prompt"
    feedback = _records(tmp_path, "feedback")
    assert [(r["item_id"], r["helpful"]) for r in feedback] == [("policy-cancel", True)]


async def test_no_after_an_answer_reaches_an_agent_with_the_handoff(
        hotline: HotlineFactory, tmp_path: Path) -> None:
    async with hotline([agent("alice", QUICK_AGENT)], speech_engine="pocketsphinx") as line:
        journey = await line.call(
            f"{ASK} {said('I locked my keys in the car')} wait_for:knowledge "
            f"wait_for:prompt@ask_question wait_for:prompt@ask_question {said('no')} "
            "wait_for:agent_answer")
        await line.settle()
    # Which answer was played depends on what the recognizer made of the question; the
    # right-answer check is the "yes" test's. Here: whatever was played, "no" → an agent who
    # gets the caller's words and that answer, marked not helped.
    played = str(first(journey, "knowledge", state="played")["item_id"])
    assert first(journey, "knowledge", state="not_helped")["item_id"] == played
    assert first(journey, "queue_join")["queue"] == "general"
    handoff = first(journey, "agent_answer")["handoff"]
    assert isinstance(handoff, dict)
    heard = str(first(journey, "speech", node="ask_question")["text"])
    assert heard in [u["text"] for u in handoff["utterances"]], handoff
    states = [(a.get("item_id"), a.get("state")) for a in handoff["answers"]]
    assert (played, "not_helped") in states, handoff
    assert handoff["caller_number"] == "+15550100" and handoff["vip"] is False, handoff
    feedback = _records(tmp_path, "feedback")
    assert [(r["item_id"], r["helpful"]) for r in feedback] == [(played, False)]


async def test_a_question_without_answer_reaches_an_agent_and_is_captured(
        hotline: HotlineFactory, tmp_path: Path) -> None:
    question = "do you insure a pet snake"
    async with hotline([agent("alice", QUICK_AGENT)], speech_engine="pocketsphinx") as line:
        journey = await line.call(
            f"{ASK} {said(question)} wait_for:agent_answer")
        await line.settle()
    assert first(journey, "knowledge", state="no_answer")
    assert first(journey, "queue_join")["queue"] == "general"
    (unanswered,) = _records(tmp_path, "unanswered")
    heard = str(first(journey, "speech", node="ask_question")["text"])
    assert unanswered["text"] == heard and heard
    assert unanswered["call_id"] == journey[0]["call_id"]


async def test_speech_during_a_prompt_stops_it(hotline: HotlineFactory) -> None:
    async with hotline([agent("alice", QUICK_AGENT)], speech_engine="pocketsphinx") as line:
        journey = await line.call(
            f"wait_for:prompt@main_menu wait:1 {said('operator')} wait_for:agent_answer")
    speech = first(journey, "speech", node="main_menu")
    assert speech["barged_in"] is True
    # The menu prompt is some 12 s long; the caller was heard well before it could end.
    prompt = first(journey, "prompt", node="main_menu")
    assert float(speech["t"]) - float(prompt["t"]) < 8  # type: ignore[arg-type]


async def test_silence_reprompts_then_offers_the_keypad(hotline: HotlineFactory) -> None:
    async with hotline([agent("alice", QUICK_AGENT)], speech_engine="pocketsphinx") as line:
        journey = await line.call(
            "wait_for:no_input@main_menu wait_for:no_input@main_menu "
            "wait_for:prompt@main_menu press:2 wait_for:agent_answer",
            timeout_s=90)
    failures = of_type(journey, "no_input")
    assert [f["attempt"] for f in failures] == [1, 2]
    texts = [str(p["text"]) for p in of_type(journey, "prompt") if p.get("node") == "main_menu"]
    assert any("keypad" in t or "press" in t.lower() for t in texts[1:]), texts
    assert first(journey, "queue_join")["queue"] == "billing"


@pytest.fixture
async def slow_knowledge() -> AsyncIterator[ReferenceServer]:
    async with EmbeddedKnowledge() as source:
        server = ReferenceServer(source, latency_s=3.0)
        await server.start()
        try:
            yield server
        finally:
            await server.stop()


@pytest.mark.parametrize("case", ["down", "slow"])
async def test_knowledge_down_or_slow_still_reaches_an_agent(
        hotline: HotlineFactory, slow_knowledge: ReferenceServer, tmp_path: Path,
        case: str) -> None:
    url = slow_knowledge.url if case == "slow" else "http://127.0.0.1:9/"  # discard port
    knowledge = {"source": "http", "url": url, "deadline_s": 0.8,
                 "outbox_file": str(tmp_path / "outbox.sqlite3")}
    async with hotline([agent("alice", QUICK_AGENT)], speech_engine="pocketsphinx",
                       knowledge=knowledge) as line:
        journey = await line.call(
            f"{ASK} {said('how do I cancel my policy')} wait_for:agent_answer")
    looked_up = first(journey, "knowledge", state="unavailable")
    assert looked_up["question"]
    assert first(journey, "queue_join")["queue"] == "general"
    assert first(journey, "agent_answer")["agent"] == "alice"
    if case == "slow":
        assert slow_knowledge.requests_to(wire.SEARCH_PATH), "the service never asked"


def _records(tmp_path: Path, kind: str) -> list[dict[str, object]]:
    path = tmp_path / "knowledge-record.jsonl"
    if not path.exists():
        return []
    lines = [json.loads(raw) for raw in path.read_text(encoding="utf-8").splitlines() if raw]
    return [line for line in lines if line.get("kind") == kind]


async def test_the_eval_turn_sample_measures_through_asterisk(ari: AriRest) -> None:
    """`make eval`'s latency sample (hotline measure-turns) on the shipped configuration."""
    settings, flow = load_all(ROOT / "config/hotline.yaml")
    lines = ["claim status", "I want to pay my bill"]
    sample = await measure_turns(settings, flow, lines)
    assert sample.missed == [] and sample.said == lines
    assert len(sample.from_decision_ms) == len(sample.from_speech_end_ms) == 2
    for decided, voiced in zip(sample.from_decision_ms, sample.from_speech_end_ms, strict=True):
        # The last voiced frame precedes the decision by the menu's end-of-speech silence.
        assert 0 < decided < voiced
