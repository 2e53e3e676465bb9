"""gather over a scripted FakeSpeechChannel: keys and speech race, the first input wins."""

from __future__ import annotations

import asyncio

import pytest

from ivr.gather import GatherReason, GatherResult, GatherSpec, gather
from ivr.intents import IntentSpec
from ivr.journey import JourneyType as J
from ivr.ports import ListenParams
from tests.fakes import (
    HANGUP,
    SILENCE,
    Collect,
    FakeJournal,
    FakeListener,
    FakeSpeechChannel,
    Keys,
    Say,
)

BILLING = IntentSpec("billing", ("pay my bill", "billing"), ("2",))
CLAIMS = IntentSpec("claim_status", ("check my claim", "claim status"), ("1",))
MENU = GatherSpec("menu", ("Say what you need.",), intents=(CLAIMS, BILLING))


async def run(turns: list[object], spec: GatherSpec = MENU,
              listener: FakeListener | None = None
              ) -> tuple[GatherResult, FakeSpeechChannel, FakeJournal]:
    channel, journal = FakeSpeechChannel(turns), FakeJournal()
    result = await gather(channel, listener or FakeListener(), journal, spec)
    return result, channel, journal


async def test_the_callers_audio_is_open_before_the_prompt_that_asks() -> None:
    spec = GatherSpec("menu", ("Welcome.", "Say what you need."), intents=(CLAIMS, BILLING))
    result, channel, _ = await run([Say("pay my bill", barge=True)], spec)
    assert result.intent == "billing"
    # The welcome plays before listening begins; the asking prompt only once ears are open.
    assert channel.prompts_heard == [True]
    assert channel.hearings == 1 and not channel.ears_open


async def test_keys_only_gathers_do_not_open_the_callers_audio() -> None:
    result, channel, _ = await run(["2"], GatherSpec("menu", ("Press 2.",), speech=False,
                                                     intents=(CLAIMS, BILLING)))
    assert result.intent == "billing" and channel.hearings == 0


async def test_a_spoken_intent_after_the_prompt() -> None:
    listener = FakeListener()
    result, channel, journal = await run([Say("pay my bill")], listener=listener)
    assert (result.reason, result.intent) == (GatherReason.SPEECH, "billing")
    assert result.confidence >= 0.7 and result.text == "pay my bill"
    assert channel.stopped == []  # it played to the end
    assert journal.of(J.SPEECH) == [{"node": "menu", "text": "pay my bill",
                                     "confidence": 0.9, "barged_in": False, "seconds": 0.0}]
    (intent,) = journal.of(J.INTENT)
    assert (intent["intent"], intent["action"]) == ("billing", "act")
    grammar = listener.grammars[0]
    assert grammar is not None and "pay my bill" in grammar and "operator" in grammar
    assert channel.listens == [ListenParams(5.0, 0.7, 15.0, True)]


async def test_speech_during_the_prompt_stops_it() -> None:
    result, channel, _ = await run([Say("check my claim", barge=True)])
    assert (result.reason, result.intent) == (GatherReason.SPEECH, "claim_status")
    assert channel.stopped == ["Say what you need."]


async def test_a_key_during_the_prompt_stops_it_and_cancels_listening() -> None:
    result, channel, journal = await run([Keys("2", barge=True)])
    assert (result.reason, result.digits, result.intent) == (GatherReason.DTMF, "2", "billing")
    assert channel.stopped == ["Say what you need."]
    assert journal.of(J.INPUT) == [{"node": "menu", "digits": "2"}]
    assert journal.of(J.SPEECH) == []


async def test_a_key_after_the_prompt() -> None:
    result, channel, _ = await run(["1"])
    assert (result.reason, result.digits) == (GatherReason.DTMF, "1")
    assert channel.stopped == []


async def test_silence_is_no_input() -> None:
    result, _, journal = await run([SILENCE])
    assert result == GatherResult(GatherReason.NO_INPUT)
    assert journal.of(J.SPEECH) == []


@pytest.mark.parametrize("said", ["agent", "operator", "a person please", "representative"])
async def test_asking_for_a_human_is_zero_out(said: str) -> None:
    result, _, _ = await run([Say(said)])
    assert (result.reason, result.intent) == (GatherReason.ZERO_OUT, "agent")


async def test_zero_on_the_keypad_is_zero_out() -> None:
    result, _, _ = await run([Keys("0", barge=True)])
    assert (result.reason, result.digits) == (GatherReason.ZERO_OUT, "0")


async def test_unrelated_speech_is_no_match_or_low_confidence() -> None:
    result, _, journal = await run([Say("the weather in paris")])
    assert result.reason in {GatherReason.NO_MATCH, GatherReason.LOW_CONFIDENCE}
    assert journal.of(J.INTENT)[0]["action"] == "reprompt"


async def test_a_badly_heard_intent_is_low_confidence() -> None:
    # Not word for word a phrase: an exact phrase acts whatever the acoustic score (issue 14).
    listener = FakeListener({"billing for me": 0.0})
    spec = GatherSpec("menu", ("Say what you need.",), intents=(CLAIMS, BILLING), low=0.6)
    result, _, _ = await run([Say("billing for me")], spec, listener)
    assert (result.reason, result.intent) == (GatherReason.LOW_CONFIDENCE, "billing")


async def test_free_form_returns_the_transcript_without_a_grammar() -> None:
    listener = FakeListener()
    spec = GatherSpec("ask", ("Ask your question.",))
    result, _, journal = await run([Say("how do I add a driver")], spec, listener)
    assert (result.reason, result.text) == (GatherReason.SPEECH, "how do I add a driver")
    assert listener.grammars == [None]
    assert journal.of(J.INTENT) == []


async def test_free_form_agent_is_zero_out() -> None:
    result, _, _ = await run([Say("I want an agent")], GatherSpec("ask", ("Ask.",)))
    assert result.reason is GatherReason.ZERO_OUT


async def test_keypad_only_without_a_listener() -> None:
    channel, journal = FakeSpeechChannel(["2"]), FakeJournal()
    result = await gather(channel, None, journal, MENU)
    assert (result.reason, result.digits) == (GatherReason.DTMF, "2")
    assert channel.prompts == [] and channel.texts == ["Say what you need."]
    assert channel.collects == [Collect(1, 5.0, 3.0, None)]


async def test_several_digits_with_a_finish_key() -> None:
    spec = GatherSpec("acct", ("Enter your policy number.",), speech=False, max_digits=8,
                      finish_key="#", zero_out=False)
    channel, journal = FakeSpeechChannel(["1234"]), FakeJournal()
    result = await gather(channel, FakeListener(), journal, spec)
    assert (result.reason, result.digits) == (GatherReason.DTMF, "1234")
    assert channel.collects == [Collect(8, 5.0, 3.0, "#")]


async def test_hangup_cancels_the_gather_and_its_tasks() -> None:
    channel, journal = FakeSpeechChannel([HANGUP]), FakeJournal()
    with pytest.raises(asyncio.CancelledError):
        await gather(channel, FakeListener(), journal, MENU)
    await asyncio.sleep(0)
    assert not channel._listening  # the listen task was cancelled and closed


async def test_earlier_prompts_play_whole_and_a_key_there_answers() -> None:
    spec = GatherSpec("menu", ("Sorry.", "Say what you need."), intents=(CLAIMS, BILLING))
    channel, journal = FakeSpeechChannel([], presses={"Sorry.": "1"}), FakeJournal()
    result = await gather(channel, FakeListener(), journal, spec)
    assert (result.reason, result.digits) == (GatherReason.DTMF, "1")
    assert channel.texts == ["Sorry."]  # the key skipped the rest
