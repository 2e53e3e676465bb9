"""ivr.intents: what a caller wants from what the recognizer heard, and what to do about it.

Pure: recognitions are built by hand (`ivr.speech.port.Recognition`), the menus are the demo
insurer's (`ivr/flows/intents.yaml`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ivr.intents import (
    AGENT,
    DEFAULT_HIGH,
    DEFAULT_LOW,
    NO,
    SURVEY_DIGITS,
    YES,
    Action,
    IntentScore,
    IntentSpec,
    classify,
    decide_action,
    intent_for_key,
    normalize,
    tokens,
    with_agent,
)
from ivr.speech.catalog import DEMO_INTENTS, load_catalog
from ivr.speech.port import Alternative, Recognition

CATALOG = load_catalog(DEMO_INTENTS)
MAIN = CATALOG.menu("main_menu")
CONFIRM = CATALOG.menu("confirm")
SURVEY = CATALOG.menu("survey")


def heard(text: str, confidence: float = 0.9,
          alternatives: Sequence[tuple[str, float]] = ()) -> Recognition:
    return Recognition(text, confidence, tuple(Alternative(t, c) for t, c in alternatives))


def score(text: str, menu: Sequence[IntentSpec] = MAIN, confidence: float = 0.9,
          alternatives: Sequence[tuple[str, float]] = ()) -> IntentScore:
    return classify(heard(text, confidence, alternatives), menu)


def _own_examples() -> list[tuple[str, str, str]]:
    """(menu, intent, example) for every example no other intent of the menu also lists."""
    found = []
    for menu, specs in CATALOG.menus.items():
        for spec in specs:
            for phrase in spec.examples:
                shared = any(normalize(phrase) in {normalize(e) for e in other.examples}
                             for other in specs if other.name != spec.name)
                if not shared:
                    found.append((menu, spec.name, phrase))
    return found


OWN_EXAMPLES = _own_examples()


# --- exact examples -------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "intent"), [
    ("check my claim", "claim_status"),
    ("billing", "billing"),
    ("operator", "agent"),
    ("roadside assistance", "roadside"),
    ("report a claim", "report_claim"),
    ("what does my policy cover", "policy_info"),
    ("make a complaint", "complaint"),
])
def test_an_exact_example_is_its_intent_with_high_confidence_and_acts(text: str,
                                                                      intent: str) -> None:
    result = score(text)
    assert result.intent == intent
    assert result.confidence >= DEFAULT_HIGH
    assert result.scores[intent] == 1.0
    assert decide_action(result) is Action.ACT


def test_the_catalog_has_examples_to_check() -> None:
    assert len(OWN_EXAMPLES) > 150
    assert {menu for menu, _, _ in OWN_EXAMPLES} == {"main_menu", "confirm", "survey"}


@pytest.mark.parametrize(("menu", "intent", "phrase"), OWN_EXAMPLES,
                         ids=[f"{m}:{e}" for m, _, e in OWN_EXAMPLES])
def test_every_example_of_the_demo_catalog_is_its_own_intent(menu: str, intent: str,
                                                             phrase: str) -> None:
    result = score(phrase, CATALOG.menu(menu), confidence=1.0)
    assert result.intent == intent, dict(result.scores)
    assert decide_action(result) is not Action.REPROMPT


# --- recognition errors and paraphrases ----------------------------------------------------

@pytest.mark.parametrize(("text", "intent"), [
    ("i want to pay my bil", "billing"),                  # a dropped letter
    ("uh i would like to pay my bill please", "billing"),  # carrier words around it
    ("chek my claim", "claim_status"),
    ("has my clam been approved", "claim_status"),       # "clam" sounds like "claim"
    ("what's the status of my claim", "claim_status"),   # contraction
    ("my car brok down", "roadside"),
    ("rodside assistance", "roadside"),
    ("I need a toe truck", "roadside"),                  # homophone
    ("I'm calling about a flat tyre", "roadside"),       # British spelling
    ("um i want to make a complant", "complaint"),
    ("reprezentative", "agent"),
    ("I wanna talk to a real person", "agent"),
    ("there was a fire in my kitchen", "report_claim"),
    ("I'd like to file a claim please", "report_claim"),
])
def test_near_misses_and_paraphrases_still_act(text: str, intent: str) -> None:
    result = score(text)
    assert result.intent == intent, dict(result.scores)
    assert decide_action(result) is Action.ACT


def test_a_misheard_operator_is_still_the_agent_but_only_confirmed() -> None:
    result = score("i'd like an operater")
    assert result.intent == "agent"
    assert decide_action(result) is Action.CONFIRM


def test_a_close_runner_up_lowers_confidence_to_confirm() -> None:
    result = score("a claim")  # a new claim, or an existing one?
    assert (result.intent, result.runner_up) == ("report_claim", "claim_status")
    assert result.scores["report_claim"] - result.scores["claim_status"] < 0.2
    assert DEFAULT_LOW <= result.confidence < DEFAULT_HIGH
    assert decide_action(result) is Action.CONFIRM


def test_the_margin_alone_changes_confidence() -> None:
    apple, cherry, sky = (IntentSpec("apple", ("red apple",)),
                          IntentSpec("cherry", ("red cherry",)), IntentSpec("sky", ("blue sky",)))
    tied = classify(heard("red", 1.0), (apple, cherry))
    alone = classify(heard("red", 1.0), (apple, sky))
    assert tied.scores["cherry"] == tied.scores["apple"] > 0
    assert alone.scores["sky"] == 0 and alone.runner_up is None
    # A tie keeps only 40 % of the match as confidence; a clear lead keeps nearly all of it.
    assert tied.confidence == pytest.approx(0.4 * tied.scores["apple"], abs=1e-3)
    assert alone.confidence > 0.95 * alone.scores["apple"]
    assert decide_action(tied) is Action.REPROMPT


def test_an_unsure_recognizer_lowers_confidence() -> None:
    sure = score("roadside help for my car", confidence=1.0)
    unsure = score("roadside help for my car", confidence=0.2)
    assert sure.intent == unsure.intent == "roadside"
    assert sure.scores == unsure.scores
    assert unsure.confidence < sure.confidence
    assert decide_action(sure) is Action.ACT and decide_action(unsure) is Action.CONFIRM


@pytest.mark.parametrize("text", ["", "   ", "?!", "...", "\t\n"])
def test_nothing_heard_is_no_intent(text: str) -> None:
    result = score(text)
    assert result.intent is None and result.runner_up is None
    assert result.confidence == 0.0
    assert set(result.scores) == {spec.name for spec in MAIN}
    assert all(value == 0.0 for value in result.scores.values())
    assert decide_action(result) is Action.REPROMPT


def test_an_empty_menu_hears_nothing() -> None:
    result = classify(heard("pay my bill"), ())
    assert (result.intent, result.confidence, dict(result.scores)) == (None, 0.0, {})


# --- word order ("my claim" vs "a claim") ---------------------------------------------------

@pytest.mark.parametrize(("text", "intent"), [
    ("my claim", "claim_status"),
    ("about my claim", "claim_status"),
    ("what about my claim", "claim_status"),
    ("a claim", "report_claim"),
    ("i need a claim", "report_claim"),
    ("I want to make a claim", "report_claim"),
])
def test_my_claim_leans_to_its_status_and_a_claim_to_a_new_one(text: str, intent: str) -> None:
    assert score(text).intent == intent


def test_word_order_counts_not_just_the_words() -> None:
    """The same words in another order lose the adjacent-pair bonus."""
    spec = (IntentSpec("status", ("claim status",)), IntentSpec("other", ("billing",)))
    in_order, reversed_ = classify(heard("claim status"), spec), classify(heard("status claim"),
                                                                          spec)
    assert in_order.intent == reversed_.intent == "status"
    assert reversed_.scores["status"] < in_order.scores["status"] == 1.0


# --- n-best ---------------------------------------------------------------------------------

NBEST = [("pay my bill", 0.25), ("pay my bills", 0.25), ("play my bill", 0.2)]


def test_agreeing_alternatives_rescue_a_weak_wrong_top_hypothesis() -> None:
    assert score("roadside help").intent == "roadside"
    result = score("roadside help", confidence=0.3, alternatives=NBEST)
    assert result.intent == "billing"
    assert result.runner_up == "roadside"


def test_alternatives_do_not_override_a_confident_top_hypothesis() -> None:
    weak = [(text, conf / 5) for text, conf in NBEST]  # e.g. pocketsphinx's halving ranks
    result = score("roadside help", confidence=0.9, alternatives=weak)
    assert result.intent == "roadside"
    assert decide_action(result) is Action.ACT
    # With the top hypothesis confident, even strong alternatives only cost it confidence.
    strong = score("roadside help", confidence=0.9, alternatives=NBEST)
    assert strong.intent == "roadside"
    assert strong.confidence < result.confidence


def test_alternatives_repeating_the_top_text_change_nothing() -> None:
    plain = score("pay my bill", confidence=0.6)
    echoed = score("pay my bill", confidence=0.6,
                   alternatives=[("Pay my bill!", 0.5), ("PAY MY BILL", 0.4)])
    assert echoed == plain


def test_alternatives_without_confidence_are_ignored() -> None:
    plain = score("roadside help", confidence=0.3)
    assert score("roadside help", confidence=0.3,
                 alternatives=[("pay my bill", 0.0), ("pay my bill now", -1.0)]) == plain


def test_an_empty_top_text_with_alternatives_uses_the_alternatives() -> None:
    result = score("", confidence=0.0, alternatives=[("operator", 0.6)])
    assert result.intent == "agent"


# --- agent, keys, survey ----------------------------------------------------------------------

def test_every_menu_hears_the_agent() -> None:
    billing_only = (IntentSpec("billing", ("pay my bill",), ("1",)),)
    menu = with_agent(billing_only)
    assert [spec.name for spec in menu] == ["billing", "agent"]
    assert menu[-1] is AGENT
    assert with_agent(menu) == menu  # not twice
    for text in ("operator", "let me talk to a representative", "a real person",
                 "customer service"):
        result = classify(heard(text), menu)
        assert result.intent == "agent", text
        assert decide_action(result) is Action.ACT
    assert intent_for_key("0", menu) == "agent"
    assert classify(heard("operator"), billing_only).intent != "agent"


def test_a_menu_that_defines_its_own_agent_keeps_it() -> None:
    own = (IntentSpec("billing", ("pay my bill",)), IntentSpec("agent", ("a human",), ("9",)))
    assert with_agent(own) == own
    assert intent_for_key("9", with_agent(own)) == "agent"
    assert intent_for_key("0", with_agent(own)) is None


@pytest.mark.parametrize(("menu", "key", "intent"), [
    ("main_menu", "1", "claim_status"), ("main_menu", "2", "report_claim"),
    ("main_menu", "3", "policy_info"), ("main_menu", "4", "billing"),
    ("main_menu", "5", "roadside"), ("main_menu", "6", "complaint"),
    ("main_menu", "0", "agent"), ("main_menu", "9", None), ("main_menu", "#", None),
    ("confirm", "1", "yes"), ("confirm", "2", "no"), ("confirm", "0", "agent"),
    ("confirm", "3", None),
    ("survey", "1", "one"), ("survey", "5", "five"), ("survey", "0", "agent"),
    ("survey", "6", None),
])
def test_keypad_keys_mean_the_menus_intents(menu: str, key: str, intent: str | None) -> None:
    assert intent_for_key(key, CATALOG.menu(menu)) == intent


def test_universal_intents_have_their_usual_keys() -> None:
    assert intent_for_key("0", (AGENT,)) == "agent"
    assert intent_for_key("1", (YES, NO)) == "yes" and intent_for_key("2", (YES, NO)) == "no"
    assert [intent_for_key(str(d), SURVEY_DIGITS) for d in range(1, 6)] == [
        "one", "two", "three", "four", "five"]
    assert intent_for_key("", SURVEY_DIGITS) is None


@pytest.mark.parametrize(("text", "intent"), [
    ("five stars", "five"), ("5 stars", "five"), ("I give it a 5", "five"), ("five", "five"),
    ("4 stars", "four"), ("a four", "four"), ("three", "three"), ("3", "three"),
    ("number 2", "two"), ("one star", "one"), ("1 star", "one"),
])
def test_survey_ratings_by_voice(text: str, intent: str) -> None:
    for menu in (SURVEY, with_agent(SURVEY_DIGITS)):
        result = classify(heard(text), menu)
        assert result.intent == intent, text
        assert decide_action(result) is Action.ACT


@pytest.mark.parametrize(("text", "intent"), [
    ("yes", "yes"), ("yeah that is right", "yes"), ("that's correct", "yes"),
    ("no", "no"), ("nope", "no"), ("that's not right", "no"), ("operator", "agent"),
])
def test_confirmations_by_voice(text: str, intent: str) -> None:
    result = score(text, CONFIRM)
    assert result.intent == intent
    assert decide_action(result) is Action.ACT


def test_the_intents_file_repeats_the_universal_intents_exactly() -> None:
    raw = yaml.safe_load(DEMO_INTENTS.read_text(encoding="utf-8"))["intents"]
    for spec in (AGENT, YES, NO, *SURVEY_DIGITS):
        assert tuple(str(e) for e in raw[spec.name]["examples"]) == spec.examples, spec.name


# --- injected similarity ----------------------------------------------------------------------

def test_an_injected_similarity_can_carry_what_the_words_do_not() -> None:
    def money(text: str, examples: Sequence[str]) -> list[float]:
        return [1.0 if "bill" in e else 0.0 for e in examples]

    assert score("money trouble").intent != "billing"
    result = classify(heard("money trouble"), MAIN, similarity=money)
    assert result.intent == "billing"
    assert classify(heard(""), MAIN, similarity=money).intent is None  # nothing heard


# --- actions -------------------------------------------------------------------------------

@pytest.mark.parametrize(("intent", "confidence", "action"), [
    ("billing", 1.0, Action.ACT),
    ("billing", DEFAULT_HIGH, Action.ACT),
    ("billing", DEFAULT_HIGH - 0.001, Action.CONFIRM),
    ("billing", DEFAULT_LOW, Action.CONFIRM),
    ("billing", DEFAULT_LOW - 0.001, Action.REPROMPT),
    ("billing", 0.0, Action.REPROMPT),
    (None, 1.0, Action.REPROMPT),
])
def test_decide_action_thresholds(intent: str | None, confidence: float,
                                  action: Action) -> None:
    assert decide_action(IntentScore(intent, confidence)) is action


def test_decide_action_with_a_menu_s_own_thresholds() -> None:
    middling = IntentScore("billing", 0.5)
    assert decide_action(middling, high=0.5, low=0.5) is Action.ACT
    assert decide_action(middling, high=0.9, low=0.6) is Action.REPROMPT
    assert decide_action(middling, high=1.0, low=0.0) is Action.CONFIRM


@pytest.mark.parametrize(("high", "low"), [(0.4, 0.7), (1.1, 0.5), (0.5, -0.1)])
def test_decide_action_refuses_thresholds_out_of_order(high: float, low: float) -> None:
    with pytest.raises(ValueError, match="thresholds"):
        decide_action(IntentScore("billing", 0.5), high=high, low=low)


# --- text ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "normal"), [
    ("I'm calling, it's about my BILL!", "i am calling it is about my bill"),
    ("Don't, won't, can't", "do not will not can not"),
    ("what\u2019s my claim's status", "what is my claim status"),
    ("I'd pay 25 dollars", "i would pay two five dollars"),
    ("  lots   of\tspace ", "lots of space"),
    ("", ""),
])
def test_normalize(text: str, normal: str) -> None:
    assert normalize(text) == normal


def test_tokens_split_chinese_into_characters() -> None:
    assert tokens("我要付款 my bill") == ("我", "要", "付", "款", "my", "bill")
    assert tokens("Check my claim.") == ("check", "my", "claim")


# --- properties ------------------------------------------------------------------------------

VOCABULARY = sorted({t for specs in CATALOG.menus.values() for spec in specs
                     for e in spec.examples for t in tokens(e)})
WORDS = st.one_of(st.sampled_from(VOCABULARY), st.text(min_size=1, max_size=8))
UTTERANCES = st.lists(WORDS, max_size=12).map(" ".join)
CONFIDENCES = st.floats(min_value=-1.0, max_value=2.0, allow_nan=False)
RECOGNITIONS = st.builds(
    Recognition, UTTERANCES, CONFIDENCES,
    st.lists(st.builds(Alternative, UTTERANCES, CONFIDENCES), max_size=4).map(tuple))
MENUS = st.sampled_from(sorted(CATALOG.menus))


@settings(max_examples=300, deadline=None)
@given(RECOGNITIONS, MENUS)
def test_confidence_is_always_between_zero_and_one(recognition: Recognition,
                                                   menu: str) -> None:
    result = classify(recognition, CATALOG.menu(menu))
    assert 0.0 <= result.confidence <= 1.0
    assert all(0.0 <= value <= 1.0 for value in result.scores.values())


@settings(max_examples=200, deadline=None)
@given(RECOGNITIONS, MENUS)
def test_classify_is_deterministic(recognition: Recognition, menu: str) -> None:
    specs = CATALOG.menu(menu)
    assert classify(recognition, specs) == classify(recognition, specs)


@settings(max_examples=300, deadline=None)
@given(RECOGNITIONS, MENUS)
def test_no_intent_means_nothing_scored_and_the_intent_is_the_best(recognition: Recognition,
                                                                   menu: str) -> None:
    result = classify(recognition, CATALOG.menu(menu))
    assert set(result.scores) == {spec.name for spec in CATALOG.menu(menu)}
    if result.intent is None:
        assert all(value == 0.0 for value in result.scores.values())
        assert result.confidence == 0.0 and result.runner_up is None
    else:
        assert result.scores[result.intent] == max(result.scores.values())
        assert result.runner_up != result.intent


@settings(max_examples=300, deadline=None)
@given(RECOGNITIONS, MENUS)
@example(Recognition("a 00", 0.0, (Alternative("about", 1.0),)), "survey")
@example(Recognition("0", 0.0, (Alternative("a", 1e-200),)), "confirm")
def test_no_intent_exactly_when_nothing_scored(recognition: Recognition, menu: str) -> None:
    result = classify(recognition, CATALOG.menu(menu))
    nothing = all(value == 0.0 for value in result.scores.values())
    assert (result.intent is None) == nothing, result


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(OWN_EXAMPLES), st.floats(min_value=0.0, max_value=1.0))
def test_an_exact_example_is_its_own_intent_however_sure_the_recognizer(
        case: tuple[str, str, str], confidence: float) -> None:
    menu, intent, phrase = case
    assert classify(heard(phrase, confidence), CATALOG.menu(menu)).intent == intent
