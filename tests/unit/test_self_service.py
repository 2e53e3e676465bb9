"""The self-service funnel over fakes: question, lookup under "one moment", answer, helped?"""

from __future__ import annotations

from datetime import UTC, datetime

from ivr.flow import SelfServiceNode
from ivr.journey import JourneyType as J
from ivr.loader import HOTLINE_FLOW, load_flow
from ivr.outcomes import Contained, ToQueue
from ivr.self_service import SelfServiceCall, run_self_service
from knowledge_client.model import Outcome, Query, SearchResult
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
_node = FLOW.nodes["ask_question"]
assert isinstance(_node, SelfServiceNode)
NODE: SelfServiceNode = _node
QUESTION = "how do I add a driver"
DRIVER = item("add-driver", "How do I add a driver to my policy?", 0.9)
CARD = item("id-card", "How do I get a new insurance card?", 0.85)
AT = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
CALL = SelfServiceCall(queue_id="general", call_id="c1", intent="policy_info", now=lambda: AT)


async def run(turns: list[object], knowledge: FakeKnowledge, call: SelfServiceCall = CALL
              ) -> tuple[Contained | ToQueue, FakeSpeechChannel, FakeJournal]:
    channel, journal = FakeSpeechChannel(turns), FakeJournal()
    outcome = await run_self_service(NODE, channel, FakeListener(), journal, knowledge, call)
    return outcome, channel, journal


def states(journal: FakeJournal) -> list[object]:
    return [d["state"] for d in journal.of(J.KNOWLEDGE)]


async def test_answer_helped_is_contained() -> None:
    knowledge = FakeKnowledge({QUESTION: [DRIVER]})
    outcome, channel, journal = await run([Say(QUESTION), Say("yes")], knowledge)
    assert outcome == Contained("ask_question", "helped", survey=True)
    assert channel.texts == [NODE.say, NODE.one_moment, DRIVER.answer_spoken, NODE.helped]
    assert knowledge.queries == [Query(QUESTION, "en", "c1", "policy_info")]
    assert states(journal) == ["played", "helped"]
    assert journal.of(J.SELF_SERVICE) == [{"node": "ask_question", "item_id": "add-driver"}]
    assert [(f.item_id, f.helpful, f.outcome) for f in knowledge.feedbacks] == [
        ("add-driver", True, Outcome.CONTAINED)]
    assert journal.of(J.SPEECH)[0]["text"] == QUESTION


async def test_helped_by_key() -> None:
    outcome, _, _ = await run([Say(QUESTION), "1"], FakeKnowledge({QUESTION: [DRIVER]}))
    assert isinstance(outcome, Contained)


async def test_not_helped_goes_to_an_agent() -> None:
    knowledge = FakeKnowledge({QUESTION: [DRIVER]})
    outcome, _, journal = await run([Say(QUESTION), Say("no")], knowledge)
    assert outcome == ToQueue("general", "agent", "not_helped")
    assert states(journal) == ["played", "not_helped"]
    assert [(f.helpful, f.outcome) for f in knowledge.feedbacks] == [
        (False, Outcome.TRANSFERRED)]
    assert journal.of(J.SELF_SERVICE) == []


async def test_a_helped_answer_not_understood_is_asked_once_more() -> None:
    knowledge = FakeKnowledge({QUESTION: [DRIVER]})
    outcome, channel, journal = await run([Say(QUESTION), Say("purple"), Say("yes")], knowledge)
    assert isinstance(outcome, Contained)
    assert channel.texts.count(NODE.helped) == 2
    assert journal.of(J.NO_MATCH) == [{"node": "ask_question", "attempt": 1}]
    assert states(journal) == ["played", "helped"]


async def test_a_helped_answer_not_understood_twice_is_not_helped() -> None:
    outcome, _, journal = await run([Say(QUESTION), Say("purple"), Say("purple")],
                                    FakeKnowledge({QUESTION: [DRIVER]}))
    assert outcome == ToQueue("general", "agent", "not_helped")
    assert states(journal) == ["played", "not_helped"]


async def test_silence_after_the_answer_is_not_helped() -> None:
    outcome, _, _ = await run([Say(QUESTION), SILENCE], FakeKnowledge({QUESTION: [DRIVER]}))
    assert outcome == ToQueue("general", "agent", "not_helped")


async def test_no_answer_goes_to_an_agent_and_is_reported() -> None:
    knowledge = FakeKnowledge({})
    outcome, channel, journal = await run([Say("can I insure my boat")], knowledge)
    assert outcome == ToQueue("general", "agent", "no_answer")
    assert channel.texts == [NODE.say, NODE.one_moment]
    (report,) = knowledge.unanswered
    assert (report.call_id, report.text, report.transcript, report.intent, report.outcome,
            report.at) == ("c1", "can I insure my boat", ("can I insure my boat",),
                           "policy_info", Outcome.TRANSFERRED, AT)
    assert states(journal) == ["no_answer"]


async def test_a_weak_best_match_is_no_answer() -> None:
    weak = item("weak", "Something else?", 0.2)
    outcome, _, journal = await run([Say(QUESTION)], FakeKnowledge({QUESTION: [weak]}))
    assert outcome == ToQueue("general", "agent", "no_answer")
    assert journal.of(J.KNOWLEDGE)[0]["item_id"] == "weak"


async def test_knowledge_down_goes_to_an_agent_after_one_moment() -> None:
    outcome, channel, journal = await run([Say(QUESTION)], FakeKnowledge(down=True))
    assert outcome == ToQueue("general", "agent", "knowledge_unavailable")
    assert channel.texts[-1] == NODE.one_moment
    assert states(journal) == ["unavailable"]
    # The report could not be sent either; the call goes on regardless.
    assert journal.of(J.ERROR) == [{"node": "ask_question", "reason": "report_failed"}]


async def test_knowledge_slower_than_the_ceiling_goes_to_an_agent() -> None:
    slow = FakeKnowledge({QUESTION: [DRIVER]}, delay_s=1.0)
    call = SelfServiceCall(queue_id="general", call_id="c1", lookup_ceiling_s=0.02)
    outcome, _, _ = await run([Say(QUESTION)], slow, call)
    assert outcome == ToQueue("general", "agent", "knowledge_unavailable")


async def test_one_moment_plays_while_the_source_searches() -> None:
    channel = FakeSpeechChannel([Say(QUESTION), Say("yes")])

    class Watching(FakeKnowledge):
        async def search(self, query: Query, *, limit: int = 3) -> SearchResult:
            playing = channel.prompts[-1]
            assert (playing.text, playing.done()) == (NODE.one_moment, False)
            return await super().search(query, limit=limit)

    outcome = await run_self_service(NODE, channel, FakeListener(), FakeJournal(),
                                     Watching({QUESTION: [DRIVER]}), CALL)
    assert isinstance(outcome, Contained)
    assert NODE.one_moment not in channel.stopped  # it finished rather than being cut


async def test_two_close_answers_ask_the_caller_to_choose_by_key() -> None:
    knowledge = FakeKnowledge({QUESTION: [DRIVER, CARD]})
    outcome, channel, journal = await run([Say(QUESTION), Keys("2"), Say("yes")], knowledge)
    assert isinstance(outcome, Contained)
    assert NODE.choose.format(a=DRIVER.question, b=CARD.question) in channel.texts
    assert CARD.answer_spoken in channel.texts and DRIVER.answer_spoken not in channel.texts
    assert journal.of(J.SELF_SERVICE) == [{"node": "ask_question", "item_id": "id-card"}]


async def test_two_close_answers_chosen_by_voice() -> None:
    knowledge = FakeKnowledge({QUESTION: [DRIVER, CARD]})
    outcome, channel, _ = await run([Say(QUESTION), Say("a new insurance card"), Say("no")],
                                    knowledge)
    assert outcome == ToQueue("general", "agent", "not_helped")
    assert CARD.answer_spoken in channel.texts


async def test_no_choice_between_two_is_no_answer() -> None:
    knowledge = FakeKnowledge({QUESTION: [DRIVER, CARD]})
    outcome, _, _ = await run([Say(QUESTION), SILENCE], knowledge)
    assert outcome == ToQueue("general", "agent", "no_answer")
    assert knowledge.unanswered[0].text == QUESTION


async def test_agent_instead_of_a_question() -> None:
    knowledge = FakeKnowledge({})
    outcome, _, _ = await run([Say("agent please")], knowledge)
    assert outcome == ToQueue("general", "agent", "zero_out")
    assert knowledge.queries == []


async def test_no_question_twice_goes_to_an_agent() -> None:
    outcome, channel, journal = await run([SILENCE, SILENCE], FakeKnowledge({}))
    assert outcome == ToQueue("general", "agent", "no_question")
    assert channel.texts == [NODE.say, NODE.say]
    assert len(journal.of(J.NO_INPUT)) == 2
