"""The self-service funnel's decision: answer, ask the caller to choose between two, or give up.

Scores are in [0, 1] and comparable across queries (each source guarantees it; the embedded one
scores the share of the caller's informative words an item explains, see embedded.py).

Thresholds (defaults tuned on knowledge_client/data/faq_eval.tsv, checked on faq_holdout.tsv):

- `min_score` (0.5): below it the best item is too weak to play; the question is unanswered and
  the caller goes to an agent. Raising it sends more callers to agents and plays fewer wrong
  answers; every wrong answer costs a "did that help? no" turn plus the transfer anyway.
- `close_margin` (0.1): when the runner-up is within this of the best, the caller is asked
  "Is it about A or B?" instead of hearing a guess. One extra short turn is cheaper than a wrong
  answer; a wider margin asks more often.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from knowledge_client.model import Item, SearchResult

DEFAULT_MIN_SCORE = 0.5
DEFAULT_CLOSE_MARGIN = 0.1


class NoAnswerReason(StrEnum):
    NO_RESULTS = "no_results"  # the source found nothing at all
    LOW_SCORE = "low_score"  # something, but below min_score


@dataclass(frozen=True, slots=True)
class Answer:
    item: Item


@dataclass(frozen=True, slots=True)
class Disambiguate:
    """Ask the caller to choose; `a` is the better-scored item."""

    a: Item
    b: Item


@dataclass(frozen=True, slots=True)
class NoAnswer:
    reason: NoAnswerReason
    best: Item | None = None  # the weak best candidate, for the unanswered report


Decision = Answer | Disambiguate | NoAnswer


def check_thresholds(min_score: float, close_margin: float) -> None:
    """Raise ValueError naming the bad threshold."""
    if not 0.0 <= min_score <= 1.0:
        raise ValueError(f"min_score must be within [0, 1], got {min_score}")
    if not 0.0 <= close_margin < 1.0:
        raise ValueError(f"close_margin must be within [0, 1), got {close_margin}")


def choose(
    result: SearchResult,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    close_margin: float = DEFAULT_CLOSE_MARGIN,
) -> Decision:
    """Answer the best item, or Disambiguate when the two best are within `close_margin`, or
    NoAnswer when nothing reaches `min_score`. Ties keep the source's order."""
    check_thresholds(min_score, close_margin)
    ranked = sorted(result.items, key=lambda item: item.score, reverse=True)  # stable
    if not ranked:
        return NoAnswer(NoAnswerReason.NO_RESULTS)
    best = ranked[0]
    if best.score < min_score:
        return NoAnswer(NoAnswerReason.LOW_SCORE, best)
    if len(ranked) > 1:
        runner_up = ranked[1]
        if runner_up.item_id != best.item_id and best.score - runner_up.score < close_margin:
            return Disambiguate(best, runner_up)
    return Answer(best)
