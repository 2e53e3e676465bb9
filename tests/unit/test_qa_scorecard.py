"""Scorecard semantics (recordings/qa/scorecard.py): the weighted score over the items not N/A,
auto-fail, forms whose weights do not add up, answers that do not fit the form, calibration."""

from __future__ import annotations

from datetime import UTC, datetime

from recordings.qa.scorecard import (
    Answer,
    Criterion,
    Form,
    answer_problems,
    calibration,
    form_problems,
    score,
)

CRITERIA = (
    Criterion("greeting", "Greets and names the company", 20),
    Criterion("identity", "Checks the caller's identity", 30, allow_na=True),
    Criterion("solution", "Solves the problem", 50, max_points=4),
    Criterion("pci", "Never repeats card numbers aloud", 0, auto_fail=True),
)
FORM = Form("calls", 1, "Calls", 70.0, CRITERIA, "qa", datetime(2026, 12, 2, tzinfo=UTC))


def answers(greeting: int | None = 1, identity: int | None = 1, solution: int | None = 4,
            pci: int | None = 1) -> list[Answer]:  # fmt: skip
    return [Answer("greeting", greeting), Answer("identity", identity),
            Answer("solution", solution), Answer("pci", pci)]


def test_the_score_is_the_weighted_share_of_the_items_not_na() -> None:
    assert score(FORM, answers()).score == 100.0
    # 20*1 + 50*3/4 = 57.5 of 70 (identity N/A leaves its 30 out of both sides)
    result = score(FORM, answers(identity=None, solution=3))
    assert (result.score, result.passed, result.auto_failed) == (82.14, True, False)
    result = score(FORM, answers(greeting=0, identity=0, solution=2))
    assert (result.score, result.passed) == (25.0, False)


def test_an_auto_fail_item_below_its_maximum_fails_the_whole_evaluation() -> None:
    result = score(FORM, answers(pci=0))
    assert (result.score, result.passed, result.auto_failed, result.failed_items) == (
        0.0, False, True, ("pci",))


def test_with_every_weighted_item_na_there_is_nothing_to_score() -> None:
    form = Form("f", 1, "F", 50, (Criterion("a", "A", 100, allow_na=True),), "qa", FORM.created_at)
    result = score(form, [Answer("a", None)])
    assert (result.score, result.passed) == (None, None)


def test_a_form_whose_weights_do_not_add_up_is_refused_naming_the_field() -> None:
    assert form_problems(CRITERIA) == []
    uneven = (*CRITERIA[:2], Criterion("solution", "S", 40))
    assert form_problems(uneven) == [
        ("body.criteria", "the weights add up to 90; they must add up to 100")]
    assert form_problems((Criterion("a", "A", 100), Criterion("a", "B", 0))) == [
        ("body.criteria[1].criterion_id", "'a' appears twice"),
        ("body.criteria[1].weight", "only an auto-fail item may weigh 0")]
    assert form_problems(()) == [("body.criteria", "a form needs at least one criterion")]


def test_answers_that_do_not_fit_the_form_are_named() -> None:
    bad = [Answer("greeting", None), Answer("solution", 5), Answer("tone", 1),
           Answer("solution", 1)]
    assert answer_problems(FORM, bad) == [
        ("body.answers[0].points", "'greeting' may not be N/A"),
        ("body.answers[1].points", "from 0 to 4"),
        ("body.answers[2].criterion_id", "form calls v1 has no 'tone'"),
        ("body.answers[3].criterion_id", "'solution' answered twice"),
        ("body.answers", "not answered: identity, pci"),
    ]


def test_calibration_reports_the_spread_between_reviewers() -> None:
    report = calibration(FORM, {"ann": answers(), "bo": answers(solution=3),
                                "cy": answers(identity=None, solution=3)})
    spread = report.score  # ann 100, bo 20 + 30 + 37.5, cy (20 + 37.5) / 70
    assert (spread.count, spread.low, spread.high, spread.spread, spread.mean) == (
        3, 82.14, 100.0, 17.86, 89.88)
    assert (report.within_target, report.auto_fail_agreed) == (False, True)
    assert report.reviewers["cy"].score == 82.14
    identity, solution = report.criteria["identity"], report.criteria["solution"]
    assert (identity.count, identity.spread, solution.spread) == (2, 0.0, 25.0)
