"""A caller's whole journey through the real development Asterisk and the running service."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from tests.db_fixtures import BACKENDS, postgres_skip_reason, temporary_database
from tests.e2e.conftest import HotlineFactory, agent, first, index_of, types

QUICK_AGENT = "Local/1*3@sim-agents"  # rings 1 s, talks 3 s, hangs up
NEVER_ANSWERS = "Local/never@sim-agents"
TALKS_LONG = "Local/1*60@sim-agents"


async def test_keypad_choice_reaches_agent_is_recorded_and_surveyed(
        hotline: HotlineFactory) -> None:
    async with hotline([agent("alice", QUICK_AGENT)]) as line:
        journey = await line.call(
            "wait_for:prompt@main_menu press:1 wait_for:agent_answer "
            "wait_for:prompt@survey press:5")
    assert first(journey, "menu", node="main_menu")["choice"] == "1"
    assert first(journey, "queue_join")["queue"] == "claims"
    assert first(journey, "agent_offer")["agent"] == "alice"
    assert first(journey, "agent_answer")["agent"] == "alice"
    assert first(journey, "recording", state="started")
    assert first(journey, "survey")["score"] == 5
    order = [index_of(journey, k) for k in
             ("menu", "queue_join", "agent_offer", "agent_answer", "agent_hangup", "survey",
              "hangup")]
    assert order == sorted(order), types(journey)
    stored = first(journey, "recording", state="stored")
    assert stored["duration_s"] > 1.0  # type: ignore[operator]
    assert first(journey, "hangup")["outcome"] == "answered"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_recording_and_survey_are_stored_with_call_agent_and_queue(
        hotline: HotlineFactory, tmp_path: Path, backend: str) -> None:
    if backend == "postgresql" and (reason := await postgres_skip_reason()):
        pytest.skip(reason)
    async with temporary_database(backend, tmp_path) as url, hotline(
            [agent("alice", QUICK_AGENT)], database_url=url) as line:
        journey = await line.call(
            "wait_for:prompt@main_menu press:2 wait_for:prompt@survey press:3")
        await line.settle()
        db = line.service.database
        assert db is not None
        call_id = str(journey[0]["call_id"])
        record = await db.calls.get(call_id)
        recordings = await db.recordings.for_call(call_id)
        survey = await db.surveys.for_call(call_id)
        events = await db.calls.events(call_id)
    assert record is not None and record.outcome == "answered"
    assert record.queue_id == "billing" and record.agent_id == "alice"
    assert [e.type for e in events] == types(journey)
    (meta,) = recordings
    assert (meta.queue_id, meta.agent_id, meta.format) == ("billing", "alice", "wav")
    data = await asyncio.to_thread(Path(meta.path).read_bytes)
    assert len(data) == meta.size_bytes > 1000
    assert hashlib.sha256(data).hexdigest() == meta.sha256
    assert Path(meta.path).is_relative_to(tmp_path / "recordings")
    assert survey is not None and survey.score == 3
    assert (survey.agent_id, survey.queue_id) == ("alice", "billing")


async def test_invalid_digit_is_reprompted_then_a_valid_choice_counts(
        hotline: HotlineFactory) -> None:
    async with hotline([agent("bob", QUICK_AGENT)]) as line:
        journey = await line.call(
            "wait_for:prompt@main_menu press:9 wait_for:no_match press:2 "
            "wait_for:queue_join hangup")
    assert first(journey, "input", node="main_menu")["digits"] == "9"
    no_match = index_of(journey, "no_match")
    menu = index_of(journey, "menu", node="main_menu")
    assert no_match < menu
    assert first(journey, "menu", node="main_menu")["choice"] == "2"
    assert first(journey, "queue_join")["queue"] == "billing"


async def test_silence_gets_escalating_reprompts_then_an_agent(hotline: HotlineFactory) -> None:
    async with hotline([agent("carol", QUICK_AGENT)]) as line:
        journey = await line.call("wait_for:agent_answer hangup")
    reprompts = [line for line in journey if line["type"] == "prompt"
                 and line.get("node") == "main_menu"]
    texts = [str(line["text"]) for line in reprompts]
    assert len(texts) >= 3 and len(set(texts)) == len(texts), texts  # each reprompt differs
    assert len([t for t in types(journey) if t == "no_input"]) >= 2
    assert first(journey, "queue_join")
    assert first(journey, "agent_answer")["agent"] == "carol"
    assert index_of(journey, "no_input") < index_of(journey, "queue_join")


async def test_caller_hanging_up_in_queue_stops_agents_being_called(
        hotline: HotlineFactory) -> None:
    async with hotline([agent("dave", NEVER_ANSWERS)]) as line:
        journey = await line.call("wait_for:prompt@main_menu press:1 wait_for:agent_offer "
                                  "wait:1 hangup")
        await line.settle()
        await asyncio.sleep(5)  # longer than the ring timeout: a new offer would show by now
        assert line.service.queues is not None
        snapshot = line.service.queues.snapshot()
    assert first(journey, "hangup")["outcome"] == "abandoned_in_queue"
    assert types(journey).count("agent_offer") == 1
    assert snapshot.calls == ()
    assert [str(v.state) for v in snapshot.views] == ["idle"]  # free, not ringing


async def test_first_agent_not_answering_makes_the_next_one_ring(
        hotline: HotlineFactory) -> None:
    agents = [agent("erin", NEVER_ANSWERS), agent("frank", QUICK_AGENT)]
    async with hotline(agents) as line:
        journey = await line.call("wait_for:prompt@main_menu press:1 wait_for:agent_answer "
                                  "wait_for:prompt@survey press:4", timeout_s=60)
    offers = [line["agent"] for line in journey if line["type"] == "agent_offer"]
    assert offers[:2] == ["erin", "frank"]
    assert first(journey, "agent_no_answer")["agent"] == "erin"
    assert first(journey, "agent_no_answer")["reason"] == "no_answer"
    assert first(journey, "agent_answer")["agent"] == "frank"


async def test_caller_hanging_up_during_a_prompt_ends_the_call_cleanly(
        hotline: HotlineFactory) -> None:
    async with hotline([agent("gina", QUICK_AGENT)]) as line:
        journey = await line.call("wait_for:prompt wait:0.3 hangup")
    assert "queue_join" not in types(journey)
    assert first(journey, "hangup")["outcome"] == "abandoned_in_ivr"


async def test_caller_hanging_up_first_gets_no_survey_but_the_call_is_recorded(
        hotline: HotlineFactory) -> None:
    async with hotline([agent("hank", TALKS_LONG)]) as line:
        journey = await line.call("wait_for:prompt@main_menu press:3 wait_for:agent_answer "
                                  "wait:2 hangup")
        await line.settle()
        db = line.service.database
        assert db is not None
        call_id = str(journey[0]["call_id"])
        recordings = await db.recordings.for_call(call_id)
        survey = await db.surveys.for_call(call_id)
        record = await db.calls.get(call_id)
    assert "survey" not in types(journey)
    assert "agent_hangup" not in types(journey)
    assert survey is None
    assert record is not None and record.outcome == "answered"
    (meta,) = recordings
    assert meta.duration_s >= 1.5
    assert first(journey, "recording", state="stored")["recording_id"] == meta.recording_id
