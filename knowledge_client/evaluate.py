"""Measure the embedded source on a question set: `python -m knowledge_client.evaluate [TSV...]`.

A set is lines of `text<TAB>expected item id` (or `none` when the FAQ has no answer); `#` starts
a comment. Prints, per set: hit@1 and hit@3 on answerable questions, what the funnel
(`ranking.choose`) decides, false answers on unanswerable ones, and search latency.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge_client.embedded import DEFAULT_FAQ, EmbeddedKnowledge
from knowledge_client.model import Query, SearchResult
from knowledge_client.ranking import (
    DEFAULT_CLOSE_MARGIN,
    DEFAULT_MIN_SCORE,
    Answer,
    Disambiguate,
    choose,
)

DATA = Path(__file__).parent / "data"
DEFAULT_SETS = (DATA / "faq_eval.tsv", DATA / "faq_holdout.tsv")
NONE = "none"


@dataclass(frozen=True, slots=True)
class Case:
    text: str
    expected: str


def read_cases(path: Path) -> list[Case]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        text, sep, expected = line.partition("\t")
        if not sep:
            raise SystemExit(f"{path}:{number}: expected text<TAB>item id")
        cases.append(Case(text.strip(), expected.strip()))
    return cases


def outcome(case: Case, result: SearchResult, min_score: float, close_margin: float) -> str:
    decision = choose(result, min_score=min_score, close_margin=close_margin)
    if case.expected == NONE:
        return "false_answer" if isinstance(decision, Answer | Disambiguate) else "rejected"
    if isinstance(decision, Answer):
        return "answered" if decision.item.item_id == case.expected else "wrong_answer"
    if isinstance(decision, Disambiguate):
        offered = {decision.a.item_id, decision.b.item_id}
        return "asked_to_choose" if case.expected in offered else "wrong_choice"
    return "missed"


def report(name: str, cases: Sequence[Case], results: Sequence[SearchResult],
           min_score: float, close_margin: float, verbose: bool) -> None:
    answerable = [(c, r) for c, r in zip(cases, results, strict=True) if c.expected != NONE]
    hit1 = sum(1 for c, r in answerable if r.items[:1] and r.items[0].item_id == c.expected)
    hit3 = sum(1 for c, r in answerable if c.expected in {i.item_id for i in r.items[:3]})
    outcomes = Counter(outcome(c, r, min_score, close_margin) for c, r in zip(cases, results,
                                                                               strict=True))
    took = sorted(r.took_ms for r in results)
    n = len(answerable)
    print(f"{name}: {len(cases)} questions, {n} answerable")
    print(f"  hit@1 {hit1}/{n} = {hit1 / max(n, 1):.0%}   "
          f"hit@3 {hit3}/{n} = {hit3 / max(n, 1):.0%}")
    print(f"  funnel (min_score {min_score}, close_margin {close_margin}): "
          + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    p95 = took[min(len(took) - 1, int(0.95 * len(took)))]
    print(f"  search latency p50 {statistics.median(took):.2f} ms, p95 {p95:.2f} ms")
    if verbose:
        for c, r in zip(cases, results, strict=True):
            got = [(i.item_id, i.score) for i in r.items]
            mark = outcome(c, r, min_score, close_margin)
            print(f"    [{mark}] {c.text!r} expected {c.expected}: {got}")


async def evaluate(sets: Sequence[Path], faq: Path, min_score: float, close_margin: float,
                   verbose: bool) -> None:
    async with EmbeddedKnowledge(faq) as kb:
        for path in sets:
            cases = read_cases(path)
            results = [await kb.search(Query(c.text), limit=3) for c in cases]
            report(path.name, cases, results, min_score, close_margin, verbose)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, default=list(DEFAULT_SETS))
    parser.add_argument("--faq", type=Path, default=DEFAULT_FAQ)
    parser.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE)
    parser.add_argument("--close-margin", type=float, default=DEFAULT_CLOSE_MARGIN)
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per question")
    args = parser.parse_args(argv)
    asyncio.run(evaluate(args.sets, args.faq, args.min_score, args.close_margin, args.verbose))


if __name__ == "__main__":
    main()
