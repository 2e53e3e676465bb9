"""Caller questions as the editors see them, and how they are grouped. Pure: no I/O.

Grouping is by word overlap: each question becomes the set of its informative words (the FAQ's
normalizer when there is one: synonyms mapped, stopwords dropped), and a question joins the
first group whose first question shares at least `SIMILAR` of their words (Jaccard index);
otherwise it starts a group. Groups come largest first, then the most recently asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from knowledge_client.faq import words

SIMILAR = 0.5
# Words that carry no topic, for when no FAQ book (and its stopword list) is at hand.
_FILLER = frozenset((
    "a", "an", "and", "are", "can", "do", "does", "for", "from", "have", "how", "i", "im",
    "in", "is", "it", "me", "my", "of", "on", "or", "please", "so", "that", "the", "there",
    "this", "to", "want", "was", "what", "when", "where", "which", "why", "will", "with",
    "would", "you", "your",
))

Terms = Callable[[str], Sequence[str]]


class QuestionKind(StrEnum):
    UNANSWERED = "unanswered"  # no answer found, or the source was down
    NOT_HELPED = "not_helped"  # an answer was played and the caller said it did not help


class QuestionState(StrEnum):
    OPEN = "open"
    HANDLED = "handled"  # an editor looked and closed it without changing the FAQ
    VARIANT_ADDED = "variant_added"  # became a variant of an existing answer
    ANSWER_ADDED = "answer_added"  # became a new answer


@dataclass(frozen=True, slots=True)
class CallerQuestion:
    """One question and the call around it."""

    call_id: str
    kind: QuestionKind
    text: str  # what was looked up
    transcript: tuple[str, ...]  # everything the caller said in self-service
    intent: str | None  # the IVR's guess
    outcome: str  # knowledge_client.model.Outcome value: how self-service ended
    at: datetime
    offered_item_id: str | None = None  # the answer played (not_helped)
    offered_answer: str | None = None


@dataclass(frozen=True, slots=True)
class StoredQuestion:
    question_id: int
    question: CallerQuestion
    state: QuestionState = QuestionState.OPEN
    handled_by: str | None = None
    handled_at: datetime | None = None
    note: str | None = None
    faq_item_id: str | None = None  # the FAQ item it was added to


@dataclass(slots=True)
class QuestionGroup:
    terms: frozenset[str]
    questions: list[StoredQuestion] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.questions[0].question.text

    @property
    def latest_at(self) -> datetime:
        return max(q.question.at for q in self.questions)


def plain_terms(text: str) -> Sequence[str]:
    return [w for w in words(text) if w not in _FILLER]


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard index of two word sets; two empty sets (nothing informative) are alike."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def group_questions(questions: Iterable[StoredQuestion], terms: Terms = plain_terms,
                    threshold: float = SIMILAR) -> list[QuestionGroup]:  # fmt: skip
    """Questions grouped by similarity, oldest first within a group; largest groups first."""
    groups: list[QuestionGroup] = []
    for stored in sorted(questions, key=lambda q: (q.question.at, q.question_id)):
        mine = frozenset(terms(stored.question.text))
        for group in groups:
            if similarity(mine, group.terms) >= threshold:
                group.questions.append(stored)
                break
        else:
            groups.append(QuestionGroup(mine, [stored]))
    return sorted(groups, key=lambda g: (-len(g.questions), -g.latest_at.timestamp()))
