"""The declarative IVR flow: what a caller hears, which keys lead where.

Pure values only. Flows are built by `ivr.validate` from a parsed YAML mapping (see
`ivr/flows/hotline.yaml` for the schema by example) and walked by `ivr.steps.run_flow`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

DEFAULT_LANGUAGE = "en"
DEFAULT_VOICE = "en-us"
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

    def targets(self) -> tuple[str, ...]:
        return (*self.options.values(), self.on_failure)


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


Node = PromptNode | MenuNode | QueueNode | HangupNode


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


def node_targets(node: Node) -> tuple[str, ...]:
    """The node ids this node can lead to."""
    if isinstance(node, PromptNode):
        return (node.next,)
    if isinstance(node, MenuNode):
        return node.targets()
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
    survey = flow.survey
    texts.extend((survey.say, survey.reprompt, survey.thanks, survey.unanswered))
    return list(dict.fromkeys(texts))
