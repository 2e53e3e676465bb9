"""The self-service funnel: hear the question, answer it from the knowledge source, ask
whether it helped. Helped: `Contained`. Anything else: `ToQueue` to the node's agent queue.

The caller never hears dead air: `one_moment` plays while the source looks the question up.
The source is slow or down → `KnowledgeUnavailable` (or our own ceiling) → an agent. Reports
(feedback, unanswered questions) never hold up or drop the call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ivr.flow import IntentCatalog, SelfServiceNode
from ivr.gather import GatherReason, GatherSpec, gather, say
from ivr.intents import IntentSpec
from ivr.journey import JourneyType
from ivr.milestones import KnowledgeStep, note
from ivr.outcomes import Contained, ToQueue
from ivr.ports import Journal, Listener, SpeechChannel
from ivr.speech_menu import confirm_specs
from knowledge_client.model import Feedback, Item, Outcome, Query, SearchResult, Unanswered
from knowledge_client.port import KnowledgeSource, KnowledgeUnavailable
from knowledge_client.ranking import Answer, Disambiguate, choose

__all__ = ["LOOKUP_CEILING_S", "REPORT_CEILING_S", "SelfServiceCall", "run_self_service"]

# The source keeps its own deadline (800 ms by default); this only guards against one
# that does not, so a broken source still reaches the caller as "unavailable".
LOOKUP_CEILING_S = 3.0
REPORT_CEILING_S = 1.0  # the outbox answers at once; never keep a caller waiting on a report
QUESTION_ATTEMPTS = 2
_NOT_UNDERSTOOD = frozenset({GatherReason.NO_MATCH, GatherReason.LOW_CONFIDENCE})


@dataclass(frozen=True, slots=True)
class SelfServiceCall:
    """What the funnel knows about the call around it."""

    queue_id: str  # the queue of the node's on_failure
    language: str = "en"
    call_id: str = ""
    intent: str | None = None  # the menu's guess, a ranking hint for the source
    yes_no: tuple[IntentSpec, IntentSpec] = field(
        default_factory=lambda: confirm_specs(IntentCatalog()))
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    lookup_ceiling_s: float = LOOKUP_CEILING_S


@dataclass
class _Funnel:
    node: SelfServiceNode
    channel: SpeechChannel
    listener: Listener
    journal: Journal
    knowledge: KnowledgeSource
    call: SelfServiceCall
    transcript: list[str] = field(default_factory=list)

    def to_queue(self, reason: str) -> ToQueue:
        return ToQueue(self.call.queue_id, self.node.on_failure, reason)

    async def ask(self, spec: GatherSpec) -> tuple[GatherReason, str | None]:
        result = await gather(self.channel, self.listener, self.journal, spec)
        if result.text:
            self.transcript.append(result.text)
        return result.reason, result.intent

    def spec(self, prompts: tuple[str, ...], intents: tuple[IntentSpec, ...] = ()) -> GatherSpec:
        return GatherSpec(self.node.id, prompts, intents=intents,
                          first_input_timeout_s=self.node.timeout,
                          end_silence_s=self.node.end_silence, max_speech_s=self.node.max_speech)

    async def report(self, call: Awaitable[None]) -> None:
        try:
            async with asyncio.timeout(REPORT_CEILING_S):
                await call
        except (KnowledgeUnavailable, TimeoutError):
            self.journal.record(JourneyType.ERROR, node=self.node.id, reason="report_failed")


async def run_self_service(node: SelfServiceNode, channel: SpeechChannel, listener: Listener,
                           journal: Journal, knowledge: KnowledgeSource,
                           call: SelfServiceCall) -> Contained | ToQueue:
    funnel = _Funnel(node, channel, listener, journal, knowledge, call)
    reason, question = await _question(funnel)
    if question is None:
        return funnel.to_queue("zero_out" if reason is GatherReason.ZERO_OUT else "no_question")
    result = await _lookup(funnel, question)
    if result is None:
        note(journal, KnowledgeStep(node=node.id, item_id=None, question=question,
                                    state="unavailable"))
        await _unanswered(funnel, question)
        return funnel.to_queue("knowledge_unavailable")
    decision = choose(result)
    item = decision.item if isinstance(decision, Answer) else None
    if isinstance(decision, Disambiguate):
        item = await _disambiguate(funnel, decision)
    if item is None:
        best = getattr(decision, "best", None)
        note(journal, KnowledgeStep(node=node.id, item_id=best.item_id if best else None,
                                    question=question, state="no_answer"))
        await _unanswered(funnel, question)
        return funnel.to_queue("no_answer")
    return await _answer(funnel, item, question)


async def _question(funnel: _Funnel) -> tuple[GatherReason, str | None]:
    """The caller's question; None after "agent"/0 or after no question twice."""
    node = funnel.node
    reason = GatherReason.NO_INPUT
    for attempt in range(1, QUESTION_ATTEMPTS + 1):
        reason, _ = await funnel.ask(funnel.spec((node.say,)))
        if reason is GatherReason.ZERO_OUT:
            return reason, None
        if reason is GatherReason.SPEECH:
            return reason, funnel.transcript[-1]
        failure = JourneyType.NO_INPUT if reason is GatherReason.NO_INPUT else JourneyType.NO_MATCH
        funnel.journal.record(failure, node=node.id, attempt=attempt)
        funnel.channel.discard_digits()
    return reason, None


async def _lookup(funnel: _Funnel, question: str) -> SearchResult | None:
    """Search while `one_moment` plays; None when the source is down or too slow."""
    funnel.journal.record(JourneyType.PROMPT, node=funnel.node.id, text=funnel.node.one_moment)
    prompt = await funnel.channel.start_prompt(funnel.node.one_moment)
    query = Query(question, funnel.call.language, funnel.call.call_id, funnel.call.intent)
    try:
        async with asyncio.timeout(funnel.call.lookup_ceiling_s):
            return await funnel.knowledge.search(query)
    except (KnowledgeUnavailable, TimeoutError):
        return None
    finally:
        await prompt.wait_done()  # a short line: let it finish rather than cut it


async def _disambiguate(funnel: _Funnel, decision: Disambiguate) -> Item | None:
    a, b = decision.a, decision.b
    text = funnel.node.choose.format(a=a.question, b=b.question)
    options = (IntentSpec("first", (a.question, "the first", "the first one", "one"), ("1",)),
               IntentSpec("second", (b.question, "the second", "the second one", "two"),
                          ("2",)))
    reason, intent = await funnel.ask(funnel.spec((text,), options))
    if reason not in {GatherReason.DTMF, GatherReason.SPEECH}:
        return None
    return {"first": a, "second": b}.get(intent or "")


async def _answer(funnel: _Funnel, item: Item, question: str) -> Contained | ToQueue:
    node, journal, call = funnel.node, funnel.journal, funnel.call
    note(journal, KnowledgeStep(node=node.id, item_id=item.item_id, question=item.question,
                                state="played"))
    await say(funnel.channel, journal, node.id, [item.answer_spoken])
    reason, intent = await funnel.ask(funnel.spec((node.helped,), call.yes_no))
    if reason in _NOT_UNDERSTOOD:  # heard but not understood: ask once more; silence is a no
        journal.record(JourneyType.NO_MATCH, node=node.id, attempt=1)
        reason, intent = await funnel.ask(funnel.spec((node.helped,), call.yes_no))
    helped = reason in {GatherReason.DTMF, GatherReason.SPEECH} and intent == call.yes_no[0].name
    note(journal, KnowledgeStep(node=node.id, item_id=item.item_id, question=item.question,
                                state="helped" if helped else "not_helped"))
    outcome = Outcome.CONTAINED if helped else Outcome.TRANSFERRED
    await funnel.report(funnel.knowledge.feedback(
        Feedback(item.item_id, call.call_id, helped, outcome, question,
                 tuple(funnel.transcript), item.answer_spoken)))
    if not helped:
        return funnel.to_queue("not_helped")
    journal.record(JourneyType.SELF_SERVICE, node=node.id, item_id=item.item_id)
    return Contained(node.id, "helped", survey=node.on_contained == "survey")


async def _unanswered(funnel: _Funnel, question: str) -> None:
    call = funnel.call
    await funnel.report(funnel.knowledge.report_unanswered(Unanswered(
        call.call_id, question, tuple(funnel.transcript), call.intent, Outcome.TRANSFERRED,
        call.now())))
