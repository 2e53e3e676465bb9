"""Knowledge-service values: what the call flow asks, what it gets back, what it reports.

Pure and frozen. The wire format of the HTTP contract (docs/knowledge-contract.md) is mapped onto
these in `http_client.py`; nothing here knows about JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType


class Outcome(StrEnum):
    """How the self-service attempt ended, as reported with feedback and unanswered questions."""

    CONTAINED = "contained"  # the caller said the answer helped; the call ended in self-service
    TRANSFERRED = "transferred"  # the caller went to an agent
    ABANDONED = "abandoned"  # the caller hung up before either


def _frozen(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class Query:
    """A caller's question: the recognised text and what the flow knows around it.

    `intent` is the IVR's guess (a ranking hint, never a filter: the guess can be wrong).
    `context` carries small non-personal facts the service may use (e.g. {"product": "motor"}).
    """

    text: str
    language: str = "en"
    call_id: str = ""
    intent: str | None = None
    context: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "context", _frozen(self.context))


@dataclass(frozen=True, slots=True)
class Item:
    """One atomic question/answer. `answer_spoken` is short and written to be heard;
    `answer_text` is the long form for the agent's screen. `score` is in [0, 1], higher is better,
    comparable across queries (see ranking.py for what the thresholds mean)."""

    item_id: str
    question: str
    answer_spoken: str
    answer_text: str
    score: float
    source: str


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Items best first, and how long the source took (its own figure, for latency budgets)."""

    items: tuple[Item, ...]
    took_ms: float = 0.0

    @property
    def best(self) -> Item | None:
        return self.items[0] if self.items else None


@dataclass(frozen=True, slots=True)
class Feedback:
    """Whether a played answer helped (`helpful=None`: the caller did not say)."""

    item_id: str
    call_id: str
    helpful: bool | None
    outcome: Outcome
    # For the knowledge editors (not sent over the HTTP contract): what the caller asked,
    # everything they said in self-service, and the answer they heard.
    question: str | None = None
    transcript: tuple[str, ...] = ()
    answer_spoken: str | None = None


@dataclass(frozen=True, slots=True)
class Unanswered:
    """A question self-service could not answer, for the knowledge editors.

    `text` is what was searched, `transcript` everything the caller said in self-service.
    """

    call_id: str
    text: str
    transcript: tuple[str, ...]
    intent: str | None
    outcome: Outcome
    at: datetime
