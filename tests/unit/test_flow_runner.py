"""run_flow over a scripted FakeChannel: what the caller hears, where they end up, the journal."""

from __future__ import annotations

import asyncio
from types import MappingProxyType

import pytest

from ivr.flow import Flow, HangupNode, MenuNode, Node, PromptNode, QueueNode, SurveySpec
from ivr.journey import JourneyType as J
from ivr.loader import HOTLINE_FLOW, load_flow
from ivr.steps import MAX_NODE_VISITS, HangUp, ToQueue, run_flow
from tests.fakes import HANGUP, Collect, FakeChannel, FakeJournal

FLOW = load_flow(HOTLINE_FLOW, known_queues=("claims", "billing", "general"))
_menu = FLOW.nodes["main_menu"]
assert isinstance(_menu, MenuNode)
MENU: MenuNode = _menu
WELCOME, AGENT = "Welcome to Acme Insurance.", "Please hold for the next agent."
assert (FLOW.nodes["welcome"].say, FLOW.nodes["agent"].say) == (WELCOME, AGENT)
SURVEY = SurveySpec("Rate us.", "1 to 5?", "Thanks.", "Bye.")


async def run(channel: FakeChannel, flow: Flow = FLOW) -> tuple[object, FakeJournal]:
    journal = FakeJournal()
    outcome = await run_flow(flow, channel, journal)
    return outcome, journal


async def test_valid_choice_goes_to_its_queue() -> None:
    channel = FakeChannel(["2"])
    outcome, journal = await run(channel)
    assert outcome == ToQueue(queue_id="billing", node="billing", reason="menu_choice")
    assert channel.played == [(WELCOME, True), (MENU.say, True),
                              ("Connecting you to our billing team.", False)]
    assert channel.collects == [Collect(max_digits=1, first_timeout=5.0,
                                        inter_digit_timeout=3.0, finish_key=None)]
    assert journal.entries == [
        (J.PROMPT, {"node": "welcome", "text": WELCOME}),
        (J.PROMPT, {"node": "main_menu", "text": MENU.say}),
        (J.INPUT, {"node": "main_menu", "digits": "2"}),
        (J.MENU, {"node": "main_menu", "choice": "2", "target": "billing"}),
        (J.PROMPT, {"node": "billing", "text": "Connecting you to our billing team."}),
    ]


async def test_invalid_key_reprompts_then_valid_choice() -> None:
    channel = FakeChannel(["77", "1"])  # the second 7 must not answer the reprompt
    outcome, journal = await run(channel)
    assert outcome == ToQueue("claims", "claims", "menu_choice")
    assert channel.texts[1:4] == [MENU.say, MENU.no_match[0], MENU.say]
    assert channel.discards == 1
    assert journal.of(J.INPUT) == [{"node": "main_menu", "digits": "7"},
                                   {"node": "main_menu", "digits": "1"}]
    assert journal.of(J.NO_MATCH) == [{"node": "main_menu", "digits": "7", "attempt": 1}]
    # The input is journaled before it is judged.
    types = journal.types()
    assert types.index(J.INPUT) < types.index(J.NO_MATCH)


async def test_silence_escalates_then_goes_to_an_agent() -> None:
    channel = FakeChannel(["", "", ""])
    outcome, journal = await run(channel)
    assert outcome == ToQueue("general", "agent", "max_attempts")
    assert channel.played == [(WELCOME, True), (MENU.say, True), (MENU.no_input[0], True),
                              (MENU.no_input[1], True), (MENU.no_input[2], False),
                              (AGENT, False)]
    assert journal.of(J.NO_INPUT) == [{"node": "main_menu", "attempt": n} for n in (1, 2, 3)]
    assert journal.of(J.INPUT) == []
    assert journal.of(J.MENU) == []


async def test_no_input_and_no_match_share_one_counter() -> None:
    channel = FakeChannel(["", "9", ""])
    outcome, journal = await run(channel)
    assert outcome == ToQueue("general", "agent", "max_attempts")
    assert channel.texts[2:] == [MENU.no_input[0], MENU.no_match[1], MENU.say,
                                 MENU.no_input[2], AGENT]
    assert journal.of(J.NO_MATCH) == [{"node": "main_menu", "digits": "9", "attempt": 2}]


async def test_key_during_the_welcome_answers_the_menu() -> None:
    channel = FakeChannel([], presses={WELCOME: "3"})
    outcome, journal = await run(channel)
    assert outcome == ToQueue("general", "policy", "menu_choice")
    assert MENU.say not in channel.texts  # type-ahead skips the menu text
    assert journal.of(J.MENU) == [{"node": "main_menu", "choice": "3", "target": "policy"}]


async def test_key_during_a_reprompt_is_the_next_answer() -> None:
    channel = FakeChannel(["5"], presses={MENU.no_match[0]: "0"})
    outcome, _ = await run(channel)
    assert outcome == ToQueue("general", "agent", "menu_choice")
    assert channel.texts[1:] == [MENU.say, MENU.no_match[0], AGENT]  # menu text not replayed


def tiny_flow(*nodes: Node, fallback: str | None = None) -> Flow:
    """A flow built in code, without validation; starts at the first node."""
    by_id = {n.id: n for n in nodes}
    return Flow(name="t", start=nodes[0].id, nodes=MappingProxyType(by_id), survey=SURVEY,
                fallback=fallback)


BARE_MENU = MenuNode("m", "Press 1.", MappingProxyType({"1": "bye"}), on_failure="bye",
                     max_attempts=2, timeout=4.0, inter_digit_timeout=2.0)
BYE = HangupNode("bye", "Goodbye.")


async def test_without_escalation_texts_the_menu_repeats_but_not_before_hand_off() -> None:
    channel = FakeChannel(["", ""])
    outcome, _ = await run(channel, tiny_flow(BARE_MENU, BYE))
    assert outcome == HangUp("bye", "max_attempts")
    assert channel.texts == ["Press 1.", "Press 1.", "Goodbye."]
    assert channel.collects[0] == Collect(1, 4.0, 2.0, None)


async def test_hangup_node_ends_the_flow() -> None:
    outcome, journal = await run(FakeChannel(["1"]), tiny_flow(BARE_MENU, BYE))
    assert outcome == HangUp(node="bye", reason="menu_choice")
    assert journal.entries[-1] == (J.PROMPT, {"node": "bye", "text": "Goodbye."})


async def test_prompt_not_followed_by_a_menu_is_not_interruptible() -> None:
    flow = tiny_flow(PromptNode("a", "Hello.", "b"), PromptNode("b", "Note.", "m"), BARE_MENU,
                     BYE)
    channel = FakeChannel(["1"])
    await run(channel, flow)
    assert channel.played[:3] == [("Hello.", False), ("Note.", True), ("Press 1.", True)]


async def test_loop_guard_hands_the_caller_to_the_fallback_queue() -> None:
    agent = QueueNode("agent", "general", "Please hold.")
    flow = tiny_flow(PromptNode("a", "A.", "b"), PromptNode("b", "B.", "a"), agent,
                     fallback="agent")
    channel = FakeChannel()
    outcome, journal = await run(channel, flow)
    assert outcome == ToQueue("general", "agent", "loop_guard")
    assert len(channel.played) == MAX_NODE_VISITS + 1
    assert channel.texts[-1] == "Please hold."
    assert journal.of(J.ERROR) == [{"node": "a", "reason": "loop_guard"}]


async def test_loop_guard_without_fallback_hangs_up() -> None:
    outcome, _ = await run(FakeChannel(), tiny_flow(PromptNode("a", "A.", "a")))
    assert outcome == HangUp("a", "loop_guard")


async def test_missing_node_in_an_unvalidated_flow_goes_to_the_fallback() -> None:
    agent = QueueNode("agent", "general")
    outcome, journal = await run(FakeChannel(), tiny_flow(PromptNode("a", "A.", "nowhere"),
                                                          agent, fallback="agent"))
    assert outcome == ToQueue("general", "agent", "broken_flow")
    assert journal.of(J.ERROR) == [{"node": "nowhere", "reason": "broken_flow"}]


async def test_hangup_cancels_the_flow() -> None:
    channel = FakeChannel(["9", HANGUP])
    journal = FakeJournal()
    with pytest.raises(asyncio.CancelledError):
        await run_flow(FLOW, channel, journal)
    assert journal.types()[-1] == J.PROMPT  # the reprompt the caller heard last
