"""Walk a flow over a `CallChannel`: prompts, menus with escalating reprompts, the hand-off.

`run_flow` returns where the caller goes next (`ToQueue` or `HangUp`); the call engine acts on
it. Hangup is cancellation and simply propagates out of the awaits here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ivr.flow import Flow, HangupNode, MenuNode, PromptNode, QueueNode
from ivr.journey import JourneyType
from ivr.ports import CallChannel, Journal

__all__ = [
    "MAX_NODE_VISITS", "FlowOutcome", "HangUp", "MenuChosen", "MenuFailed", "Reason", "ToQueue",
    "run_flow", "run_menu", "say",
]

# Enough for any caller navigating menus by hand; only a flow that cycles gets this far.
MAX_NODE_VISITS = 50


class Reason(StrEnum):
    """Why the flow ended at its last node: the most recent decisive event."""

    START = "start"  # reached from the start without a menu decision
    MENU_CHOICE = "menu_choice"  # the caller chose an option leading here
    MAX_ATTEMPTS = "max_attempts"  # a menu's on_failure after too many no-input/no-match
    LOOP_GUARD = "loop_guard"  # MAX_NODE_VISITS exceeded
    BROKEN_FLOW = "broken_flow"  # a target node does not exist (flow built without validation)


@dataclass(frozen=True, slots=True)
class ToQueue:
    queue_id: str
    node: str
    reason: str


@dataclass(frozen=True, slots=True)
class HangUp:
    node: str
    reason: str


FlowOutcome = ToQueue | HangUp


@dataclass(frozen=True, slots=True)
class MenuChosen:
    digit: str
    target: str


@dataclass(frozen=True, slots=True)
class MenuFailed:
    attempts: int


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


async def run_menu(node: MenuNode, channel: CallChannel, journal: Journal, *,
                   type_ahead: bool = False) -> MenuChosen | MenuFailed:
    """Ask until a valid key or `max_attempts` failures (no input and no match share a count).

    With `type_ahead` the caller already pressed a key during the previous prompt, so the menu
    text is skipped and that key is judged at once.
    """
    texts: list[str] = [] if type_ahead else [node.say]
    failures = 0
    while True:
        await say(channel, journal, node.id, texts)
        digits = await channel.collect_digits(max_digits=1, first_timeout=node.timeout,
                                              inter_digit_timeout=node.inter_digit_timeout,
                                              finish_key=None)
        if digits:
            journal.record(JourneyType.INPUT, node=node.id, digits=digits)
        target = node.options.get(digits) if digits else None
        if target is not None:
            journal.record(JourneyType.MENU, node=node.id, choice=digits, target=target)
            return MenuChosen(digits, target)
        failures += 1
        last = failures >= node.max_attempts
        if digits:
            journal.record(JourneyType.NO_MATCH, node=node.id, digits=digits, attempt=failures)
            # Keys pressed after the wrong one are not an answer to the reprompt.
            channel.discard_digits()
            texts = [*_escalation(node.no_match, failures), *([] if last else [node.say])]
        else:
            journal.record(JourneyType.NO_INPUT, node=node.id, attempt=failures)
            # The no-input text re-asks in full; without one, the menu itself is the re-ask,
            # which is pointless right before the hand-off.
            texts = list(_escalation(node.no_input, failures)) or ([] if last else [node.say])
        if last:
            await say(channel, journal, node.id, texts, interruptible=False)
            return MenuFailed(failures)


def _escalation(texts: Sequence[str], failures: int) -> tuple[str, ...]:
    """The text for the n-th failure; the last one repeats when the list is shorter."""
    return (texts[min(failures, len(texts)) - 1],) if texts else ()


async def run_flow(flow: Flow, channel: CallChannel, journal: Journal) -> FlowOutcome:
    """Play the flow from `flow.start` until a queue or hangup node.

    Plain prompts are interruptible only when a menu follows: the key then carries into the
    menu as its answer. After MAX_NODE_VISITS nodes (a flow cycling without end) the caller
    goes to `flow.fallback` (a queue node: a human) or, without one, is hung up on, with
    reason 'loop_guard' and an ERROR journal entry.
    """
    node_id, reason, type_ahead = flow.start, Reason.START, False
    for _ in range(MAX_NODE_VISITS):
        node = flow.nodes.get(node_id)
        if node is None:
            return await _give_up(flow, channel, journal, node_id, Reason.BROKEN_FLOW)
        if isinstance(node, PromptNode):
            before_menu = isinstance(flow.nodes.get(node.next), MenuNode)
            digit = await say(channel, journal, node.id, [node.say], interruptible=before_menu)
            node_id, type_ahead = node.next, digit is not None
        elif isinstance(node, MenuNode):
            result = await run_menu(node, channel, journal, type_ahead=type_ahead)
            type_ahead = False
            if isinstance(result, MenuChosen):
                node_id, reason = result.target, Reason.MENU_CHOICE
            else:
                node_id, reason = node.on_failure, Reason.MAX_ATTEMPTS
        else:
            return await _finish(node, channel, journal, reason)
    return await _give_up(flow, channel, journal, node_id, Reason.LOOP_GUARD)


async def _finish(node: QueueNode | HangupNode, channel: CallChannel, journal: Journal,
                  reason: str) -> FlowOutcome:
    if node.say:
        await say(channel, journal, node.id, [node.say], interruptible=False)
    if isinstance(node, QueueNode):
        return ToQueue(queue_id=node.queue, node=node.id, reason=reason)
    return HangUp(node=node.id, reason=reason)


async def _give_up(flow: Flow, channel: CallChannel, journal: Journal, node_id: str,
                   reason: Reason) -> FlowOutcome:
    """The flow itself failed: send the caller to a human if the flow names one."""
    journal.record(JourneyType.ERROR, node=node_id, reason=str(reason))
    fallback = flow.nodes.get(flow.fallback) if flow.fallback else None
    if isinstance(fallback, QueueNode):
        return await _finish(fallback, channel, journal, reason)
    return HangUp(node=node_id, reason=reason)
