"""run_survey over a scripted FakeChannel."""

from __future__ import annotations

import asyncio

import pytest

from ivr.flow import SurveySpec
from ivr.journey import JourneyType as J
from ivr.survey import run_survey
from tests.fakes import HANGUP, Collect, FakeChannel, FakeJournal

SPEC = SurveySpec(say="Rate us from 1 to 5.", reprompt="Please press 1 to 5.",
                  thanks="Thank you.", unanswered="Goodbye.", timeout=4.0)


async def survey(channel: FakeChannel) -> tuple[int | None, FakeJournal]:
    journal = FakeJournal()
    return await run_survey(SPEC, channel, journal), journal


async def test_score_five() -> None:
    channel = FakeChannel(["5"])
    score, journal = await survey(channel)
    assert score == 5
    assert channel.played == [(SPEC.say, True), (SPEC.thanks, False)]
    assert channel.collects == [Collect(1, 4.0, 4.0, None)]
    assert journal.entries == [
        (J.PROMPT, {"node": "survey", "text": SPEC.say}),
        (J.INPUT, {"node": "survey", "digits": "5"}),
        # Journaled before "thank you" plays: a hangup there still keeps the score.
        (J.SURVEY, {"score": 5, "answered": True}),
        (J.PROMPT, {"node": "survey", "text": SPEC.thanks}),
    ]


async def test_invalid_then_valid() -> None:
    channel = FakeChannel(["9", "3"])
    score, journal = await survey(channel)
    assert score == 3
    assert channel.texts == [SPEC.say, SPEC.reprompt, SPEC.thanks]
    assert journal.of(J.INPUT) == [{"node": "survey", "digits": "9"},
                                   {"node": "survey", "digits": "3"}]
    assert journal.of(J.SURVEY) == [{"score": 3, "answered": True}]


async def test_silence_twice_is_unanswered() -> None:
    channel = FakeChannel(["", ""])
    score, journal = await survey(channel)
    assert score is None
    assert channel.texts == [SPEC.say, SPEC.reprompt, SPEC.unanswered]
    assert journal.of(J.INPUT) == []
    assert journal.of(J.SURVEY) == [{"score": None, "answered": False}]


async def test_invalid_twice_is_unanswered() -> None:
    score, journal = await survey(FakeChannel(["0", "#"]))
    assert score is None
    assert journal.of(J.SURVEY) == [{"score": None, "answered": False}]


async def test_keys_pressed_before_the_survey_are_not_a_rating() -> None:
    channel = FakeChannel(["4"])
    channel.buffer = "1"  # pressed while talking to the agent
    score, _ = await survey(channel)
    assert score == 4


async def test_key_during_the_question_is_the_answer() -> None:
    channel = FakeChannel([], presses={SPEC.say: "2"})
    score, _ = await survey(channel)
    assert score == 2
    assert channel.texts == [SPEC.say, SPEC.thanks]


async def test_hangup_propagates() -> None:
    journal = FakeJournal()
    with pytest.raises(asyncio.CancelledError):
        await run_survey(SPEC, FakeChannel([HANGUP]), journal)
    assert J.SURVEY not in journal.types()
