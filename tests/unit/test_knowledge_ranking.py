"""The funnel decision (knowledge_client.ranking.choose): answer, ask to choose, or give up."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge_client.model import Item, SearchResult
from knowledge_client.ranking import (
    Answer,
    Disambiguate,
    NoAnswer,
    NoAnswerReason,
    choose,
)


def item(item_id: str, score: float) -> Item:
    return Item(item_id, f"question {item_id}", f"spoken {item_id}", f"text {item_id}", score, "t")


def result(*items: Item) -> SearchResult:
    return SearchResult(tuple(items), took_ms=1.0)


def test_nothing_found_is_no_answer() -> None:
    assert choose(result()) == NoAnswer(NoAnswerReason.NO_RESULTS)


def test_best_below_min_score_is_no_answer_and_keeps_the_weak_candidate() -> None:
    weak = item("a", 0.4)
    decision = choose(result(weak, item("b", 0.1)), min_score=0.5, close_margin=0.1)
    assert decision == NoAnswer(NoAnswerReason.LOW_SCORE, weak)


def test_clear_winner_is_answered() -> None:
    best = item("a", 0.9)
    assert choose(result(best, item("b", 0.5)), min_score=0.5, close_margin=0.1) == Answer(best)


def test_single_item_above_min_score_is_answered() -> None:
    only = item("a", 0.5)
    assert choose(result(only), min_score=0.5, close_margin=0.1) == Answer(only)


def test_two_close_best_ask_the_caller_to_choose_best_first() -> None:
    a, b = item("a", 0.81), item("b", 0.75)
    assert choose(result(a, b, item("c", 0.74)), min_score=0.5, close_margin=0.1) == (
        Disambiguate(a, b)
    )


def test_a_gap_of_exactly_the_margin_is_not_close() -> None:
    a, b = item("a", 0.75), item("b", 0.5)
    assert choose(result(a, b), min_score=0.5, close_margin=0.25) == Answer(a)


def test_items_out_of_order_are_ranked_by_score() -> None:
    low, high = item("low", 0.6), item("high", 0.95)
    assert choose(result(low, high), min_score=0.5, close_margin=0.1) == Answer(high)


def test_ties_keep_the_source_order() -> None:
    first, second = item("first", 0.8), item("second", 0.8)
    assert choose(result(first, second), min_score=0.5, close_margin=0.1) == (
        Disambiguate(first, second)
    )


def test_zero_margin_never_asks() -> None:
    a, b = item("a", 0.8), item("b", 0.8)
    assert choose(result(a, b), min_score=0.5, close_margin=0.0) == Answer(a)


@pytest.mark.parametrize(("min_score", "close_margin"), [(-0.1, 0.1), (1.1, 0.1), (0.5, -0.1),
                                                         (0.5, 1.0)])
def test_thresholds_out_of_range_are_refused(min_score: float, close_margin: float) -> None:
    with pytest.raises(ValueError, match="must be within"):
        choose(result(item("a", 0.9)), min_score=min_score, close_margin=close_margin)


scores = st.lists(st.floats(min_value=0.0, max_value=1.0), max_size=6)


@given(scores=scores, min_score=st.floats(0.0, 1.0), close_margin=st.floats(0.0, 0.99))
def test_decisions_keep_their_promises(scores: list[float], min_score: float,
                                       close_margin: float) -> None:
    items = [item(str(i), s) for i, s in enumerate(scores)]
    decision = choose(result(*items), min_score=min_score, close_margin=close_margin)
    top = max(scores, default=None)
    if isinstance(decision, NoAnswer):
        assert top is None or top < min_score
    elif isinstance(decision, Answer):
        assert decision.item.score == top and top >= min_score
        rest = sorted(scores, reverse=True)[1:2]
        assert not rest or top - rest[0] >= close_margin
    else:
        assert decision.a.score == top and decision.a.score >= min_score
        assert decision.a.score - decision.b.score < close_margin
