"""Issue 14: an exact grammar phrase acts whatever the acoustic score, and the held-out
evaluation set stays apart from everything the team tunes on (grammar, tuning set)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.intents import DEFAULT_HIGH, Action, classify, decide_action, normalize
from ivr.speech.catalog import DEMO_INTENTS, load_catalog
from ivr.speech.evaluate import DEFAULT_SET, HELDOUT_SET, read_set
from ivr.speech.port import Recognition

CATALOG = load_catalog(DEMO_INTENTS)
MAIN = CATALOG.menu("main_menu")


@pytest.mark.parametrize("confidence", [0.05, 0.2, 0.42, 0.6, 1.0])
def test_an_exact_in_grammar_transcript_acts_at_any_acoustic_confidence(
        confidence: float) -> None:
    result = classify(Recognition("i need a tow", confidence), MAIN)
    assert result.intent == "roadside"
    assert decide_action(result) is Action.ACT


def test_the_roadside_phrase_of_the_flaky_e2e_run_acts_at_its_measured_confidence() -> None:
    # Measured once: "i need roadside assistance" heard word for word at 0.42 → confirmation.
    result = classify(Recognition("roadside assistance", 0.42), MAIN)
    assert result.confidence >= DEFAULT_HIGH


def test_a_transcript_that_is_not_a_phrase_still_pays_for_a_low_acoustic_score() -> None:
    sure = classify(Recognition("i need a tow for my car", 1.0), MAIN)
    unsure = classify(Recognition("i need a tow for my car", 0.2), MAIN)
    assert unsure.intent == sure.intent == "roadside"
    assert unsure.confidence < sure.confidence


def test_a_phrase_two_intents_share_is_not_exact_for_either() -> None:
    menu = (MAIN[0], type(MAIN[0])("other", ("check my claim",)))
    shared = classify(Recognition("check my claim", 0.3), menu)
    alone = classify(Recognition("check my claim", 0.3), menu[:1])
    assert shared.confidence < alone.confidence


def _texts(path: Path) -> set[str]:
    return {normalize(item.text) for item in read_set(path)}


def test_the_heldout_set_is_big_enough_and_covers_every_main_menu_intent() -> None:
    items = read_set(HELDOUT_SET)
    assert len(items) >= 300
    assert {i.intent for i in items} == {spec.name for spec in MAIN}


def test_no_heldout_line_is_a_grammar_phrase_or_a_tuning_line() -> None:
    grammar = {normalize(e) for specs in CATALOG.menus.values() for s in specs
               for e in s.examples}
    heldout = _texts(HELDOUT_SET)
    assert heldout.isdisjoint(grammar), sorted(heldout & grammar)
    assert heldout.isdisjoint(_texts(DEFAULT_SET)), sorted(heldout & _texts(DEFAULT_SET))
