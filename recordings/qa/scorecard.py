"""Scorecards: versioned forms of weighted criteria, N/A and auto-fail items, the score of an
evaluation, and the spread between reviewers (calibration). Pure: no I/O.

A form's weights add up to 100. Each criterion is scored 0..max_points (1: met or not), or N/A
where the form allows it. The score is the weighted share of what could be earned, leaving
N/A items out of both sides:

    score = 100 * sum(w_i * points_i / max_i) / sum(w_i)     over the items not N/A

An auto-fail item scored below its maximum fails the whole evaluation: score 0, not passed,
whatever the rest earned. With every weighted item N/A there is nothing to score: the score is
null (passed too, unless an auto-fail item failed). Passed means score >= the form's passing
score. Forms are never changed: a change is a new version, and an evaluation keeps the version
it was made with, so editing a form never changes a past score.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

WEIGHT_TOTAL = 100.0
WEIGHT_TOLERANCE = 0.01
CALIBRATION_TARGET = 5.0  # points of 100 between reviewers (research/qa.md §7)

FieldProblem = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Criterion:
    criterion_id: str
    text: str
    weight: float
    max_points: int = 1
    allow_na: bool = False
    auto_fail: bool = False


@dataclass(frozen=True, slots=True)
class Form:
    form_id: str
    version: int
    name: str
    passing_score: float
    criteria: tuple[Criterion, ...]
    created_by: str
    created_at: datetime

    def criterion(self, criterion_id: str) -> Criterion | None:
        return next((c for c in self.criteria if c.criterion_id == criterion_id), None)


@dataclass(frozen=True, slots=True)
class Answer:
    criterion_id: str
    points: int | None  # None: N/A
    note: str = ""


@dataclass(frozen=True, slots=True)
class Result:
    score: float | None
    passed: bool | None
    auto_failed: bool
    failed_items: tuple[str, ...]  # auto-fail items that failed


def form_problems(criteria: Sequence[Criterion],
                  where: str = "body.criteria") -> list[FieldProblem]:  # fmt: skip
    """What makes a form unusable: no criteria, a criterion id twice, a negative weight, a
    zero weight on an item that is not auto-fail, weights that do not add up to 100."""
    if not criteria:
        return [(where, "a form needs at least one criterion")]
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for i, c in enumerate(criteria):
        if c.criterion_id in seen:
            problems.append((f"{where}[{i}].criterion_id", f"{c.criterion_id!r} appears twice"))
        seen.add(c.criterion_id)
        if c.weight < 0:
            problems.append((f"{where}[{i}].weight", "must not be negative"))
        elif c.weight == 0 and not c.auto_fail:
            problems.append((f"{where}[{i}].weight", "only an auto-fail item may weigh 0"))
    total = sum(c.weight for c in criteria)
    if abs(total - WEIGHT_TOTAL) > WEIGHT_TOLERANCE:
        problems.append((where, f"the weights add up to {total:g}; they must add "
                              f"up to {WEIGHT_TOTAL:g}"))
    return problems


def answer_problems(form: Form, answers: Sequence[Answer],
                    where: str = "body.answers") -> list[FieldProblem]:  # fmt: skip
    """Every criterion answered once, within its points, N/A only where allowed."""
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for i, a in enumerate(answers):
        c = form.criterion(a.criterion_id)
        if c is None:
            problems.append((f"{where}[{i}].criterion_id",
                             f"form {form.form_id} v{form.version} has no {a.criterion_id!r}"))
            continue
        if a.criterion_id in seen:
            problems.append((f"{where}[{i}].criterion_id", f"{a.criterion_id!r} answered twice"))
        seen.add(a.criterion_id)
        if a.points is None and not c.allow_na:
            problems.append((f"{where}[{i}].points", f"{c.criterion_id!r} may not be N/A"))
        elif a.points is not None and not 0 <= a.points <= c.max_points:
            problems.append((f"{where}[{i}].points", f"from 0 to {c.max_points}"))
    missing = [c.criterion_id for c in form.criteria if c.criterion_id not in seen]
    if missing:
        problems.append((where, f"not answered: {', '.join(missing)}"))
    return problems


def score(form: Form, answers: Sequence[Answer]) -> Result:
    """The evaluation's result; `answers` must be free of `answer_problems`."""
    by_id = {a.criterion_id: a for a in answers}
    earned = possible = 0.0
    failed: list[str] = []
    for c in form.criteria:
        points = by_id[c.criterion_id].points
        if points is None:
            continue
        if c.auto_fail and points < c.max_points:
            failed.append(c.criterion_id)
        earned += c.weight * points / c.max_points
        possible += c.weight
    if failed:
        return Result(0.0, False, True, tuple(failed))
    if possible == 0:
        return Result(None, None, False, ())
    value = round(WEIGHT_TOTAL * earned / possible, 2)
    return Result(value, value >= form.passing_score, False, ())


def item_shares(form: Form, answers: Sequence[Answer]) -> dict[str, float | None]:
    """Each criterion's share earned, 0..100 (None: N/A)."""
    by_id = {a.criterion_id: a.points for a in answers}
    return {c.criterion_id: None if by_id.get(c.criterion_id) is None
            else round(WEIGHT_TOTAL * (by_id[c.criterion_id] or 0) / c.max_points, 2)
            for c in form.criteria}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Spread:
    count: int
    mean: float | None
    low: float | None
    high: float | None
    spread: float | None  # high - low
    stdev: float | None  # population standard deviation

    @classmethod
    def of(cls, values: Sequence[float | None]) -> Spread:
        known = [v for v in values if v is not None]
        if not known:
            return cls(0, None, None, None, None, None)
        return cls(len(known), round(statistics.fmean(known), 2), min(known), max(known),
                   round(max(known) - min(known), 2), round(statistics.pstdev(known), 2))


@dataclass(frozen=True, slots=True)
class ReviewerScore:
    score: float | None
    auto_failed: bool


@dataclass(frozen=True, slots=True)
class Calibration:
    reviewers: dict[str, ReviewerScore]
    score: Spread
    within_target: bool  # the score spread is at most `target` points
    target: float
    auto_fail_agreed: bool
    criteria: dict[str, Spread]  # each criterion's share earned, 0..100


def calibration(form: Form, scored: Mapping[str, Sequence[Answer]]) -> Calibration:
    """How far reviewers (`scored`: reviewer -> answers) are apart on one call and one form
    version: on the score and on each criterion."""
    results = {who: score(form, answers) for who, answers in scored.items()}
    shares = [item_shares(form, answers) for answers in scored.values()]
    overall = Spread.of([r.score for r in results.values()])
    return Calibration(
        reviewers={who: ReviewerScore(r.score, r.auto_failed) for who, r in results.items()},
        score=overall,
        within_target=overall.spread is not None and overall.spread <= CALIBRATION_TARGET,
        target=CALIBRATION_TARGET,
        auto_fail_agreed=len({r.auto_failed for r in results.values()}) <= 1,
        criteria={c.criterion_id: Spread.of([s[c.criterion_id] for s in shares])
                  for c in form.criteria},
    )  # fmt: skip
