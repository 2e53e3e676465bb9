"""What a caller wants, from what the recognizer heard: intents, scoring, act/confirm/reprompt.

Pure: no I/O, no models. The score survives recognition errors by (1) normalising text
(case, contractions, digits), (2) matching tokens softly — spelling similarity and a phonetic
key, so "clam" still counts as "claim" —, (3) weighting tokens by how well they tell this
menu's intents apart (words every intent shares weigh little) and (4) pooling the recognizer's
n-best alternatives by their confidence. An extra similarity (e.g. sentence embeddings) can be
injected as `similarity`; this module never loads one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Protocol

__all__ = [
    "AGENT", "DEFAULT_HIGH", "DEFAULT_LOW", "NO", "SURVEY_DIGITS", "YES", "Action", "IntentScore",
    "IntentSpec", "Similarity", "classify", "decide_action", "intent_for_key", "normalize",
    "tokens", "with_agent",
]

DEFAULT_HIGH = 0.70  # at or above: act on the intent (tuned with ivr/speech/evaluate.py)
DEFAULT_LOW = 0.40  # below: reprompt; in between: confirm


@dataclass(frozen=True, slots=True)
class IntentSpec:
    """An intent a menu listens for: example phrases and the keys that mean the same."""

    name: str
    examples: tuple[str, ...]
    keys: tuple[str, ...] = ()


# Universal intents (issue 4): zero-out to a human at every menu, confirmations, survey digits.
# ivr/flows/intents.yaml repeats them (a test keeps the two equal); flows may list them unset.
AGENT = IntentSpec("agent", (
    "agent", "an agent", "operator", "representative", "a person", "a real person", "human",
    "a human being", "speak to someone", "talk to somebody", "speak to a person",
    "talk to a representative", "customer service", "transfer me", "let me talk to an agent",
    "a live person", "a live agent", "a real human", "talk to a human", "speak to a representative",
    "connect me to an agent", "speak with somebody", "a customer service representative",
    "I want a person",
), ("0",))
YES = IntentSpec("yes", ("yes", "yeah", "yep", "correct", "that is right", "right", "sure",
                         "exactly", "absolutely", "yes please", "that is correct"), ("1",))
NO = IntentSpec("no", ("no", "nope", "wrong", "that is wrong", "not really", "no thanks",
                       "incorrect", "that is not right", "no it is not"), ("2",))
SURVEY_DIGITS = tuple(
    IntentSpec(word, (word, f"a {word}", f"number {word}", f"{word} star{'s' * (digit > 1)}",
                      f"I give it a {word}"), (str(digit),))
    for digit, word in enumerate(("one", "two", "three", "four", "five"), start=1)
)


class Hypothesis(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def confidence(self) -> float: ...


class RecognitionLike(Hypothesis, Protocol):
    """What `classify` reads from a recognition: best text, its confidence, the n-best."""

    @property
    def alternatives(self) -> Sequence[Hypothesis]: ...


Similarity = Callable[[str, Sequence[str]], Sequence[float]]
"""(utterance, example phrases) → similarity 0..1 per example, e.g. embedding cosines."""


@dataclass(frozen=True, slots=True)
class IntentScore:
    """The best intent (None: nothing matched), its confidence 0..1 and every intent's score."""

    intent: str | None
    confidence: float
    runner_up: str | None = None
    scores: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))


class Action(StrEnum):
    ACT = "act"
    CONFIRM = "confirm"
    REPROMPT = "reprompt"


def decide_action(score: IntentScore, *, high: float = DEFAULT_HIGH,
                  low: float = DEFAULT_LOW) -> Action:
    """High confidence acts, middle confirms ("You want to check a claim, right?"), low
    reprompts."""
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(f"thresholds must satisfy 0 <= low <= high <= 1, got {low}, {high}")
    if score.intent is None or score.confidence < low:
        return Action.REPROMPT
    return Action.ACT if score.confidence >= high else Action.CONFIRM


def intent_for_key(key: str, intents: Iterable[IntentSpec]) -> str | None:
    """The intent a keypad key means at this menu."""
    return next((spec.name for spec in intents if key in spec.keys), None)


def with_agent(intents: Sequence[IntentSpec]) -> tuple[IntentSpec, ...]:
    """The menu's intents plus `agent`, which every menu hears (zero-out)."""
    if any(spec.name == AGENT.name for spec in intents):
        return tuple(intents)
    return (*intents, AGENT)


# --- text -------------------------------------------------------------------------------------

_CONTRACTIONS = {
    "i'm": "i am", "i'd": "i would", "i've": "i have", "i'll": "i will", "it's": "it is",
    "that's": "that is", "what's": "what is", "there's": "there is", "won't": "will not",
    "can't": "can not", "cannot": "can not", "let's": "let us", "y'all": "you all",
}
_SUFFIXES = (("n't", " not"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"), ("'d", " would"),
             ("'s", ""))
_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
# Carrier words: present in most phrasings of any intent, so they say little about which one.
_CARRIER = frozenset(
    [
        "i", "a", "an", "the", "to", "my", "me", "please", "want", "wanna", "would", "like", "need",
        "is", "it", "of", "on", "for", "and", "can", "could", "you", "your", "am", "be", "do",
        "have", "has", "this", "with", "about", "in", "calling", "call", "some", "just", "um", "uh",
        "er", "so", "well", "hi", "hello", "oh", "okay", "ok", "get", "got", "give", "let", "us",
        "we", "our"
    ])
_CARRIER_WEIGHT = 0.15
_BIGRAM_SHARE = 0.25
_UNKNOWN_WEIGHT = 0.5  # a word no intent uses: it makes every intent a little less likely


def normalize(text: str) -> str:
    """Lower case, contractions spelled out, digits as words, punctuation gone."""
    words: list[str] = []
    for raw in _WORD.findall(text.lower().replace("\u2019", "'")):
        word = _CONTRACTIONS.get(raw, raw)
        if word == raw and "'" in raw:
            word = next((raw[: -len(s)] + r for s, r in _SUFFIXES if raw.endswith(s)), raw)
        words.append(word)
    joined = " ".join(words)
    joined = re.sub(r"\d", lambda m: f" {_DIGITS[int(m.group())]} ", joined)
    return " ".join(_CJK.sub(lambda m: f" {m.group()} ", joined).split())


def tokens(text: str) -> tuple[str, ...]:
    """Normalised words; each CJK character is its own token (Chinese has no spaces)."""
    return tuple(normalize(text).split())


@lru_cache(maxsize=4096)
def _phonetic(word: str) -> str:
    """A coarse sound key (Soundex-like, vowels kept as one class) for near-homophones."""
    groups = ("aeiouyhw", "bfpv", "cgjkqsxz", "dt", "l", "mn", "r")
    code = {ch: str(i) for i, letters in enumerate(groups) for ch in letters}
    key = word[:1]
    last = code.get(word[:1], "")
    for ch in word[1:]:
        digit = code.get(ch, ch)
        if digit != last and digit != "0":
            key += digit
        last = digit
    return key


@lru_cache(maxsize=65536)
def token_similarity(a: str, b: str) -> float:
    """1 for the same word, high for a near spelling or the same sound key, else 0."""
    if a == b:
        return 1.0
    if _CJK.match(a) or _CJK.match(b):
        return 0.0
    ratio = SequenceMatcher(None, a, b).ratio()
    phonetic = 0.8 if min(len(a), len(b)) >= 3 and _phonetic(a) == _phonetic(b) else 0.0
    fuzzy = ratio * 0.9 if ratio >= 0.75 else 0.0
    return max(phonetic, fuzzy)


# --- scoring ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Model:
    """Per menu: each intent's examples as token tuples, its vocabulary, and token weights."""

    examples: Mapping[str, tuple[tuple[str, ...], ...]]
    vocab: Mapping[str, frozenset[str]]
    weights: Mapping[str, float]

    def weight(self, token: str) -> float:
        if token in _CARRIER:
            return _CARRIER_WEIGHT * self.weights.get(token, 1.0)
        return self.weights.get(token, _UNKNOWN_WEIGHT)


def _model(intents: Sequence[IntentSpec]) -> _Model:
    examples = {spec.name: tuple(t for e in spec.examples if (t := tokens(e)))
                for spec in intents}
    vocab = {name: frozenset(t for ex in exs for t in ex) for name, exs in examples.items()}
    count = max(1, len(vocab))
    weights: dict[str, float] = {}
    for word in set().union(*vocab.values()) if vocab else ():
        spread = sum(word in v for v in vocab.values())
        idf = math.log(1 + count / spread) / math.log(1 + count)  # 1 for a word of one intent
        weights[word] = idf
    return _Model(examples, vocab, weights)


def _best_match(token: str, candidates: Iterable[str]) -> float:
    return max((token_similarity(token, c) for c in candidates), default=0.0)


def _text_scores(words: tuple[str, ...], model: _Model) -> dict[str, float]:
    """Soft F1 per intent: best example's weighted recall × share of the words it explains."""
    scores: dict[str, float] = {}
    total = sum(model.weight(w) for w in words)
    pairs = set(zip(words, words[1:], strict=False))
    for name, examples in model.examples.items():
        if not words or not examples or total == 0:
            scores[name] = 0.0
            continue
        vocab = model.vocab[name]
        precision = sum(model.weight(w) * _best_match(w, vocab) for w in words) / total
        best = 0.0
        for example in examples:
            recall = _recall(example, words, pairs, model)
            if recall + precision > 0:
                best = max(best, 2 * recall * precision / (recall + precision))
        scores[name] = best
    return scores


def _recall(example: tuple[str, ...], words: tuple[str, ...],
            pairs: set[tuple[str, str]], model: _Model) -> float:
    """How much of the example the words contain; word order counts a little (adjacent pairs),
    so "my claim" leans to the status of a claim and "a claim" to a new one."""
    need = sum(model.weight(t) for t in example) or 1.0
    unigram = sum(model.weight(t) * _best_match(t, words) for t in example) / need
    if len(example) < 2 or _BIGRAM_SHARE == 0:
        return unigram
    bigrams = list(zip(example, example[1:], strict=False))
    weight = [model.weight(a) + model.weight(b) for a, b in bigrams]
    hits = sum(w for (a, b), w in zip(bigrams, weight, strict=True) if (a, b) in pairs)
    return (1 - _BIGRAM_SHARE) * unigram + _BIGRAM_SHARE * hits / (sum(weight) or 1.0)


def classify(recognition: RecognitionLike, intents: Sequence[IntentSpec], *,
             similarity: Similarity | None = None, embedding_weight: float = 0.5) -> IntentScore:
    """Score every intent of the active menu against the recognition and its n-best.

    Alternatives are pooled by their confidence; the returned confidence also falls when the
    runner-up is close (the caller should be asked) and when the recognizer was unsure.
    """
    model = _model(intents)
    hypotheses = _hypotheses(recognition)
    pooled = dict.fromkeys(model.examples, 0.0)
    mass = sum(weight for _, weight in hypotheses)
    for text, weight in hypotheses:
        words = tokens(text)
        scores = _text_scores(words, model)
        if similarity is not None and words:
            scores = _blend(scores, " ".join(words), intents, similarity, embedding_weight)
        for name, value in scores.items():
            pooled[name] += value * weight / mass if mass > 0 else 0.0
    ranked = sorted(pooled.items(), key=lambda kv: kv[1], reverse=True)
    if not ranked or round(ranked[0][1], 4) <= 0.0:  # as reported: a vanishing match is none
        return IntentScore(None, 0.0, None, MappingProxyType({k: round(v, 4) for k, v in ranked}))
    (top, s1), (second, s2) = ranked[0], (ranked[1] if len(ranked) > 1 else (None, 0.0))
    margin = 1.0 - math.exp(-(s1 - s2) / 0.12)  # close runner-up → ask rather than act
    heard = 0.5 + 0.5 * min(1.0, max(0.0, recognition.confidence))
    if _exact_example(recognition.text, top, intents):
        # Word for word one phrase of the intent, and of no other: the acoustic score alone
        # (it varied 0.42..0.9 for the same audio, issue 14) must not send it to confirmation.
        heard = 1.0
    confidence = round(s1 * (0.4 + 0.6 * margin) * heard, 4)
    return IntentScore(top, confidence, second if s2 > 0 else None,
                       MappingProxyType({k: round(v, 4) for k, v in ranked}))


def _exact_example(text: str, intent: str, intents: Sequence[IntentSpec]) -> bool:
    """`text` is, once normalised, an example of `intent` and of no other intent here."""
    said = normalize(text)
    owners = {spec.name for spec in intents
              if any(normalize(example) == said for example in spec.examples)}
    return bool(said) and owners == {intent}


def _hypotheses(recognition: RecognitionLike) -> list[tuple[str, float]]:
    """(text, weight) for the best text and each distinct alternative."""
    seen: dict[str, float] = {}
    candidates = [(recognition.text, max(recognition.confidence, 1e-3))]
    candidates += [(alt.text, max(alt.confidence, 0.0)) for alt in recognition.alternatives]
    for text, weight in candidates:
        key = normalize(text)
        if key and weight > 0 and key not in seen:
            seen[key] = weight
    return list(seen.items())


def _blend(scores: dict[str, float], text: str, intents: Sequence[IntentSpec],
           similarity: Similarity, weight: float) -> dict[str, float]:
    blended = dict(scores)
    for spec in intents:
        if spec.examples and spec.name in blended:
            best = max(similarity(text, spec.examples), default=0.0)
            blended[spec.name] = (1 - weight) * blended[spec.name] + weight * max(0.0, best)
    return blended
