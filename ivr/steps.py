"""Walk a flow over a `CallChannel`: prompts, menus with escalating reprompts, the hand-off.

`run_flow` returns where the caller goes next (`ToQueue`, `HangUp` or `Contained`); the call
engine acts on it. Hangup is cancellation and simply propagates out of the awaits here. With
a `SpeechChannel` and a `Listener`, speech menus listen and self-service nodes answer from
the knowledge source; without them the flow is the keypad flow it always was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ivr.flow import Flow, HangupNode, MenuNode, PromptNode, QueueNode, SelfServiceNode
from ivr.gather import say
from ivr.journey import JourneyType
from ivr.milestones import MenuChoiceMade, note
from ivr.outcomes import Contained, FlowOutcome, HangUp, ToQueue
from ivr.ports import CallChannel, Journal, Listener, SpeechChannel
from ivr.self_service import SelfServiceCall, run_self_service
from ivr.speech_menu import SpokenChoice, run_speech_menu
from knowledge_client.port import KnowledgeSource

__all__ = [
    "MAX_NODE_VISITS", "Contained", "FlowOutcome", "HangUp", "MenuChosen", "MenuFailed",
    "Reason", "ToQueue", "run_flow", "run_menu", "say",
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
    INTENT = "intent"  # the caller said what they want, leading here
    ZERO_OUT = "zero_out"  # "0" or "agent" at a speech menu
    NO_SELF_SERVICE = "no_self_service"  # a self-service node on a call that cannot do it
    # A self-service node's hand-off to its agent queue gives its own reason: not_helped,
    # no_answer, knowledge_unavailable, no_question, zero_out.


@dataclass(frozen=True, slots=True)
class MenuChosen:
    digit: str
    target: str


@dataclass(frozen=True, slots=True)
class MenuFailed:
    attempts: int


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
            note(journal, MenuChoiceMade(node=node.id, choice=digits, target=target))
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


@dataclass
class _Walk:
    """One walk through a flow; `speech` only when the call can listen."""

    flow: Flow
    channel: CallChannel
    journal: Journal
    speech: tuple[SpeechChannel, Listener] | None
    knowledge: KnowledgeSource | None
    call_id: str
    intent: str | None = None  # the last intent the caller chose (a hint for self-service)

    async def menu(self, node: MenuNode, type_ahead: bool) -> tuple[str, str]:
        """(next node id, reason)."""
        if node.speech and self.speech is not None:
            channel, listener = self.speech
            spoken = await run_speech_menu(node, channel, listener, self.journal,
                                           self.flow.intents, type_ahead=type_ahead)
            if isinstance(spoken, SpokenChoice):
                self.intent = spoken.intent or self.intent
                reason = Reason.ZERO_OUT if spoken.zero_out else \
                    Reason.INTENT if spoken.intent else Reason.MENU_CHOICE
                return spoken.target, reason
            return node.on_failure, Reason.MAX_ATTEMPTS
        result = await run_menu(node, self.channel, self.journal, type_ahead=type_ahead)
        if isinstance(result, MenuChosen):
            return result.target, Reason.MENU_CHOICE
        return node.on_failure, Reason.MAX_ATTEMPTS

    async def self_service(self, node: SelfServiceNode) -> Contained | tuple[str, str]:
        target = self.flow.nodes.get(node.on_failure)
        if self.speech is None or self.knowledge is None or not isinstance(target, QueueNode):
            self.journal.record(JourneyType.ERROR, node=node.id,
                                reason=str(Reason.NO_SELF_SERVICE))
            return node.on_failure, Reason.NO_SELF_SERVICE
        channel, listener = self.speech
        call = SelfServiceCall(queue_id=target.queue, call_id=self.call_id,
                               language=node.language or self.flow.language,
                               intent=self.intent)
        result = await run_self_service(node, channel, listener, self.journal, self.knowledge,
                                        call)
        return result if isinstance(result, Contained) else (result.node, result.reason)


async def run_flow(flow: Flow, channel: CallChannel, journal: Journal, *,
                   listener: Listener | None = None, knowledge: KnowledgeSource | None = None,
                   call_id: str = "", start: str | None = None,
                   at_node: Callable[[str], None] = lambda _node: None) -> FlowOutcome:
    """Play the flow from `flow.start` until a queue, hangup or contained self-service.

    Plain prompts are interruptible only when a menu follows: the key then carries into the
    menu as its answer. After MAX_NODE_VISITS nodes (a flow cycling without end) the caller
    goes to `flow.fallback` (a queue node: a human) or, without one, is hung up on, with
    reason 'loop_guard' and an ERROR journal entry. Speech menus listen only when `channel`
    is a `SpeechChannel` and a `listener` is given; self-service also needs `knowledge`
    (without it the caller goes straight to the node's agent queue).

    `start` resumes a call at another node than `flow.start` (a call adopted after a restart);
    `at_node` hears each node as the walk enters it (the call's checkpoint).
    """
    speech = (channel, listener) if listener is not None and _can_listen(channel) else None
    walk = _Walk(flow, channel, journal, speech, knowledge, call_id)  # type: ignore[arg-type]
    node_id, reason, type_ahead = start or flow.start, str(Reason.START), False
    for _ in range(MAX_NODE_VISITS):
        node = flow.nodes.get(node_id)
        if node is None:
            return await _give_up(flow, channel, journal, node_id, Reason.BROKEN_FLOW)
        at_node(node_id)
        if isinstance(node, PromptNode):
            before_menu = isinstance(flow.nodes.get(node.next), MenuNode)
            digit = await say(channel, journal, node.id, [node.say], interruptible=before_menu)
            node_id, type_ahead = node.next, digit is not None
        elif isinstance(node, MenuNode):
            node_id, reason = await walk.menu(node, type_ahead)
            type_ahead = False
        elif isinstance(node, SelfServiceNode):
            result = await walk.self_service(node)
            if isinstance(result, Contained):
                return result
            node_id, reason = result
        else:
            return await _finish(node, channel, journal, reason)
    return await _give_up(flow, channel, journal, node_id, Reason.LOOP_GUARD)


def _can_listen(channel: CallChannel) -> bool:
    return callable(getattr(channel, "listen", None)) and \
        callable(getattr(channel, "start_prompt", None))


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
