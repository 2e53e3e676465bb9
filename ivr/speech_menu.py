"""A menu the caller can answer by voice or key: intents, confirmation, one attempt counter.

No input, no match, low confidence and a "no" at the confirmation share one counter. After
failure n the escalation text n plays (`no_input` for silence, `no_match` otherwise) and the
menu is asked again (a no-input text is itself the re-ask); before the last attempt the
keypad-only menu (`keypad_say`) follows the escalation instead; after `max_attempts` failures
the last escalation text is the hand-off line and the caller goes to `on_failure`. "0" or the
`agent` intent always reaches a human.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ivr.flow import IntentCatalog, MenuNode
from ivr.gather import GatherReason, GatherResult, GatherSpec, gather, say
from ivr.intents import NO, YES, Action, IntentSpec
from ivr.journey import JourneyType
from ivr.milestones import MenuChoiceMade, note
from ivr.ports import Journal, Listener, SpeechChannel

__all__ = ["MenuFailed", "SpokenChoice", "confirm_specs", "menu_spec", "run_speech_menu"]


@dataclass(frozen=True, slots=True)
class SpokenChoice:
    """Where the caller chose to go: by `digits`, by `intent`, or zero-out (both may be set)."""

    target: str
    digits: str = ""
    intent: str | None = None
    zero_out: bool = False


@dataclass(frozen=True, slots=True)
class MenuFailed:
    attempts: int


def confirm_specs(catalog: IntentCatalog) -> tuple[IntentSpec, IntentSpec]:
    """yes/no as the intents file phrases them, on keys 1 and 2."""
    yes, no = (catalog.specs.get(spec.name, spec) for spec in (YES, NO))
    return (IntentSpec(YES.name, yes.examples, ("1",)), IntentSpec(NO.name, no.examples, ("2",)))


async def run_speech_menu(node: MenuNode, channel: SpeechChannel, listener: Listener,
                          journal: Journal, catalog: IntentCatalog, *,
                          type_ahead: bool = False) -> SpokenChoice | MenuFailed:
    """Ask until a choice or `max_attempts` failures; see the module docstring."""
    prompts: list[str] = [] if type_ahead else [node.say]
    failures = 0
    while True:
        result = await gather(channel, listener, journal, menu_spec(node, prompts, catalog))
        choice = _choice(node, result)
        reason = str(result.reason)
        if choice is not None and result.action is Action.CONFIRM and not choice.zero_out:
            choice = await _confirm(node, choice, channel, listener, journal, catalog)
            reason = "not_confirmed"
        if choice is not None:
            note(journal, MenuChoiceMade(node=node.id, choice=choice.digits or choice.intent,
                                        target=choice.target))
            return choice
        failures += 1
        _journal_failure(journal, node, result, failures, reason)
        if result.digits:
            channel.discard_digits()  # keys after the wrong one do not answer the reprompt
        texts = node.no_input if result.reason is GatherReason.NO_INPUT else node.no_match
        escalation = _escalation(texts, failures)
        if failures >= node.max_attempts:
            await say(channel, journal, node.id, escalation, interruptible=False)
            return MenuFailed(failures)
        prompts = _reask(node, failures, escalation, silent=result.reason is GatherReason.NO_INPUT)


def menu_spec(node: MenuNode, prompts: Sequence[str], catalog: IntentCatalog) -> GatherSpec:
    """How a speech menu gathers: its intents (from the catalog), timeouts and thresholds."""
    intents = tuple(catalog.specs[name] for name in node.intents if name in catalog.specs)
    return GatherSpec(node.id, tuple(prompts), intents=intents,
                      first_input_timeout_s=node.timeout,
                      inter_digit_timeout_s=node.inter_digit_timeout,
                      end_silence_s=node.end_silence, max_speech_s=node.max_speech,
                      high=node.act_above, low=node.confirm_below)


def _choice(node: MenuNode, result: GatherResult) -> SpokenChoice | None:
    if result.reason is GatherReason.ZERO_OUT:
        human = (node.options.get(result.digits) if result.digits else None) \
            or node.intents.get(result.intent or "") or node.on_failure
        return SpokenChoice(human, result.digits, result.intent, zero_out=True)
    if result.reason is GatherReason.DTMF and result.digits in node.options:
        return SpokenChoice(node.options[result.digits], result.digits)
    target = node.intents.get(result.intent or "")
    if result.reason is GatherReason.SPEECH and target is not None:
        return SpokenChoice(target, intent=result.intent)
    return None


async def _confirm(node: MenuNode, choice: SpokenChoice, channel: SpeechChannel,
                   listener: Listener, journal: Journal,
                   catalog: IntentCatalog) -> SpokenChoice | None:
    """"You want X, right?" — yes keeps the choice, "agent"/0 goes to a human, else None."""
    assert choice.intent is not None
    text = node.confirm.format(label=catalog.label(choice.intent))
    spec = GatherSpec(node.id, (text,), intents=confirm_specs(catalog),
                      first_input_timeout_s=node.timeout, end_silence_s=node.end_silence,
                      max_speech_s=node.max_speech, high=node.confirm_below,
                      low=node.confirm_below)
    result = await gather(channel, listener, journal, spec)
    answer = result.intent if result.reason in {GatherReason.DTMF, GatherReason.SPEECH} else None
    journal.record(JourneyType.CONFIRM, node=node.id, intent=choice.intent,
                   answer=answer or str(result.reason))
    if result.reason is GatherReason.ZERO_OUT:
        return _choice(node, result)
    return choice if answer == YES.name else None


def _journal_failure(journal: Journal, node: MenuNode, result: GatherResult, attempt: int,
                     reason: str) -> None:
    if result.reason is GatherReason.NO_INPUT:
        journal.record(JourneyType.NO_INPUT, node=node.id, attempt=attempt)
    elif result.digits:
        journal.record(JourneyType.NO_MATCH, node=node.id, digits=result.digits,
                       attempt=attempt)
    else:
        journal.record(JourneyType.NO_MATCH, node=node.id, attempt=attempt,
                       reason=reason, intent=result.intent)


def _reask(node: MenuNode, failures: int, escalation: tuple[str, ...], *,
           silent: bool) -> list[str]:
    """What to say before the next attempt: the escalation, then the keypad menu before the
    last attempt. A no-input text re-asks in full (as at keypad menus), so nothing repeats."""
    if failures == node.max_attempts - 1 and node.keypad_say:
        return [*escalation, node.keypad_say]
    return [*escalation] if silent and escalation else [*escalation, node.say]


def _escalation(texts: Sequence[str], failures: int) -> tuple[str, ...]:
    """The text for the n-th failure; the last one repeats when the list is shorter."""
    return (texts[min(failures, len(texts)) - 1],) if texts else ()
