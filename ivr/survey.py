"""The post-call survey: one 1-5 rating by key, asked at most twice."""

from __future__ import annotations

from ivr.flow import SurveySpec
from ivr.journey import JourneyType
from ivr.ports import CallChannel, Journal
from ivr.steps import say

SURVEY_NODE = "survey"  # the node name survey prompts and inputs are journaled under
VALID_SCORES = frozenset("12345")


async def run_survey(spec: SurveySpec, channel: CallChannel, journal: Journal) -> int | None:
    """Ask for a rating; return 1-5, or None when the caller gave none after one re-ask.

    The SURVEY entry is journaled before the closing text plays, so a caller hanging up during
    "thank you" still counts as answered.
    """
    # Keys pressed while talking to the agent are not a rating.
    channel.discard_digits()
    score = await _ask(spec.say, spec, channel, journal)
    if score is None:
        score = await _ask(spec.reprompt, spec, channel, journal)
    journal.record(JourneyType.SURVEY, score=score, answered=score is not None)
    closing = spec.thanks if score is not None else spec.unanswered
    await say(channel, journal, SURVEY_NODE, [closing], interruptible=False)
    return score


async def _ask(text: str, spec: SurveySpec, channel: CallChannel,
               journal: Journal) -> int | None:
    await say(channel, journal, SURVEY_NODE, [text])
    digits = await channel.collect_digits(max_digits=1, first_timeout=spec.timeout,
                                          inter_digit_timeout=spec.timeout, finish_key=None)
    if not digits:
        return None
    journal.record(JourneyType.INPUT, node=SURVEY_NODE, digits=digits)
    if digits in VALID_SCORES:
        return int(digits)
    channel.discard_digits()
    return None
