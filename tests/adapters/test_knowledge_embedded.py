"""The embedded knowledge source against the real SQLite FTS5 index and the bundled FAQ."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from knowledge_client.embedded import EmbeddedKnowledge
from knowledge_client.model import Feedback, Outcome, Query, Unanswered
from knowledge_client.port import KnowledgeConfigError, KnowledgeUnavailable
from knowledge_client.ranking import Answer, Disambiguate, NoAnswer, choose
from knowledge_client.settings import KnowledgeSettings, build_source

DEMO_INTENTS = {"claim_status", "report_claim", "policy_info", "billing", "roadside", "complaint"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def kb() -> AsyncIterator[EmbeddedKnowledge]:
    async with EmbeddedKnowledge() as source:
        yield source


# Natural caller phrasings, not copied from the FAQ (more in knowledge_client/data/*.tsv).
QUESTIONS = [
    ("can you give me an update on the claim I made last week", "claim-status"),
    ("how long is it going to take for my claim to be settled", "claim-timeline"),
    ("when am I going to get the money for my claim", "claim-payment"),
    ("I'd like to talk to the adjuster who has my case", "claim-adjuster"),
    ("somebody crashed into the back of my car", "report-accident"),
    ("my car got stolen last night", "report-theft"),
    ("there's water coming through my ceiling from a burst pipe", "report-home-water"),
    ("can you send me a copy of my insurance documents", "policy-documents"),
    ("I want to add my daughter as a driver on my car policy", "policy-add-driver"),
    ("I'd like to cancel my policy", "policy-cancel"),
    ("why has my premium gone up so much", "billing-increase"),
    ("I missed my last payment, am I still covered?", "billing-late"),
    ("you charged me twice this month", "billing-refund"),
    ("My car broke down on the highway.", "roadside-tow"),
    ("I've got a flat tire", "roadside-tyre"),
    ("I ran out of gas on the freeway", "roadside-fuel"),
    ("I'm not happy with how you handled my complaint, can I go to the ombudsman?",
     "complaint-escalate"),
]


@pytest.mark.parametrize(("text", "expected"), QUESTIONS)
async def test_natural_questions_find_their_item_first(kb: EmbeddedKnowledge, text: str,
                                                       expected: str) -> None:
    result = await kb.search(Query(text, call_id="c1"))
    assert result.items[0].item_id == expected, [(i.item_id, i.score) for i in result.items]
    decision = choose(result)
    assert isinstance(decision, Answer | Disambiguate)
    assert (decision.item if isinstance(decision, Answer) else decision.a).item_id == expected


@pytest.mark.parametrize("text", [
    "what's the weather like tomorrow", "can you book me a table for two",
    "do you sell life insurance for pets", "blue elephant dishwasher", "", "???",
    "what is the capital of france",
])
async def test_questions_it_cannot_answer_score_below_min(kb: EmbeddedKnowledge,
                                                          text: str) -> None:
    result = await kb.search(Query(text))
    assert isinstance(choose(result), NoAnswer), [(i.item_id, i.score) for i in result.items]


async def test_a_vague_question_asks_the_caller_to_choose(kb: EmbeddedKnowledge) -> None:
    decision = choose(await kb.search(Query("I have a question about my claim")))
    assert isinstance(decision, Disambiguate)
    assert {decision.a.item_id, decision.b.item_id} <= {
        e.item_id for e in kb.book.entries if e.intent in {"claim_status", "report_claim"}
    }


async def test_two_near_identical_items_give_disambiguate(tmp_path: Path) -> None:
    faq = tmp_path / "faq.yaml"
    faq.write_text("""
items:
  - id: home-hours
    intent: agent
    question: What are the opening hours of the home insurance team?
    answer_spoken: Eight to six.
    answer_text: 08:00-18:00
  - id: motor-hours
    intent: agent
    question: What are the opening hours of the motor insurance team?
    answer_spoken: Nine to five.
    answer_text: 09:00-17:00
""")
    async with EmbeddedKnowledge(faq) as source:
        decision = choose(await source.search(Query("opening hours of the insurance team")))
        assert isinstance(decision, Disambiguate)
        assert {decision.a.item_id, decision.b.item_id} == {"home-hours", "motor-hours"}
        assert choose(await source.search(Query("motor team opening hours"))) == Answer(
            (await source.search(Query("motor team opening hours"))).items[0]
        )


async def test_the_ivr_intent_breaks_a_tie(kb: EmbeddedKnowledge) -> None:
    text = "how long does it take"
    complaint = await kb.search(Query(text, intent="complaint"))
    claim = await kb.search(Query(text, intent="claim_status"))
    assert complaint.items[0].item_id == "complaint-timeline"
    assert claim.items[0].item_id == "claim-timeline"


async def test_the_bundled_faq_covers_the_demo_hotline(kb: EmbeddedKnowledge) -> None:
    entries = kb.book.entries
    assert len(entries) >= 25
    assert {e.intent for e in entries} >= DEMO_INTENTS
    assert all(len(e.answer_spoken.split()) <= 30 for e in entries)


async def test_items_carry_both_answers_and_a_bounded_score(kb: EmbeddedKnowledge) -> None:
    result = await kb.search(Query("I need a tow truck"), limit=2)
    assert len(result.items) <= 2
    best = result.items[0]
    assert best.source == "embedded" and best.answer_spoken and best.answer_text
    assert all(0.0 <= i.score <= 1.0 for i in result.items)


async def test_reports_are_kept_and_appended_to_the_record_file(tmp_path: Path) -> None:
    record = tmp_path / "knowledge-reports.jsonl"
    fb = Feedback("roadside-tow", "call-7", True, Outcome.CONTAINED)
    u = Unanswered("call-8", "do you insure boats", ("do you insure boats",), None,
                   Outcome.TRANSFERRED, datetime(2026, 1, 1, tzinfo=UTC))
    async with EmbeddedKnowledge(record_path=record) as source:
        await source.feedback(fb)
        await source.report_unanswered(u)
        assert source.feedback_log == [fb] and source.unanswered_log == [u]
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [(r["kind"], r["call_id"]) for r in lines] == [("feedback", "call-7"),
                                                          ("unanswered", "call-8")]


async def test_an_unreadable_faq_stops_startup_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(KnowledgeConfigError, match="nope.yaml: cannot read the FAQ file"):
        async with EmbeddedKnowledge(missing):
            pass
    bad = tmp_path / "bad.yaml"
    bad.write_text("items:\n  - id: x\n")
    with pytest.raises(KnowledgeConfigError, match=r"bad.yaml: items\[0\].question"):
        async with build_source(KnowledgeSettings(faq_file=bad)):
            pass


async def test_search_before_start_is_unavailable_not_a_crash() -> None:
    with pytest.raises(KnowledgeUnavailable):
        await EmbeddedKnowledge().search(Query("tow"))
