"""One gather for keypad and speech together: the prompt plays while keys and speech race.

The knobs are the ones every platform converges on (research/ivr.md §2.4). The first input
wins: a key stops the prompt and cancels listening; speech (the channel stops the prompt when
it starts) cancels key collection. `GatherResult.reason` says why it ended. Hangup is
cancellation: it propagates out of `gather`, whose child tasks are cancelled on the way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ivr.intents import (
    AGENT,
    DEFAULT_HIGH,
    DEFAULT_LOW,
    Action,
    IntentSpec,
    classify,
    decide_action,
    intent_for_key,
    tokens,
    with_agent,
)
from ivr.journey import JourneyType
from ivr.milestones import IntentRecognized, SpeechHeard, note
from ivr.ports import (
    CallChannel,
    HeardAudio,
    HeardKind,
    Journal,
    Listener,
    ListenParams,
    PromptHandle,
    SpeechChannel,
)
from kernel.aio import cancel_and_wait, first_of

__all__ = ["ZERO_OUT_KEY", "GatherReason", "GatherResult", "GatherSpec", "gather", "say"]

ZERO_OUT_KEY = "0"
# Keys pressed during a prompt are awaited at most this long; the prompt ending stops it first.
PROMPT_CEILING_S = 120.0
_HUMAN = frozenset({"agent", "operator", "representative", "human", "person", "someone",
                    "somebody"})


class GatherReason(StrEnum):
    DTMF = "dtmf"
    SPEECH = "speech"
    NO_INPUT = "no_input"
    NO_MATCH = "no_match"  # speech no intent fits, or an empty transcript
    LOW_CONFIDENCE = "low_confidence"  # an intent, below `low`
    ZERO_OUT = "zero_out"  # "0" or the agent intent: a human, whatever the menu
    HANGUP = "hangup"  # never returned: hangup cancels the gather (named for journals/docs)


@dataclass(frozen=True, slots=True)
class GatherSpec:
    """What to say and how to listen. `intents` empty with `speech` on is free-form (a
    question): the transcript is the result, no grammar, no classification."""

    node: str
    prompts: tuple[str, ...]
    speech: bool = True
    intents: tuple[IntentSpec, ...] = ()
    first_input_timeout_s: float = 5.0
    inter_digit_timeout_s: float = 3.0
    finish_key: str | None = None
    max_digits: int = 1
    end_silence_s: float = 0.7
    max_speech_s: float = 15.0
    barge_in: bool = True
    high: float = DEFAULT_HIGH  # intent confidence that acts (below: confirm)
    low: float = DEFAULT_LOW  # below: low_confidence
    zero_out: bool = True

    def listen_params(self) -> ListenParams:
        return ListenParams(self.first_input_timeout_s, self.end_silence_s, self.max_speech_s,
                            self.barge_in)

    def phrases(self) -> tuple[str, ...] | None:
        """The recognizer's grammar: every example of the intents heard here (agent too)."""
        if not self.intents:
            return None
        return tuple(dict.fromkeys(e for spec in self._heard() for e in spec.examples))

    def _heard(self) -> tuple[IntentSpec, ...]:
        return with_agent(self.intents) if self.zero_out else self.intents


@dataclass(frozen=True, slots=True)
class GatherResult:
    reason: GatherReason
    digits: str = ""
    text: str = ""
    speech_confidence: float = 0.0
    intent: str | None = None
    confidence: float = 0.0  # the intent's
    action: Action | None = None  # act or confirm, for a spoken intent


async def say(channel: CallChannel, journal: Journal, node: str, texts: Sequence[str], *,
              interruptible: bool = True) -> str | None:
    """Play texts in order, journaling each; stop at the first key (left for collect_digits)."""
    for text in texts:
        # Journaled before playing so a hangup mid-prompt still shows what the caller heard.
        journal.record(JourneyType.PROMPT, node=node, text=text)
        digit = await channel.play(text, interruptible=interruptible)
        if digit is not None:
            return digit
    return None


async def gather(channel: SpeechChannel, listener: Listener | None, journal: Journal,
                 spec: GatherSpec) -> GatherResult:
    """Say the prompts and take the caller's first answer, by key or (with a listener) voice."""
    *first, last = spec.prompts or ("",)
    typed = await say(channel, journal, spec.node, first) if first else None
    if not (spec.speech and listener is not None):
        if last and typed is None:
            await say(channel, journal, spec.node, [last])
        return _keyed(journal, spec, await _collect(channel, spec, spec.first_input_timeout_s))
    prompt: PromptHandle | None = None
    async with channel.hearing():
        if last and typed is None:
            journal.record(JourneyType.PROMPT, node=spec.node, text=last)
            prompt = await channel.start_prompt(last)
        try:
            won = await _race(channel, spec, prompt)
        finally:
            if prompt is not None and not prompt.done():
                await prompt.stop()
    if isinstance(won, str):
        return _keyed(journal, spec, won)
    if won.kind is HeardKind.NO_INPUT:
        return GatherResult(GatherReason.NO_INPUT)
    recognition = await listener.transcribe(won, spec.phrases())
    note(journal, SpeechHeard(node=spec.node, text=recognition.text,
                              confidence=round(recognition.confidence, 3),
                              barged_in=won.barged_in,
                              seconds=round(len(won.pcm) / (2 * won.sample_rate), 2)))
    if not spec.intents:
        if spec.zero_out and _asks_for_agent(recognition.text):
            return GatherResult(GatherReason.ZERO_OUT, text=recognition.text,
                                speech_confidence=recognition.confidence, intent=AGENT.name)
        reason = GatherReason.SPEECH if recognition.text.strip() else GatherReason.NO_MATCH
        return GatherResult(reason, text=recognition.text,
                            speech_confidence=recognition.confidence)
    score = classify(recognition, spec._heard())
    action = decide_action(score, high=spec.high, low=spec.low)
    note(journal, IntentRecognized(node=spec.node, intent=score.intent,
                                   confidence=score.confidence, action=str(action)))
    if score.intent is None:
        reason = GatherReason.NO_MATCH
    elif action is Action.REPROMPT:
        reason = GatherReason.LOW_CONFIDENCE
    elif score.intent == AGENT.name and spec.zero_out:
        reason = GatherReason.ZERO_OUT
    else:
        reason = GatherReason.SPEECH
    return GatherResult(reason, text=recognition.text, speech_confidence=recognition.confidence,
                        intent=score.intent, confidence=score.confidence, action=action)


def _asks_for_agent(text: str) -> bool:
    """A short free-form answer naming a human ("agent please", "I want to talk to an
    agent") — a question naming one ("how do I reach my agent about a claim") is longer."""
    said = tokens(text)
    return 0 < len(said) <= 6 and not _HUMAN.isdisjoint(said)


def _keyed(journal: Journal, spec: GatherSpec, digits: str) -> GatherResult:
    if not digits:
        return GatherResult(GatherReason.NO_INPUT)
    journal.record(JourneyType.INPUT, node=spec.node, digits=digits)
    if spec.zero_out and digits == ZERO_OUT_KEY:
        return GatherResult(GatherReason.ZERO_OUT, digits=digits, intent=AGENT.name)
    return GatherResult(GatherReason.DTMF, digits=digits,
                        intent=intent_for_key(digits, spec.intents))


async def _race(channel: SpeechChannel, spec: GatherSpec,
                prompt: PromptHandle | None) -> str | HeardAudio:
    """Keys and speech at once; the first real input wins. Silence on the keypad is no
    answer while the caller may still be speaking: then the listener decides."""
    heard = asyncio.ensure_future(channel.listen(prompt=prompt, params=spec.listen_params()))
    keys = asyncio.ensure_future(_keys(channel, spec, prompt))
    try:
        waiting: set[asyncio.Future[str | HeardAudio]] = {heard, keys}  # type: ignore[arg-type]
        while True:
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if keys in done and keys.result():
                return keys.result()
            if heard in done:
                return heard.result()
            waiting = {heard}  # type: ignore[arg-type]
    finally:
        await cancel_and_wait(heard, keys)


async def _keys(channel: CallChannel, spec: GatherSpec, prompt: PromptHandle | None) -> str:
    if prompt is not None and not prompt.done():
        if not spec.barge_in:
            await prompt.wait_done()
        elif first := await _key_during(channel, prompt):
            await prompt.stop()
            if first == spec.finish_key:
                return ""
            if spec.max_digits == 1 or (spec.zero_out and first == ZERO_OUT_KEY):
                return first
            return first + await _collect(channel, spec, spec.inter_digit_timeout_s, taken=1)
    return await _collect(channel, spec, spec.first_input_timeout_s)


async def _key_during(channel: CallChannel, prompt: PromptHandle) -> str:
    """The first key pressed before the prompt ends, or '' when it ended first."""
    index, first = await first_of(
        channel.collect_digits(max_digits=1, first_timeout=PROMPT_CEILING_S,
                               inter_digit_timeout=PROMPT_CEILING_S, finish_key=None),
        prompt.wait_done())
    return str(first.result()) if index == 0 else ""


async def _collect(channel: CallChannel, spec: GatherSpec, first_timeout: float, *,
                   taken: int = 0) -> str:
    return await channel.collect_digits(max_digits=spec.max_digits - taken,
                                        first_timeout=first_timeout,
                                        inter_digit_timeout=spec.inter_digit_timeout_s,
                                        finish_key=spec.finish_key)


