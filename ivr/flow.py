"""The declarative IVR flow: what a caller hears, which keys lead where.

Pure values only. Flows are built by `ivr.validate` from a parsed YAML mapping (see
`ivr/flows/hotline.yaml` for the schema by example) and walked by `ivr.steps.run_flow`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar

from ivr.intents import DEFAULT_HIGH, DEFAULT_LOW, IntentSpec

DEFAULT_LANGUAGE = "en"
DEFAULT_VOICE = "en-us"
# The espeak-ng voices that speak each flow language; the first is the default.
LANGUAGE_VOICES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "en": ("en-us", "en", "en-gb"),
    "zh": ("cmn", "cmn-latn-pinyin"),
})
DEFAULT_CONFIRM = "You want {label}, right?"
DEFAULT_CHOOSE = "Is it about {a}, or about {b}? Press 1 for the first, 2 for the second."
DEFAULT_END_SILENCE = 0.7
DEFAULT_QUESTION_END_SILENCE = 1.0  # callers pause inside a question more than in a menu
DEFAULT_MAX_SPEECH = 15.0
# Gather defaults from the research consensus (research/ivr.md §2.4): 5 s for the first key,
# 3 s between keys, three failures (no-input and no-match share one counter) before an agent.
DEFAULT_TIMEOUT = 5.0
DEFAULT_INTER_DIGIT_TIMEOUT = 3.0
DEFAULT_MAX_ATTEMPTS = 3
MENU_KEYS = frozenset("0123456789*#")


class NodeKind(StrEnum):
    PROMPT = "prompt"
    MENU = "menu"
    QUEUE = "queue"
    HANGUP = "hangup"
    SELF_SERVICE = "self_service"


class AfterContained(StrEnum):
    """Where a caller whose question self-service answered goes."""

    HANGUP = "hangup"
    SURVEY = "survey"


@dataclass(frozen=True, slots=True)
class PromptNode:
    """Says something, then goes on to `next`."""

    kind: ClassVar[NodeKind] = NodeKind.PROMPT
    id: str
    say: str
    next: str


@dataclass(frozen=True, slots=True)
class MenuNode:
    """Says `say`, collects one key and follows `options`.

    After the n-th failure (no input or a key not in `options`, one shared counter) the
    escalation text at index min(n-1, len-1) of `no_input` / `no_match` plays; after
    `max_attempts` failures the caller goes to `on_failure`, and the text of that last failure
    is the hand-off line ("Let me connect you to an agent.").
    """

    kind: ClassVar[NodeKind] = NodeKind.MENU
    id: str
    say: str
    options: Mapping[str, str]
    on_failure: str
    no_input: tuple[str, ...] = ()
    no_match: tuple[str, ...] = ()
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    timeout: float = DEFAULT_TIMEOUT
    inter_digit_timeout: float = DEFAULT_INTER_DIGIT_TIMEOUT
    # Speech (used when the call can listen): spoken intents lead to nodes like keys do.
    # Confidence >= act_above acts, >= confirm_below asks `confirm`, lower is a failure.
    speech: bool = False
    intents: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    act_above: float = DEFAULT_HIGH
    confirm_below: float = DEFAULT_LOW
    confirm: str = DEFAULT_CONFIRM
    keypad_say: str | None = None  # the keypad-only menu offered before the last attempt
    end_silence: float = DEFAULT_END_SILENCE
    max_speech: float = DEFAULT_MAX_SPEECH

    def targets(self) -> tuple[str, ...]:
        return (*self.options.values(), *self.intents.values(), self.on_failure)


@dataclass(frozen=True, slots=True)
class QueueNode:
    """Hands the caller to routing: the flow ends here with `ToQueue(queue)`."""

    kind: ClassVar[NodeKind] = NodeKind.QUEUE
    id: str
    queue: str
    say: str | None = None


@dataclass(frozen=True, slots=True)
class HangupNode:
    """Ends the call after an optional goodbye."""

    kind: ClassVar[NodeKind] = NodeKind.HANGUP
    id: str
    say: str | None = None


@dataclass(frozen=True, slots=True)
class SelfServiceNode:
    """Asks for a question, answers it from the knowledge source, asks whether it helped.

    Helped: the call is contained (then `on_contained`). Not helped, no answer, or the source
    down or slow: the caller goes to `on_failure`, a queue node.
    """

    kind: ClassVar[NodeKind] = NodeKind.SELF_SERVICE
    id: str
    say: str
    one_moment: str
    helped: str
    on_failure: str
    on_contained: AfterContained = AfterContained.SURVEY
    language: str | None = None  # the question's language; None: the flow's
    choose: str = DEFAULT_CHOOSE
    timeout: float = DEFAULT_TIMEOUT
    end_silence: float = DEFAULT_QUESTION_END_SILENCE
    max_speech: float = DEFAULT_MAX_SPEECH


Node = PromptNode | MenuNode | QueueNode | HangupNode | SelfServiceNode


@dataclass(frozen=True, slots=True)
class IntentCatalog:
    """The intents a flow's menus may name (from its intents file), with spoken labels."""

    specs: Mapping[str, IntentSpec] = field(default_factory=lambda: MappingProxyType({}))
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def label(self, name: str) -> str:
        return self.labels.get(name) or name.replace("_", " ")


@dataclass(frozen=True, slots=True)
class SurveySpec:
    """The post-call survey: a 1-5 rating asked once, re-asked once."""

    say: str
    reprompt: str
    thanks: str
    unanswered: str
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True, slots=True)
class Flow:
    """A whole caller journey up to the queue or hangup.

    `fallback` names a queue node: where the caller goes when the flow itself misbehaves
    (the runner's loop guard). Without it the runner hangs up instead.
    """

    name: str
    start: str
    nodes: Mapping[str, Node]
    survey: SurveySpec
    language: str = DEFAULT_LANGUAGE
    voice: str = DEFAULT_VOICE
    fallback: str | None = None
    intents: IntentCatalog = field(default_factory=IntentCatalog)


def node_targets(node: Node) -> tuple[str, ...]:
    """The node ids this node can lead to."""
    if isinstance(node, PromptNode):
        return (node.next,)
    if isinstance(node, MenuNode):
        return node.targets()
    if isinstance(node, SelfServiceNode):
        return (node.on_failure,)
    return ()


def reachable(nodes: Mapping[str, Node], roots: Iterable[str]) -> set[str]:
    """Ids of the nodes a caller can reach from `roots`."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id not in nodes:
            continue
        seen.add(node_id)
        todo.extend(node_targets(nodes[node_id]))
    return seen


def prompt_cycles(nodes: Mapping[str, Node]) -> list[list[str]]:
    """Cycles made only of prompt nodes, which would talk forever without waiting for a key.

    Each cycle is listed once, starting and ending at its smallest id: ['a', 'b', 'a'].
    """
    cycles: list[list[str]] = []
    for first in sorted(nodes):
        chain: list[str] = []
        node_id = first
        while isinstance(node := nodes.get(node_id), PromptNode) and node_id not in chain:
            chain.append(node_id)
            node_id = node.next
        if node_id in chain:
            cycle = chain[chain.index(node_id):]
            entry = cycle.index(min(cycle))
            closed = [*cycle[entry:], *cycle[:entry], min(cycle)]
            if closed not in cycles:
                cycles.append(closed)
    return cycles


def flow_texts(flow: Flow) -> list[str]:
    """Every text the flow can speak (nodes, escalations, survey), de-duplicated, in order.

    Used to pre-render all prompts at start-up so no caller waits for TTS.
    """
    texts: list[str] = []
    for node in flow.nodes.values():
        if node.say:
            texts.append(node.say)
        if isinstance(node, MenuNode):
            texts.extend(node.no_input)
            texts.extend(node.no_match)
            if node.speech:
                texts.extend(t for t in (node.keypad_say,) if t)
                texts.extend(node.confirm.format(label=flow.intents.label(name))
                             for name in node.intents)
        if isinstance(node, SelfServiceNode):
            texts.extend((node.one_moment, node.helped))
    survey = flow.survey
    texts.extend((survey.say, survey.reprompt, survey.thanks, survey.unanswered))
    return list(dict.fromkeys(texts))
