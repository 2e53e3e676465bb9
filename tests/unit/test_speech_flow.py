"""run_flow with a listening channel: intents route, confirmations, escalation to the keypad
and an agent, zero-out anywhere, and self-service from the menu."""

from __future__ import annotations

from ivr.flow import MenuNode, SelfServiceNode
from ivr.journey import JourneyType as J
from ivr.loader import HOTLINE_FLOW, load_flow
from ivr.outcomes import Contained, FlowOutcome, ToQueue
from ivr.steps import run_flow
from tests.fakes import (
    SILENCE,
    FakeJournal,
    FakeKnowledge,
    FakeListener,
    FakeSpeechChannel,
    Keys,
    Say,
    item,
)

FLOW = load_flow(HOTLINE_FLOW, known_queues=("claims", "billing", "general"))
_menu, _ask = FLOW.nodes["main_menu"], FLOW.nodes["ask_question"]
assert isinstance(_menu, MenuNode) and isinstance(_ask, SelfServiceNode)
MENU: MenuNode = _menu
ASK: SelfServiceNode = _ask
WELCOME, AGENT = "Welcome to Acme Insurance.", "Please hold for the next agent."
UNSURE = 0.0  # recognizer confidence that puts a clear intent in the confirm band
# Not word for word a grammar phrase: an exact phrase acts whatever the acoustic score (issue 14).
UNSURE_BILLING = "billing for me"


async def run(turns: list[object], listener: FakeListener | None = None,
              knowledge: FakeKnowledge | None = None
              ) -> tuple[FlowOutcome, FakeSpeechChannel, FakeJournal]:
    channel, journal = FakeSpeechChannel(turns), FakeJournal()
    outcome = await run_flow(FLOW, channel, journal, listener=listener or FakeListener(),
                             knowledge=knowledge or FakeKnowledge(), call_id="c1")
    return outcome, channel, journal


async def test_a_spoken_intent_routes() -> None:
    outcome, channel, journal = await run([Say("check my claim")])
    assert outcome == ToQueue("claims", "claims", "intent")
    assert channel.texts == [WELCOME, MENU.say, "Connecting you to our claims team."]
    assert journal.of(J.MENU) == [{"node": "main_menu", "choice": "claim_status",
                                   "target": "claims"}]
    assert journal.of(J.INTENT)[0]["action"] == "act"


async def test_roadside_and_complaints_go_to_the_general_agents() -> None:
    for said in ("I need a tow truck", "I want to make a complaint"):
        outcome, _, _ = await run([Say(said)])
        assert outcome == ToQueue("general", "agent", "intent")


async def test_keys_still_work_at_a_speech_menu() -> None:
    outcome, channel, journal = await run([Keys("2", barge=True)])
    assert outcome == ToQueue("billing", "billing", "menu_choice")
    assert channel.stopped == [MENU.say]  # the key stopped the menu prompt
    assert journal.of(J.MENU) == [{"node": "main_menu", "choice": "2", "target": "billing"}]


async def test_speech_during_the_menu_stops_it() -> None:
    outcome, channel, _ = await run([Say("billing", barge=True)])
    assert outcome == ToQueue("billing", "billing", "intent")
    assert channel.stopped == [MENU.say]


async def test_an_unsure_intent_is_confirmed_yes() -> None:
    listener = FakeListener({UNSURE_BILLING: UNSURE})
    outcome, channel, journal = await run([Say(UNSURE_BILLING), Say("yes")], listener)
    assert outcome == ToQueue("billing", "billing", "intent")
    confirm = MENU.confirm.format(label="billing")
    assert channel.texts == [WELCOME, MENU.say, confirm, "Connecting you to our billing team."]
    assert journal.of(J.CONFIRM) == [{"node": "main_menu", "intent": "billing",
                                      "answer": "yes"}]
    assert journal.of(J.INTENT)[0]["action"] == "confirm"


async def test_a_no_at_the_confirmation_asks_again() -> None:
    listener = FakeListener({UNSURE_BILLING: UNSURE})
    outcome, channel, journal = await run([Say(UNSURE_BILLING), Keys("2"), "1"], listener)
    assert outcome == ToQueue("claims", "claims", "menu_choice")
    assert channel.texts[3:5] == [MENU.no_match[0], MENU.say]
    assert journal.of(J.CONFIRM)[0]["answer"] == "no"
    assert journal.of(J.NO_MATCH)[0]["reason"] == "not_confirmed"


async def test_not_understood_reprompts_then_keypad_then_an_agent() -> None:
    said = Say("purple elephants sing loudly")
    outcome, channel, journal = await run([said, said, said])
    assert outcome == ToQueue("general", "agent", "max_attempts")
    assert channel.texts == [WELCOME, MENU.say, MENU.no_match[0], MENU.say, MENU.no_match[1],
                             MENU.keypad_say, MENU.no_match[2], AGENT]
    assert [d["attempt"] for d in journal.of(J.NO_MATCH)] == [1, 2, 3]


async def test_low_confidence_counts_with_silence_and_wrong_keys() -> None:
    outcome, channel, journal = await run([SILENCE, "9", Say("purple elephants sing loudly")])
    assert outcome == ToQueue("general", "agent", "max_attempts")
    assert channel.texts[2:] == [MENU.no_input[0], MENU.no_match[1], MENU.keypad_say,
                                 MENU.no_match[2], AGENT]
    assert len(journal.of(J.NO_INPUT)) == 1 and len(journal.of(J.NO_MATCH)) == 2


async def test_silence_reprompts_then_offers_the_keypad() -> None:
    outcome, channel, _ = await run([SILENCE, SILENCE, "1"])
    assert outcome == ToQueue("claims", "claims", "menu_choice")
    assert channel.texts[1:5] == [MENU.say, MENU.no_input[0], MENU.no_input[1],
                                  MENU.keypad_say]
    assert len(set(channel.texts)) == len(channel.texts)  # no reprompt repeats another


async def test_agent_said_at_the_menu() -> None:
    outcome, _, journal = await run([Say("operator")])
    assert outcome == ToQueue("general", "agent", "zero_out")
    assert journal.of(J.MENU)[0]["choice"] == "agent"


async def test_agent_said_at_the_confirmation() -> None:
    outcome, _, _ = await run([Say(UNSURE_BILLING), Say("a real person")],
                              FakeListener({UNSURE_BILLING: UNSURE}))
    assert outcome == ToQueue("general", "agent", "zero_out")


async def test_agent_said_at_the_self_service_question() -> None:
    outcome, _, _ = await run(["4", Say("representative")])
    assert outcome == ToQueue("general", "agent", "zero_out")


async def test_a_policy_question_is_answered_and_contained() -> None:
    question = "how do I add a driver"
    answer = item("add-driver", "How do I add a driver?", 0.9)
    knowledge = FakeKnowledge({question: [answer]})
    outcome, channel, journal = await run(
        [Say("a question about my policy"), Say(question), Say("yes")], knowledge=knowledge)
    assert outcome == Contained("ask_question", "helped", survey=True)
    assert channel.texts[2:] == [ASK.say, ASK.one_moment, answer.answer_spoken, ASK.helped]
    assert knowledge.queries[0].intent == "policy_info"  # the menu's guess rides along
    assert journal.of(J.SELF_SERVICE)


async def test_self_service_not_helped_reaches_an_agent_with_the_facts() -> None:
    question = "how do I add a driver"
    knowledge = FakeKnowledge({question: [item("add-driver", "How do I add a driver?", 0.9)]})
    outcome, channel, journal = await run(["4", Say(question), Say("no")],
                                          knowledge=knowledge)
    assert outcome == ToQueue("general", "agent", "not_helped")
    assert channel.texts[-1] == AGENT
    # The handoff record is built from these: what was said, what was played, whether it helped.
    assert [d["text"] for d in journal.of(J.SPEECH)] == [question, "no"]
    assert [d["state"] for d in journal.of(J.KNOWLEDGE)] == ["played", "not_helped"]


async def test_knowledge_down_still_reaches_an_agent() -> None:
    outcome, _, _ = await run(["4", Say("how do I add a driver")],
                              knowledge=FakeKnowledge(down=True))
    assert outcome == ToQueue("general", "agent", "knowledge_unavailable")


async def test_without_a_listener_the_menu_is_keypad_only() -> None:
    channel, journal = FakeSpeechChannel(["4"]), FakeJournal()
    outcome = await run_flow(FLOW, channel, journal)
    # Self-service cannot run without speech: straight to its agent queue.
    assert outcome == ToQueue("general", "agent", "no_self_service")
    assert channel.prompts == [] and channel.listens == []
